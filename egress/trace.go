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
