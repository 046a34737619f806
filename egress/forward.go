package egress

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/traceparent"
)

// dependency is a validated Dependency.
type dependency struct {
	name     string
	upstream *url.URL
	routes   templates
}

// forwarder serves a dependency's primary side: every call is forwarded to
// the real dependency by httputil.ReverseProxy, its answer streamed back
// unchanged as it arrives, and both recorded on the way (bounded) so the
// other sides' calls can be answered from them. Recording never delays or
// fails the primary's call: when there is no room to record, the call is
// forwarded all the same.
type forwarder struct {
	dep   *dependency
	st    *store
	proxy *httputil.ReverseProxy
}

// forwardedHeaders are removed from the outbound request by ReverseProxy's
// Rewrite mode; the forwarder puts the primary's own values back, so the
// dependency sees the call as if it came straight from the primary.
var forwardedHeaders = []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"}

func newForwarder(dep *dependency, st *store, rt http.RoundTripper, log *slog.Logger) *forwarder {
	f := &forwarder{dep: dep, st: st}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(dep.upstream)
			for _, h := range forwardedHeaders {
				if v, ok := pr.In.Header[h]; ok {
					pr.Out.Header[h] = v
				}
			}
		},
		Transport:      rt,
		ModifyResponse: f.modifyResponse,
		ErrorHandler:   f.errorHandler,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return f
}

// recordingKey carries a call's recording from ServeHTTP to the
// ReverseProxy hooks.
type recordingKey struct{}

// recording is the primary's call as it is being recorded.
type recording struct {
	st     *store
	c      *call
	sl     *slot
	start  time.Time
	reqEOF bool // the request body was read to its end (or there was none)

	mu       sync.Mutex
	answered bool // status and headers recorded
	bodyEOF  bool // the answer body was read to its end
	over     bool // something was cut: a body over the limit or the budget
	finished bool
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		f.st.counts.proxyRefused.Add(1)
		http.Error(w, "egress: CONNECT is not forwarded: a tunnel cannot be recorded, so its calls could not be answered for the other sides", http.StatusNotImplemented)
		return
	}
	f.st.counts.forwarded.Add(1)
	rec := f.begin(r)
	if rec == nil {
		f.proxy.ServeHTTP(w, r)
		return
	}
	defer rec.finish() // also when ReverseProxy aborts the handler
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &teeBody{rc: r.Body, rec: rec}
	} else {
		rec.reqEOF = true
	}
	f.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), recordingKey{}, rec)))
}

// begin starts recording r, or returns nil when it is not recorded (no
// trace id, no room), counted.
func (f *forwarder) begin(r *http.Request) *recording {
	tp, ok := traceparent.FromHeader(r.Header)
	if !ok {
		f.st.counts.untraced.Add(1)
		return nil
	}
	path := r.URL.Path
	k := key{trace: tp.TraceIDString(), ep: endpointKey{dep: f.dep.name, method: r.Method, template: f.dep.routes.of(path)}}
	now := time.Now()
	c, sl, reason := f.st.begin(exchange.Primary, k, r, path, now)
	if reason != "" {
		f.st.counts.notRecorded.Add(1)
		return nil
	}
	return &recording{st: f.st, c: c, sl: sl, start: now}
}

func (f *forwarder) modifyResponse(resp *http.Response) error {
	rec, _ := resp.Request.Context().Value(recordingKey{}).(*recording)
	if rec == nil {
		return nil
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// The body is now the connection itself: leave it alone, and
		// leave the call unrecorded.
		rec.cut()
		return nil
	}
	h := resp.Header.Clone()
	rec.c.update(func(oc *exchange.OutboundCall) {
		oc.Response = exchange.Response{Side: exchange.Primary, Status: resp.StatusCode, Header: h}
	})
	rec.mu.Lock()
	rec.answered = true
	rec.mu.Unlock()
	resp.Body = &teeBody{rc: resp.Body, rec: rec, answer: true}
	return nil
}

// errorHandler answers the primary when the dependency could not be
// reached, and records that answer: the other sides get the same 502.
func (f *forwarder) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	rec, _ := r.Context().Value(recordingKey{}).(*recording)
	if r.Context().Err() != nil {
		// The primary gave up on its call: it got no answer to replay.
		if rec != nil {
			rec.cut()
		}
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	f.st.counts.failed.Add(1)
	body := []byte(fmt.Sprintf("egress: dependency %s did not answer: %v\n", f.dep.name, err))
	h := http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "X-Content-Type-Options": {"nosniff"}}
	if rec != nil {
		rec.c.update(func(oc *exchange.OutboundCall) {
			oc.Response = exchange.Response{Side: exchange.Primary, Status: http.StatusBadGateway, Header: h.Clone(), Error: err.Error()}
		})
		rec.mu.Lock()
		rec.answered = true
		rec.mu.Unlock()
		rec.append(body, true)
		rec.mu.Lock()
		rec.bodyEOF = true
		rec.mu.Unlock()
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusBadGateway)
	_, _ = w.Write(body)
}

// append records p as part of the request body or the answer body.
func (rec *recording) append(p []byte, answer bool) {
	if !rec.st.appendBody(rec.c, answer, p) {
		rec.mu.Lock()
		rec.over = true
		rec.mu.Unlock()
	}
}

// cut marks the recording as not replayable.
func (rec *recording) cut() {
	rec.mu.Lock()
	rec.over = true
	rec.mu.Unlock()
}

// finish publishes the call to the copies waiting for it: the call itself
// when its answer was recorded whole, or the reason it cannot be replayed.
// Only the first call counts.
func (rec *recording) finish() {
	rec.mu.Lock()
	if rec.finished {
		rec.mu.Unlock()
		return
	}
	rec.finished = true
	whole := rec.answered && rec.bodyEOF && !rec.over
	reqCut := !rec.reqEOF
	rec.mu.Unlock()
	latency := time.Since(rec.start)
	live := rec.c.update(func(oc *exchange.OutboundCall) {
		oc.Response.Latency = latency
		if reqCut {
			oc.BodyTruncated = true // the dependency answered before reading it all
		}
	})
	switch {
	case !live:
		rec.st.counts.notRecorded.Add(1)
		rec.sl.publish(nil, string(RefusedEvicted))
	case whole:
		rec.st.counts.recorded.Add(1)
		rec.sl.publish(rec.c, "")
	default:
		rec.st.counts.notRecorded.Add(1)
		rec.sl.publish(nil, string(RefusedIncomplete))
	}
}

// teeBody records what is read through it: the primary's request body on
// its way to the dependency, or the dependency's answer on its way back.
type teeBody struct {
	rc     io.ReadCloser
	rec    *recording
	answer bool
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.rec.append(p[:n], b.answer)
	}
	if err == io.EOF {
		b.rec.mu.Lock()
		if b.answer {
			b.rec.bodyEOF = true
		} else {
			b.rec.reqEOF = true
		}
		b.rec.mu.Unlock()
	}
	return n, err
}

func (b *teeBody) Close() error { return b.rc.Close() }

// hopHeaders are the hop-by-hop headers ReverseProxy removes (RFC 9110
// section 7.6.1); recorded headers drop the same ones.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// cloneHeader returns a copy of h without hop-by-hop headers, as a call's
// headers are recorded.
func cloneHeader(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				out.Del(sf)
			}
		}
	}
	for _, k := range hopHeaders {
		out.Del(k)
	}
	return out
}

// isUpgrade reports whether r asks to switch protocols.
func isUpgrade(r *http.Request) bool {
	return httpguts.HeaderValuesContainsToken(r.Header["Connection"], "Upgrade")
}
