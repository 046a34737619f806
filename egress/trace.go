package egress

import (
	"context"
	"net/http"

	"github.com/understudy-dev/understudy/internal/traceparent"
)

// TraceparentHeader is the canonical name of the W3C trace context header
// that correlates a request's outbound calls across sides.
const TraceparentHeader = traceparent.Header

// TraceInfo says what Trace did to a request's trace context.
type TraceInfo struct {
	// Traceparent is the value the request carries after Trace: the
	// client's, or the one Trace set.
	Traceparent string
	// TraceID is the trace id of Traceparent: 32 lower-case hex digits.
	TraceID string
	// Set reports that Trace set Traceparent: the client sent none, or
	// none that was valid (Replaced holds what it sent).
	Set bool
	// Replaced holds the client's traceparent values that were not valid,
	// when Set.
	Replaced []string
}

type traceInfoKey struct{}

// Trace returns a handler that makes sure every request carries one valid
// W3C traceparent before next sees it: a client's valid one is left alone;
// a request without one, or with an invalid one (or several), gets a new
// trace (random trace id, sampled). Put it in front of the mirror proxy:
// the proxy copies the client's headers to the secondary and candidate, so
// all three sides serve the request under the same trace id and their
// outbound calls can be matched. What Trace did is on the request's
// context (TraceFromContext), so the proxy can record that it set the
// header itself.
func Trace(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := TraceInfo{}
		tp, ok := traceparent.FromHeader(r.Header)
		if !ok {
			info.Set = true
			info.Replaced = r.Header.Values(traceparent.Header)
			tp = traceparent.New()
			r.Header.Set(traceparent.Header, tp.String())
		}
		info.Traceparent = r.Header.Get(traceparent.Header)
		info.TraceID = tp.TraceIDString()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), traceInfoKey{}, info)))
	})
}

// TraceEach is Trace that gives every request a trace of its own, also
// one that carries a valid traceparent (kept in TraceInfo.Replaced; its
// sampled flag carries over). Clients that send one trace id with many
// requests (a synthetic journey, a front end's page view) would otherwise
// share one record across those requests: a request's exchange, when it
// completes, would take calls made for the others. With a trace per
// request each exchange holds exactly its own calls, at the price of the
// primary's spans starting a new trace rather than joining the client's.
func TraceEach(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := TraceInfo{Set: true, Replaced: r.Header.Values(traceparent.Header)}
		tp := traceparent.New()
		if old, ok := traceparent.FromHeader(r.Header); ok {
			tp.Flags = old.Flags
		}
		r.Header.Set(traceparent.Header, tp.String())
		info.Traceparent = r.Header.Get(traceparent.Header)
		info.TraceID = tp.TraceIDString()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), traceInfoKey{}, info)))
	})
}

// TraceMode says how shadow gives a request its trace: Config.Trace.
type TraceMode string

// The trace modes.
const (
	// TraceRequest gives every client request a new trace (TraceEach).
	TraceRequest TraceMode = "request"
	// TraceClient keeps a client's valid traceparent (Trace).
	TraceClient TraceMode = "client"
)

// Middleware returns the handler of the mode in front of next: Trace for
// TraceClient, TraceEach for TraceRequest and the zero value.
func (m TraceMode) Middleware(next http.Handler) http.Handler {
	if m == TraceClient {
		return Trace(next)
	}
	return TraceEach(next)
}

// TraceFromContext returns what Trace did to the request whose context
// this is; false when the request did not pass through Trace.
func TraceFromContext(ctx context.Context) (TraceInfo, bool) {
	info, ok := ctx.Value(traceInfoKey{}).(TraceInfo)
	return info, ok
}

// TraceID returns the trace id of the single valid traceparent in h, as
// 32 lower-case hex digits, or "" when there is none: the key under which
// Egress.Take finds the outbound calls made for a request whose headers
// are h.
func TraceID(h http.Header) string {
	tp, ok := traceparent.FromHeader(h)
	if !ok {
		return ""
	}
	return tp.TraceIDString()
}
