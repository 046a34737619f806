package replay

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultWorkers          = 16
	DefaultTimeout          = 5 * time.Second
	DefaultMaxResponseBytes = 1 << 20
	DefaultMarkerHeader     = "X-Shadow-Request"
	DefaultMarkerValue      = "1"
)

// Config says where recorded requests go and how fast. The zero value of
// every field but Candidate takes its documented default.
type Config struct {
	// Candidate is the base URL of the version under test; each recorded
	// request URI is appended to it. Required.
	Candidate string
	// Rate is requests started per second, at a fixed rate (a
	// vegeta.ConstantPacer); 0 means as fast as Workers allow, unless
	// Speed is set. Rate and Speed exclude each other.
	Rate int
	// Speed, above 0, starts the requests at their recorded times: the
	// gaps between consecutive records' Received times, divided by Speed
	// (2 replays twice as fast, 0.5 at half speed). A record received
	// before the one before it (the next file, the next pass of a loop) or
	// without a time follows at once. 0 means Rate pacing.
	Speed float64
	// Loop starts over from the first record after the last, until
	// Duration has passed, Count requests were sent or Run's context
	// ends; a pass that sends nothing ends it too. False reads the records
	// once.
	Loop bool
	// Duration bounds the replay: no request starts after it, those in
	// flight finish. 0 means no bound.
	Duration time.Duration
	// Count bounds the requests sent (unsafe ones skipped do not count).
	// 0 means no bound.
	Count int64
	// Workers bounds the requests in flight; 0 means DefaultWorkers.
	Workers int
	// Timeout bounds each request, answer included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBytes is how much of each answer is kept for comparing;
	// the rest is read and counted (Response.Size) but not kept. 0 means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Unsafe replays POST, PUT, PATCH, DELETE (and any method that is not
	// GET, HEAD, OPTIONS or TRACE) too. False skips and counts them: a
	// candidate that writes to a shared database would repeat real side
	// effects.
	Unsafe bool
	// KeepSecondary keeps each record's secondary answer in the exchange
	// handed on, so noise is learned from it; false drops it.
	KeepSecondary bool
	// MarkerHeader and MarkerValue mark every replayed request; empty
	// means DefaultMarkerHeader and DefaultMarkerValue.
	MarkerHeader string
	MarkerValue  string
	// SetHeaders are set on every request, replacing recorded values:
	// recorded credentials are redacted, so this is where a replay gets
	// its own.
	SetHeaders http.Header
	// Client sends the requests. Nil means a client of the replayer's own
	// that sends headers exactly as recorded (no added Accept-Encoding,
	// no transparent decompression) and does not follow redirects.
	Client *http.Client
}

// Validate reports the first field that is out of range.
func (c Config) Validate() error {
	u, err := url.Parse(c.Candidate)
	switch {
	case c.Candidate == "":
		return errors.New("replay config: Candidate is empty")
	case err != nil:
		return fmt.Errorf("replay config: Candidate: %w", err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("replay config: Candidate %q is not an http(s) URL with a host", c.Candidate)
	case c.Rate < 0:
		return fmt.Errorf("replay config: Rate must not be negative, got %d", c.Rate)
	case !(c.Speed >= 0) || math.IsInf(c.Speed, 0):
		return fmt.Errorf("replay config: Speed must be a finite number above 0 (or 0 for Rate pacing), got %v", c.Speed)
	case c.Speed > 0 && c.Rate > 0:
		return fmt.Errorf("replay config: Rate %d and Speed %v exclude each other: a fixed rate, or the recorded timing scaled", c.Rate, c.Speed)
	case c.Duration < 0:
		return fmt.Errorf("replay config: Duration must not be negative, got %v", c.Duration)
	case c.Count < 0:
		return fmt.Errorf("replay config: Count must not be negative, got %d", c.Count)
	case c.Workers < 0:
		return fmt.Errorf("replay config: Workers must not be negative, got %d", c.Workers)
	case c.Timeout < 0:
		return fmt.Errorf("replay config: Timeout must not be negative, got %v", c.Timeout)
	case c.MaxResponseBytes < 0:
		return fmt.Errorf("replay config: MaxResponseBytes must not be negative, got %d", c.MaxResponseBytes)
	case c.MarkerHeader != "" && !validHeaderName(c.MarkerHeader):
		return fmt.Errorf("replay config: MarkerHeader %q is not a header name", c.MarkerHeader)
	}
	for name := range c.SetHeaders {
		if !validHeaderName(name) {
			return fmt.Errorf("replay config: SetHeaders: %q is not a header name", name)
		}
	}
	return nil
}

func validHeaderName(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	}) < 0
}
