package egress

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/traceparent"
)

// RefusedHeader names the header of a refusal: its value is the Reason.
const RefusedHeader = "X-Shadow-Egress-Refused"

// replayer serves a dependency's secondary or candidate side. It has no
// transport: nothing it serves can reach the real dependency. Each call
// is recorded and answered with the primary's call that has the same key
// (trace id, method, dependency, path template, ordinal), once that call
// has been answered whole; otherwise it is refused with a 503 that says
// why.
type replayer struct {
	dep  *dependency
	side exchange.Side
	st   *store
}

func (h *replayer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h.st.counts.calls[sideIndex(h.side)].Add(1)
	if r.Method == http.MethodConnect || isUpgrade(r) {
		h.refuse(w, RefusedUnsupported, "a tunnel or protocol upgrade cannot be answered from a record")
		return
	}
	tp, ok := traceparent.FromHeader(r.Header)
	if !ok {
		h.refuse(w, RefusedNoTrace, "the call has no valid W3C traceparent header, so it cannot be matched with a call of the primary; the service must pass the traceparent of the request it serves on to its outbound calls")
		return
	}
	path := r.URL.Path
	k := key{trace: tp.TraceIDString(), ep: endpointKey{dep: h.dep.name, method: r.Method, template: h.dep.routes.of(path)}}
	c, sl, reason := h.st.begin(h.side, k, r, path, start)
	if reason != "" {
		h.refuse(w, reason, h.explain(reason, k, -1))
		return
	}
	if r.Body != nil {
		h.readBody(c, r.Body)
	}
	prim, reason := h.st.await(r.Context(), sl)
	if reason != "" {
		msg := h.explain(reason, k, c.oc.Ordinal)
		if reason == RefusedNoMatch && sl.begun.Load() {
			msg = fmt.Sprintf("the primary's call %s was still in flight after %s (egress_limits.max_wait)", h.callName(k, c.oc.Ordinal), h.st.lim.MaxWait)
		}
		c.update(func(oc *exchange.OutboundCall) {
			oc.Refused = string(reason)
			oc.Response = exchange.Response{Side: h.side, Status: http.StatusServiceUnavailable, Error: msg, Latency: time.Since(start)}
		})
		h.refuse(w, reason, msg)
		return
	}
	// The primary's call is complete and no longer changes.
	resp := prim.oc.Response
	maps.Copy(w.Header(), resp.Header.Clone())
	w.WriteHeader(resp.Status)
	var err error
	if len(resp.Body) > 0 {
		_, err = w.Write(resp.Body)
	}
	h.st.counts.answered[sideIndex(h.side)].Add(1)
	c.update(func(oc *exchange.OutboundCall) {
		oc.Matched = true
		oc.Response = resp
		oc.Response.Side = h.side
		oc.Response.Latency = time.Since(start)
		if err != nil {
			oc.Response.Error = "write the answer: " + err.Error()
		}
	})
}

// readBody records the call's body, bounded, and reads the rest to count
// it: what the side would have sent is what gets compared.
func (h *replayer) readBody(c *call, body io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			h.st.appendBody(c, false, buf[:n])
		}
		if err != nil {
			if err != io.EOF {
				c.update(func(oc *exchange.OutboundCall) { oc.BodyTruncated = true })
			}
			return
		}
	}
}

// explain says why a call was refused, for the body of the 503 and for
// the record. ord is the call's ordinal, or -1 when it has none.
func (h *replayer) explain(reason Reason, k key, ord int) string {
	call := h.callName(k, ord)
	switch reason {
	case RefusedNoMatch:
		return fmt.Sprintf("the primary made no call %s within %s (egress_limits.max_wait)", call, h.st.lim.MaxWait)
	case RefusedIncomplete:
		return fmt.Sprintf("the primary's call %s was not recorded whole (an answer over egress_limits.max_body_bytes %d, cut off or out of memory budget), so it cannot be replayed", call, h.st.lim.MaxBodyBytes)
	case RefusedOverLimit:
		return fmt.Sprintf("%s: this side or the primary made more than egress_limits.max_calls_per_trace (%d) calls in the trace", call, h.st.lim.MaxCallsPerTrace)
	case RefusedMemory:
		return fmt.Sprintf("%s: this side's or the primary's calls in the trace did not fit in egress_limits.max_memory_bytes (%d)", call, h.st.lim.MaxMemoryBytes)
	case RefusedEvicted:
		return fmt.Sprintf("the primary's call %s was evicted before it could be replayed (egress_limits.record_ttl %s, max_memory_bytes %d)", call, h.st.lim.RecordTTL, h.st.lim.MaxMemoryBytes)
	case RefusedTaken:
		return fmt.Sprintf("%s: the exchange of this trace was already complete", call)
	case RefusedCancelled:
		return fmt.Sprintf("%s: the caller went away while waiting for the primary's call", call)
	case RefusedShutdown:
		return fmt.Sprintf("%s: egress is shutting down", call)
	}
	return call
}

// callName names a call in a refusal: "POST payments /charges (call 1 to
// it in trace 4bf9...)"; ord -1 leaves the ordinal out.
func (h *replayer) callName(k key, ord int) string {
	call := fmt.Sprintf("%s %s %s", k.ep.method, h.dep.name, k.ep.template)
	if ord >= 0 {
		call += " (call " + strconv.Itoa(ord+1) + " to it in trace " + k.trace + ")"
	}
	return call
}

// refuse answers a call with a 503 that says why, and counts it.
func (h *replayer) refuse(w http.ResponseWriter, reason Reason, msg string) {
	h.st.counts.refuse(h.side, reason)
	refuse(w, h.side, reason, msg)
}

// refuse writes the 503 of a refused call.
func refuse(w http.ResponseWriter, side exchange.Side, reason Reason, msg string) {
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set(RefusedHeader, string(reason))
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintf(w, "egress (%s side): refused (%s): %s. Calls from this side are answered only from the primary's calls and never reach the real dependency.\n", side, reason, msg)
}
