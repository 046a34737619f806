package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/understudy-dev/understudy/bench"
	"github.com/understudy-dev/understudy/stats"
)

// config is one loadgen invocation's settings.
type config struct {
	rate              float64
	duration, warmup  time.Duration
	rounds            int
	group, path       string
	maxInFlight       int
	timeout, pollEach time.Duration
}

func (c config) validate() error {
	switch {
	case c.rate < 1:
		return fmt.Errorf("-rate: must be at least 1, got %v", c.rate)
	case c.duration <= 0:
		return fmt.Errorf("-duration: must be positive, got %s", c.duration)
	case c.warmup < 0:
		return fmt.Errorf("-warmup: must not be negative, got %s", c.warmup)
	case c.rounds < 1:
		return fmt.Errorf("-rounds: must be at least 1, got %d", c.rounds)
	case c.maxInFlight < 1:
		return fmt.Errorf("-max-in-flight: must be at least 1, got %d", c.maxInFlight)
	case c.timeout <= 0:
		return fmt.Errorf("-timeout: must be positive, got %s", c.timeout)
	}
	return nil
}

// tally is what one window's requests add up to.
type tally struct {
	lat                       stats.Histogram
	sent, ok, errors, skipped atomic.Int64
}

// measure runs one cell: a warm-up, then the measured window, with a fresh
// connection pool that is closed afterwards.
func measure(ctx context.Context, cfg config, t target) (bench.LatencyRecord, error) {
	transport := &http.Transport{
		MaxIdleConnsPerHost: cfg.maxInFlight,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	url := t.url + cfg.path

	if cfg.warmup > 0 {
		var warm tally
		attack(ctx, cfg, client, url, cfg.warmup, &warm)
	}
	var before bench.ShadowCounters
	if t.admin != "" {
		var err error
		if before, err = t.counters(ctx); err != nil {
			return bench.LatencyRecord{}, err
		}
	}
	var deepest int
	pollCtx, stopPoll := context.WithCancel(ctx)
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		if t.admin != "" && cfg.pollEach > 0 {
			deepest = t.pollDepth(pollCtx, cfg.pollEach)
		}
	}()
	var w tally
	attack(ctx, cfg, client, url, cfg.duration, &w)
	stopPoll()
	<-polled
	if err := ctx.Err(); err != nil {
		return bench.LatencyRecord{}, err
	}
	s := w.lat.Summary()
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	group := cfg.group
	if t.group != "" {
		group = t.group
	}
	rec := bench.LatencyRecord{
		Group: group, Target: t.name, Rate: cfg.rate, DurationS: cfg.duration.Seconds(),
		Sent: w.sent.Load(), OK: w.ok.Load(), Errors: w.errors.Load(), Skipped: w.skipped.Load(),
		P50us: us(s.P50), P90us: us(s.P90), P99us: us(s.P99), MaxUs: us(s.Max), MeanUs: us(s.Mean),
	}
	if t.admin != "" {
		after, err := t.counters(ctx)
		if err != nil {
			return bench.LatencyRecord{}, err
		}
		d := before.Delta(after)
		d.MaxQueueDepth = deepest
		rec.Mirror = &d
	}
	return rec, nil
}

// attack sends GETs to url at cfg.rate for d and waits for their answers
// (each bounded by cfg.timeout). Request n is due at (n+1)/rate after the
// start, the schedule of vegeta's ConstantPacer, and its latency runs from
// that due time to the end of its body. The pacing goroutine sleeps with
// nanosleep on a locked thread (see lockPacer).
func attack(ctx context.Context, cfg config, client *http.Client, url string, d time.Duration, w *tally) {
	pacer := vegeta.ConstantPacer{Freq: int(cfg.rate), Per: time.Second}
	interval := time.Duration(float64(time.Second) / float64(pacer.Freq))
	var inFlight atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	defer lockPacer()()
	began := time.Now()
	for hits := uint64(0); ; hits++ {
		due := began.Add(time.Duration(hits+1) * interval)
		if due.Sub(began) > d || ctx.Err() != nil {
			return
		}
		wait, stop := pacer.Pace(time.Since(began), hits)
		if stop {
			return
		}
		sleepFor(wait)
		w.sent.Add(1)
		if inFlight.Load() >= int64(cfg.maxInFlight) {
			w.skipped.Add(1)
			continue
		}
		inFlight.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inFlight.Add(-1)
			if hit(ctx, client, url, cfg.timeout) {
				w.lat.Record(time.Since(due))
				w.ok.Add(1)
			} else {
				w.errors.Add(1)
			}
		}()
	}
}

// hit sends one GET and reads the whole answer; it reports whether the
// answer was a 200.
func hit(ctx context.Context, client *http.Client, url string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err == nil && resp.StatusCode == http.StatusOK
}
