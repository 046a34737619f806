package mirror

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Defaults used for the zero values of Config.
const (
	DefaultMaxBodyBytes     = 1 << 20
	DefaultMaxResponseBytes = 1 << 20
	DefaultQueueSize        = 1024
	DefaultWorkers          = 64
	DefaultCandidateTimeout = 5 * time.Second
	DefaultMaxQueueWait     = time.Second
	DefaultSamplePercent    = 100
	DefaultMarkerHeader     = "X-Shadow-Request"
	DefaultMarkerValue      = "1"

	DefaultMaxStreamBodyBytes = 64 << 20
	DefaultMaxSpooledBodies   = 8
	DefaultMaxBufferedBytes   = 64 << 20
	DefaultBodyReadTimeout    = 30 * time.Second
)

// The values of Config.CopyClient.
const (
	CopyClientLean      = "lean"
	CopyClientTransport = "transport"
)

// minQueueWait is the smallest positive Config.MaxQueueWait: below it,
// copies would be dropped for the time it takes a free worker to wake up.
const minQueueWait = time.Millisecond

// Config configures a Proxy. Zero values are documented defaults.
type Config struct {
	// Primary is the base URL of the live service (http or https). Its
	// answers are the ones clients get. Required.
	Primary string `mapstructure:"primary"`
	// Candidate is the base URL of the version under test. Required, and
	// must differ from Primary, unless Candidates lists the versions under
	// test instead.
	Candidate string `mapstructure:"candidate"`
	// Candidates lists several versions under test, each named, judged
	// against the primary side by side (see Candidate): every eligible
	// request is copied to each of them, and to the secondary once. Empty
	// means the single Candidate; it cannot be given with Candidate or
	// CandidateTarget.
	Candidates []Candidate `mapstructure:"candidates"`
	// Secondary is the base URL of a second copy of the live version, used
	// to learn which fields differ on their own. "" means none.
	Secondary string `mapstructure:"secondary"`

	// MaxBodyBytes is the largest request body that is held in memory to
	// be mirrored. Larger bodies are streamed to the primary and spooled
	// for the copies up to MaxStreamBodyBytes (see there). 0 means 1 MiB.
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
	// MaxStreamBodyBytes is the largest request body that is mirrored at
	// all. A body over MaxBodyBytes but within it is forwarded to the
	// primary as it arrives and, on the way, written to a spool file
	// (unlinked, mode 0600, in os.TempDir, that is $TMPDIR) from which the
	// copies are sent once the primary has read it whole. The client never
	// waits for a copy, but for these requests the candidate is asked
	// later than the primary: when the body has been read, not when the
	// primary's request starts. A larger body is forwarded and not
	// mirrored (Skipped["body_size"]). 0 means 64 MiB (streaming off when
	// MaxBodyBytes is that large already); negative turns streaming off, so
	// no body over MaxBodyBytes is mirrored.
	MaxStreamBodyBytes int64 `mapstructure:"max_stream_body_bytes"`
	// MaxSpooledBodies is how many bodies may be spooled at once (being
	// read, or waiting for their copy): the disk used is at most this
	// times MaxStreamBodyBytes. A large body arriving when all are in use
	// is forwarded and not mirrored (Skipped["stream"]). 0 means 8.
	MaxSpooledBodies int `mapstructure:"max_spooled_bodies"`
	// MaxBufferedBytes bounds the request bodies held in memory to be
	// mirrored, all requests together: each body is buffered as its bytes
	// arrive (never allocated ahead from its Content-Length), and a body
	// that would take the sum past this is forwarded to the primary as it
	// is and not mirrored (Skipped["body_budget"]). A body counts from its
	// first read until the primary has read it and its copies are sent (or
	// dropped). 0 means 64 MiB, or MaxBodyBytes when that is larger;
	// otherwise it must be at least MaxBodyBytes.
	MaxBufferedBytes int64 `mapstructure:"max_buffered_bytes"`
	// BodyReadTimeout is the longest the proxy waits for the next bytes
	// of a client's request body, every request's, mirrored or not: it is
	// set as the connection's read deadline before each read
	// (http.ResponseController.SetReadDeadline), so a client that stops
	// sending mid-body is cut off instead of holding a goroutine, a
	// connection and a buffer. Unless the primary has answered already,
	// the client gets 408 Request Timeout, and it is not counted as a
	// primary error. 0 means 30s; negative means no limit.
	BodyReadTimeout time.Duration `mapstructure:"body_read_timeout"`
	// MaxResponseBytes is how many bytes of each answer are kept for
	// comparing. The primary's answer is passed on whole; the candidate's
	// and the secondary's are read no further: their connection is closed
	// and the answer marked Truncated, its Size taken from its
	// Content-Length (0, unknown, without one). 0 means 1 MiB.
	MaxResponseBytes int64 `mapstructure:"max_response_bytes"`
	// QueueSize is how many copies may wait for a worker. When the queue is
	// full new copies are dropped. 0 means 1024.
	QueueSize int `mapstructure:"queue_size"`
	// Workers is how many copies are in flight at once. 0 means 64.
	Workers int `mapstructure:"workers"`
	// CandidateTimeout bounds each copy: the candidate and secondary
	// requests, and the longest a worker waits for the primary's answer to
	// finish. 0 means 5s.
	CandidateTimeout time.Duration `mapstructure:"candidate_timeout"`
	// MaxQueueWait is the longest a copy may wait in the queue for a
	// worker and still be sent. The candidate is meant to be asked when the
	// primary is, so that answers that depend on time or on changing state
	// line up; a copy that waited longer (every worker busy with a slow
	// candidate) would be compared with a primary answer that old, so the
	// worker that takes it does not send it: it is dropped and counted
	// (Stats.Stale). For a streamed body (MaxStreamBodyBytes) the wait
	// starts when its copy is queued, once the primary has read the body.
	// 0 means 1s, or CandidateTimeout when that is shorter: a copy older
	// than the time its candidate is given to answer is not worth sending.
	// Negative means no limit: every queued copy is sent, however late.
	// A positive value must be at least 1ms, so that a scheduling hiccup
	// does not drop copies that never waited for a busy worker.
	MaxQueueWait time.Duration `mapstructure:"max_queue_wait"`
	// SamplePercent is the share of eligible requests that are mirrored,
	// in (0,100]. 0 means 100. It can be changed while the proxy runs
	// (Proxy.SetSamplePercent).
	SamplePercent float64 `mapstructure:"sample_percent"`
	// SampleBy chooses requests for the sample by a key, so that all the
	// requests of one user are mirrored or none are: "header:X-User-Id",
	// "cookie:session" or "query:user". The decision is a stable hash of
	// the key's value (FNV-1a, no seed), so every replica of the proxy
	// makes the same one. A request without the key, or with an empty
	// value, is sampled at random. "" means every request is sampled at
	// random.
	SampleBy string `mapstructure:"sample_by"`
	// Routes turn mirroring on or off per request; the first match wins.
	// A request matching no route is mirrored when its method is safe
	// (GET, HEAD, OPTIONS, TRACE) and not mirrored otherwise.
	Routes []Route `mapstructure:"routes"`

	// MarkerHeader is added to every mirrored request so the candidate and
	// secondary can tell copies from live traffic. "" means
	// "X-Shadow-Request".
	MarkerHeader string `mapstructure:"marker_header"`
	// MarkerValue is the marker header's value. "" means "1".
	MarkerValue string `mapstructure:"marker_value"`
	// PrimaryTarget, SecondaryTarget and CandidateTarget say how requests
	// are addressed to each upstream: Host header (the upstream's own, the
	// client's, or a literal), a Host suffix, headers set or removed. The
	// zero value sends the upstream's own host, like
	// httputil.ProxyRequest.SetURL, and leaves the headers alone. Whatever
	// the Host, every upstream gets the same X-Forwarded-For,
	// X-Forwarded-Host (the client's Host) and X-Forwarded-Proto, so
	// answers that echo them agree.
	PrimaryTarget   Target `mapstructure:"primary_target"`
	SecondaryTarget Target `mapstructure:"secondary_target"`
	CandidateTarget Target `mapstructure:"candidate_target"`
	// PreserveHost sends the client's Host header to every upstream whose
	// Target has no Host of its own.
	//
	// Deprecated: set PreserveHost on PrimaryTarget, SecondaryTarget and
	// CandidateTarget instead; it can then differ per upstream. Setting
	// this is the same as setting it on all three.
	PreserveHost bool `mapstructure:"-"`

	// Transport sends requests to every upstream. nil means transports
	// tuned for proxying (keep-alives, many idle connections per host, no
	// transparent compression, no environment proxy), built from each
	// Target's TLS and Protocol: each upstream has its own, one per
	// protocol it is spoken to in, so mirror traffic never competes with
	// the client's path for connections. When set, the Targets' TLS and
	// Protocol are not used.
	Transport http.RoundTripper `mapstructure:"-"`
	// CopyClient is what sends the copies of plain HTTP/1.1 requests to an
	// http:// candidate or secondary. "" or CopyClientLean: a client that
	// writes each request and reads its answer from the worker's own
	// goroutine with net/http's writer and parser, on connections it keeps
	// alive (see copyClient), which costs about a fifth less CPU per copy
	// than http.Transport; requests it is not made for (large or streamed
	// bodies, Expect, upgrades) still go through http.Transport.
	// CopyClientTransport: every copy through http.Transport. The primary
	// always goes through http.Transport. Not used with Transport.
	CopyClient string `mapstructure:"copy_client"`
	// Observer receives every joined exchange. nil means exchanges are
	// discarded (and still counted).
	Observer Observer `mapstructure:"-"`
	// Logger receives the proxy's log. nil means slog.Default().
	Logger *slog.Logger `mapstructure:"-"`
	// GRPCMethods says which gRPC methods are client-streaming, so their
	// calls are passed through from their start (see grpc.go). nil means
	// a call is known to stream by its second message.
	GRPCMethods GRPCMethods `mapstructure:"-"`
}

// Route turns mirroring on or off for matching requests and opts in to
// unsafe methods.
type Route struct {
	// Name is shown in reports and stored in exchange.Exchange.Route. ""
	// means the Path, or "*" when Path is empty too.
	Name string `mapstructure:"name"`
	// Methods limits the route to these methods (case-insensitive). Empty
	// means any method.
	Methods []string `mapstructure:"methods"`
	// Path is the path pattern: "/orders" (exact), "/orders/{id}" ({id}
	// matches one non-empty segment), "/static/*" (every path below
	// /static/, not /static itself). "" means any path.
	Path string `mapstructure:"path"`
	// Headers must each be present with this exact value; "" means present
	// with any value. Empty means no header condition.
	Headers map[string]string `mapstructure:"headers"`
	// Disabled stops matching requests from being mirrored. It can be
	// changed while the proxy runs (Proxy.SetRouteDisabled).
	Disabled bool `mapstructure:"disabled"`
	// Unsafe mirrors POST, PUT, PATCH, DELETE (and other non-safe methods
	// except CONNECT) on this route too. Leave it off unless the candidate
	// cannot cause real side effects: a candidate writing to a shared
	// database would duplicate them.
	Unsafe bool `mapstructure:"unsafe"`
	// Egress names the dependencies (shadow's egress.name) whose calls the
	// candidate and secondary make for this route's writes, answered by
	// shadow's egress from the primary's calls and never sent: writes
	// mirrored without their side effects. It needs Unsafe. The proxy
	// does not read it; shadow checks the names and shows the route as
	// write-mirrored through them.
	Egress []string `mapstructure:"egress"`
	// GRPCStreams mirrors client-streaming and bidi gRPC calls on this
	// route too: the client's messages are kept (at most MaxBodyBytes)
	// and sent to the copies once the client has sent its last one, so
	// an interactive stream's copy sees all of them at once. Off, such
	// calls are passed through and not mirrored (Skipped["grpc_stream"]).
	// Unary and server-streaming calls are mirrored either way.
	GRPCStreams bool `mapstructure:"grpc_streams"`
	// WebSocket mirrors the WebSocket connections upgraded on this route:
	// the candidate (and secondary) get a connection of their own with
	// the client's upgrade request, the client's messages are replayed to
	// it in order, and each server message is paired by position with
	// theirs and compared (see the package documentation for the rule and
	// its limits). The client's connection to the primary is passed
	// through as ever. False means upgrades are passed through and not
	// mirrored (Stats.Skipped["upgrade"]).
	WebSocket bool `mapstructure:"websocket"`
}

// Validate reports every bad field of c, each named, joined in one error.
// Zero values are valid (they mean the defaults) except for the required
// Primary and Candidate.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	var primary, candidate, secondary *url.URL
	var err error
	if c.Primary == "" {
		bad("primary", "required")
	} else if primary, err = parseUpstream(c.Primary); err != nil {
		errs = append(errs, fmt.Errorf("primary: %w", err))
	}
	if c.Candidate == "" && len(c.Candidates) == 0 {
		bad("candidate", "required (or candidates, for several)")
	} else if c.Candidate == "" {
		// several candidates: checked with the secondary below
	} else if candidate, err = parseUpstream(c.Candidate); err != nil {
		errs = append(errs, fmt.Errorf("candidate: %w", err))
	} else if primary != nil && sameUpstream(primary, candidate) {
		bad("candidate", "%q is the primary; mirroring to it would duplicate live traffic", c.Candidate)
	}
	if c.Secondary != "" {
		if secondary, err = parseUpstream(c.Secondary); err != nil {
			errs = append(errs, fmt.Errorf("secondary: %w", err))
		} else if primary != nil && sameUpstream(primary, secondary) {
			bad("secondary", "%q is the primary; it must be a second copy of it", c.Secondary)
		}
	}
	if c.MaxBodyBytes < 0 {
		bad("max_body_bytes", "%d is negative; want 0 (1 MiB) or more", c.MaxBodyBytes)
	}
	if c.MaxStreamBodyBytes > 0 {
		if body := cmp.Or(c.MaxBodyBytes, DefaultMaxBodyBytes); c.MaxStreamBodyBytes < body {
			bad("max_stream_body_bytes", "%d is below max_body_bytes (%d); want more, 0 (64 MiB) or negative (off)", c.MaxStreamBodyBytes, body)
		}
	}
	if c.MaxSpooledBodies < 0 {
		bad("max_spooled_bodies", "%d is negative; want 0 (8) or more", c.MaxSpooledBodies)
	}
	if c.MaxBufferedBytes < 0 {
		bad("max_buffered_bytes", "%d is negative; want 0 (64 MiB) or more", c.MaxBufferedBytes)
	} else if body := cmp.Or(c.MaxBodyBytes, DefaultMaxBodyBytes); c.MaxBufferedBytes > 0 && c.MaxBufferedBytes < body {
		bad("max_buffered_bytes", "%d is below max_body_bytes (%d): no body that size could be mirrored; want more, or 0 (64 MiB)", c.MaxBufferedBytes, body)
	}
	if c.MaxResponseBytes < 0 {
		bad("max_response_bytes", "%d is negative; want 0 (1 MiB) or more", c.MaxResponseBytes)
	}
	if c.QueueSize < 0 {
		bad("queue_size", "%d is negative; want 0 (1024) or more", c.QueueSize)
	}
	if c.Workers < 0 {
		bad("workers", "%d is negative; want 0 (64) or more", c.Workers)
	}
	if c.CandidateTimeout < 0 {
		bad("candidate_timeout", "%s is negative; want 0 (5s) or more", c.CandidateTimeout)
	}
	if c.CopyClient != "" && c.CopyClient != CopyClientLean && c.CopyClient != CopyClientTransport {
		bad("copy_client", "%q is not one; want %s (the default) or %s", c.CopyClient, CopyClientLean, CopyClientTransport)
	}
	if c.MaxQueueWait > 0 && c.MaxQueueWait < minQueueWait {
		bad("max_queue_wait", "%s is below %s; want %s or more, 0 (1s, or candidate_timeout if shorter) or negative (no limit)", c.MaxQueueWait, minQueueWait, minQueueWait)
	}
	if math.IsNaN(c.SamplePercent) || c.SamplePercent < 0 || c.SamplePercent > 100 {
		bad("sample_percent", "%v is out of range; want (0,100], or 0 for 100", c.SamplePercent)
	}
	if _, err := parseSampleBy(c.SampleBy); err != nil {
		errs = append(errs, fmt.Errorf("sample_by: %w", err))
	}
	if c.MarkerHeader != "" && !httpguts.ValidHeaderFieldName(c.MarkerHeader) {
		bad("marker_header", "%q is not a valid header name", c.MarkerHeader)
	}
	if c.MarkerValue != "" && !httpguts.ValidHeaderFieldValue(c.MarkerValue) {
		bad("marker_value", "%q is not a valid header value", c.MarkerValue)
	}
	errs = append(errs, c.PrimaryTarget.validate("primary_target")...)
	errs = append(errs, c.SecondaryTarget.validate("secondary_target")...)
	errs = append(errs, c.CandidateTarget.validate("candidate_target")...)
	if primary != nil {
		errs = append(errs, c.PrimaryTarget.validateFor("primary_target", "primary", primary)...)
	}
	if secondary != nil {
		errs = append(errs, c.SecondaryTarget.validateFor("secondary_target", "secondary", secondary)...)
	}
	if candidate != nil {
		errs = append(errs, c.CandidateTarget.validateFor("candidate_target", "candidate", candidate)...)
	}
	if len(c.Candidates) > 0 {
		errs = append(errs, c.validateCandidates(primary, secondary)...)
	}
	for i, r := range c.Routes {
		errs = append(errs, r.validate(fmt.Sprintf("routes[%d]", i))...)
	}
	return errors.Join(errs...)
}

// validate reports every bad field of one route, each named under field
// ("routes[2]").
func (r Route) validate(field string) []error {
	var errs []error
	if _, err := parsePattern(r.Path); err != nil {
		errs = append(errs, fmt.Errorf("%s.path: %w", field, err))
	}
	for j, m := range r.Methods {
		if !httpguts.ValidHeaderFieldName(m) { // a method is an RFC 9110 token, like a field name
			errs = append(errs, fmt.Errorf("%s.methods[%d]: %q is not a valid method", field, j, m))
		}
	}
	if len(r.Egress) > 0 && !r.Unsafe {
		errs = append(errs, fmt.Errorf("%s.egress: set unsafe: true too; mirroring writes stays an explicit opt-in, egress only keeps their calls from reaching %s", field, strings.Join(r.Egress, ", ")))
	}
	for _, k := range slices.Sorted(maps.Keys(r.Headers)) { // sorted: a stable message
		if !httpguts.ValidHeaderFieldName(k) {
			errs = append(errs, fmt.Errorf("%s.headers: %q is not a valid header name", field, k))
		}
		if v := r.Headers[k]; !httpguts.ValidHeaderFieldValue(v) {
			errs = append(errs, fmt.Errorf("%s.headers[%s]: %q is not a valid header value", field, k, v))
		}
	}
	return errs
}

// WithDefaults returns c with every zero value replaced by the default it
// stands for: the settings a Proxy made by New runs with.
func (c Config) WithDefaults() Config {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxStreamBodyBytes == 0 {
		c.MaxStreamBodyBytes = DefaultMaxStreamBodyBytes
		if c.MaxStreamBodyBytes <= c.MaxBodyBytes {
			c.MaxStreamBodyBytes = -1 // nothing lies between the two: streaming off
		}
	}
	if c.MaxSpooledBodies == 0 {
		c.MaxSpooledBodies = DefaultMaxSpooledBodies
	}
	if c.MaxBufferedBytes == 0 {
		c.MaxBufferedBytes = max(DefaultMaxBufferedBytes, c.MaxBodyBytes)
	}
	if c.BodyReadTimeout == 0 {
		c.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.CandidateTimeout == 0 {
		c.CandidateTimeout = DefaultCandidateTimeout
	}
	if c.MaxQueueWait == 0 {
		c.MaxQueueWait = min(DefaultMaxQueueWait, c.CandidateTimeout)
	}
	if len(c.Candidates) > 0 {
		c.Candidates = slices.Clone(c.Candidates)
		for i := range c.Candidates {
			c.Candidates[i].Timeout = cmp.Or(c.Candidates[i].Timeout, c.CandidateTimeout)
		}
	}
	if c.SamplePercent == 0 {
		c.SamplePercent = DefaultSamplePercent
	}
	if c.MarkerHeader == "" {
		c.MarkerHeader = DefaultMarkerHeader
	}
	if c.MarkerValue == "" {
		c.MarkerValue = DefaultMarkerValue
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// parseUpstream parses an upstream base URL and checks that requests can
// be sent to it.
func parseUpstream(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q: scheme %q not supported; want http or https", raw, u.Scheme)
	case u.Host == "":
		return nil, fmt.Errorf("%q: no host", raw)
	case u.Fragment != "":
		return nil, fmt.Errorf("%q: a base URL has no fragment", raw)
	}
	return u, nil
}

// sameUpstream reports whether a and b send requests to the same place.
func sameUpstream(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Host, b.Host) &&
		strings.TrimSuffix(a.Path, "/") == strings.TrimSuffix(b.Path, "/")
}
