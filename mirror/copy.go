package mirror

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/wire"
	"golang.org/x/net/http/httpguts"
)

// job is one mirrored request: what the client sent, captured before the
// primary is asked, and the primary's side, filled in while its answer
// streams to the client.
type job struct {
	// Set by ServeHTTP before the job is queued; read-only afterwards.
	seq        uint64
	route      string
	method     string
	url        url.URL // the client's URL, for building each upstream's
	requestURI string
	host       string
	remoteAddr string
	tls        bool
	protoMajor int         // the client's HTTP version, which the copies keep
	teTrailers bool        // the client sent "TE: trailers"
	header     http.Header // the client's headers without hop-by-hop ones
	body       []byte      // nil when none; shared read-only by every upstream
	held       int64       // body budget bytes body takes, given back by letGo
	spool      *spool      // a streamed body instead of body; nil when none
	grpc       bool        // a gRPC call (see grpc.go)
	gbody      *grpcBody   // a gRPC call's body, until it is complete; nil when none
	received   time.Time
	queued     time.Time // when the copy was queued, for MaxQueueWait

	// holders counts who still uses body: the handler (until the primary is
	// done) and the worker (until the copies are sent, or not).
	holders atomic.Int32

	// The primary side. Written only by the handler goroutine, and read
	// by the worker only after done is closed (which orders the two).
	done     chan struct{}
	start    time.Time
	finished time.Time
	res      *http.Response // nil when no answer began
	tee      tee
	perr     string // why the primary's answer is missing or incomplete
	pkind    string // the kind of perr when the primary failed (wire.Kinds)

	// With several candidates (Config.Candidates; see candidates.go): one
	// answer per lane, written only by that lane's worker; parts counts
	// the lanes still working on the job, and the last one joins it. sec
	// is written by the first lane's worker; cut by any lane that
	// Shutdown stopped. nil answers with a single candidate.
	answers []exchange.Response
	sec     *exchange.Response
	parts   atomic.Int32
	cut     atomic.Bool
}

// newJob captures what the copies need from r. Headers are cloned here, on
// the client's path, because r belongs to the server once ServeHTTP returns.
func (p *Proxy) newJob(r *http.Request, rt *route, body []byte, held int64, now time.Time) *job {
	h := r.Header.Clone()
	removeHopByHop(h)
	j := &job{
		seq:        p.seq.Add(1),
		method:     r.Method,
		url:        *r.URL,
		requestURI: r.RequestURI,
		host:       r.Host,
		remoteAddr: r.RemoteAddr,
		tls:        r.TLS != nil,
		protoMajor: r.ProtoMajor,
		teTrailers: httpguts.HeaderValuesContainsToken(r.Header["Te"], "trailers"),
		header:     h,
		body:       body,
		held:       held,
		received:   now,
		queued:     now,
		done:       make(chan struct{}),
	}
	j.holders.Store(2)
	if p.named {
		j.answers = make([]exchange.Response, len(p.lanes))
		for i, l := range p.lanes {
			j.answers[i] = exchange.Response{Side: exchange.Candidate, Name: l.name}
		}
	}
	if j.requestURI == "" {
		j.requestURI = r.URL.RequestURI()
	}
	if rt != nil {
		j.route = rt.name
	}
	return j
}

// work runs copies from the queue until Shutdown closes it. After a hard
// stop, the copies still queued are counted as abandoned, not sent; a copy
// that waited longer than MaxQueueWait is counted as stale, not sent.
func (p *Proxy) work() {
	defer p.workerDone()
	var keep [workerStackKeep]byte
	keepStack(&keep)
	for j := range p.queue {
		if j.answers != nil { // several candidates: this is the first one's lane
			p.lanes[0].depth.Add(-1)
		}
		switch {
		case p.hardCtx.Err() != nil && j.answers != nil:
			j.cut.Store(true)
			p.partDone(j, p.lanes[0])
		case p.hardCtx.Err() != nil:
			p.counters.abandoned.Add(1)
			p.release(j)
		case p.stale(j) && j.answers != nil:
			p.lanes[0].stale.Add(1)
			j.answers[0].NotSent = notSentStale
			p.partDone(j, p.lanes[0])
			p.logStale()
		case p.stale(j):
			p.counters.stale.Add(1)
			p.release(j)
			p.logStale()
		default:
			p.runCopy(j)
			p.logDrops()
			if j.answers != nil {
				p.logLaneDrops(p.lanes[0])
			}
		}
	}
}

// workerDone is a worker returning; the last one closes done.
func (p *Proxy) workerDone() {
	if p.live.Add(-1) == 0 {
		close(p.done)
	}
}

// workerStackKeep is stack space a worker holds in its own frame while it
// waits for a copy, so that the garbage collector does not shrink its
// stack: it shrinks a waiting goroutine's stack by half when less than a
// quarter is in use. Judging an exchange grows a worker's stack to some
// tens of KiB; the queue hands copies to the 64 workers in turn, so
// between two copies of one worker a GC has usually run, and without this
// every judged exchange began by copying its stack into a bigger one again
// (0.6 stack growths per request, ~2% of BenchmarkWholePath's
// instructions). 8 KiB held keeps a stack of up to 32 KiB from shrinking;
// 64 workers hold at most 2 MiB that way.
const workerStackKeep = 8 << 10

// keepStack makes keep a real part of the caller's frame (the compiler
// cannot drop a variable whose address a call takes).
//
//go:noinline
func keepStack(keep *[workerStackKeep]byte) { keep[0] = 0 }

// stale reports whether j waited in the queue longer than MaxQueueWait:
// its candidate would be asked too long after the primary for their
// answers to line up.
func (p *Proxy) stale(j *job) bool {
	return p.cfg.MaxQueueWait >= 0 && time.Since(j.queued) > p.cfg.MaxQueueWait
}

// release is the worker letting go of j, sent or not: its spool file, if
// any, is closed and its slot freed. Nothing else holds on to j once the
// worker lets go of it, so its body and teed answer are freed with it as
// soon as the handler has finished with the primary's side.
func (p *Proxy) release(j *job) {
	if j.spool != nil {
		j.spool.release()
	}
	p.letGo(j)
}

// letGo is called once by the handler and once by the worker when done
// with j's body; the second gives its bytes back to the body budget.
func (p *Proxy) letGo(j *job) {
	if j.holders.Add(-1) == 0 {
		p.bodies.give(j.held)
	}
}

// logDrops logs, at most once a second, that copies were dropped since the
// last time. Workers log it so the client's path never writes a log line.
func (p *Proxy) logDrops() {
	d := p.counters.dropped.Load()
	prev := p.loggedDrops.Load()
	if d == prev || !p.dropLog.allow(time.Second) {
		return
	}
	p.loggedDrops.Store(d)
	p.log.Warn("mirror queue full: copies dropped",
		"dropped", d-prev, "dropped_total", d, "queue_size", cap(p.queue), "workers", p.cfg.Workers)
}

// logStale logs, at most once a second, that copies were dropped for
// waiting too long in the queue since the last time.
func (p *Proxy) logStale() {
	d := p.counters.stale.Load()
	prev := p.loggedStale.Load()
	if d == prev || !p.staleLog.allow(time.Second) {
		return
	}
	p.loggedStale.Store(d)
	p.log.Warn("mirror workers behind: stale copies dropped",
		"stale", d-prev, "stale_total", d, "max_queue_wait", p.cfg.MaxQueueWait, "workers", p.cfg.Workers)
}

// runCopy sends j to the candidate and secondary at once, waits for their
// answers and the primary's, and hands the joined exchange to the
// observer. Everything it does is bounded by CandidateTimeout, and by
// nothing of the client's: a client going away does not cancel its copy.
func (p *Proxy) runCopy(j *job) {
	l := p.lanes[0]
	ctx, cancel := context.WithTimeout(p.hardCtx, l.timeout)
	defer cancel()
	if j.answers == nil {
		defer p.release(j) // after both copies were sent
	}
	h := p.copyHeader(j)

	var (
		sec         *exchange.Response
		secCut      bool
		secondaryOK chan struct{}
	)
	if p.secondary != nil {
		// The one goroutine a copy may need: the secondary must be asked at
		// the same time as the candidate for their answers to line up.
		sec, secondaryOK = &exchange.Response{}, make(chan struct{})
		go func() {
			defer close(secondaryOK)
			*sec, secCut = p.send(ctx, j, p.secondary.header(h), p.secondary, exchange.Secondary)
		}()
	}
	var cand exchange.Response
	var candCut bool
	if j.answers == nil || j.answers[0].NotSent == "" { // not when only the secondary is asked
		cand, candCut = p.send(ctx, j, p.candidate.header(h), p.candidate, exchange.Candidate)
	}
	if secondaryOK != nil {
		<-secondaryOK
	}
	c := &p.counters
	if j.answers != nil { // several candidates: the last lane to finish joins
		if candCut || secCut {
			j.cut.Store(true)
		} else {
			if j.answers[0].NotSent == "" {
				l.count(&cand, c)
				cand.Injected = p.injected(j, l.t, true)
				j.answers[0] = cand
			}
			if sec != nil {
				countFailure(sec, &c.secondaryErrors, &c.secondaryTimeouts)
				sec.Injected = p.injected(j, p.secondary, true)
				j.sec = sec
			}
		}
		p.partDone(j, l)
		return
	}
	prim, primCut := p.awaitPrimary(ctx, j, l.timeout)
	if candCut || secCut || primCut {
		p.counters.abandoned.Add(1) // Shutdown ran out of time for this copy
		return
	}

	countFailure(&cand, &c.candidateErrors, &c.candidateTimeouts)
	if sec != nil {
		countFailure(sec, &c.secondaryErrors, &c.secondaryTimeouts)
		sec.Injected = p.injected(j, p.secondary, true)
	}
	prim.Injected = p.injected(j, p.primary, false)
	cand.Injected = p.injected(j, p.candidate, true)
	p.observe(p.newExchange(j, prim, sec, cand))
}

// newExchange joins j's request with its answers.
func (p *Proxy) newExchange(j *job, prim exchange.Response, sec *exchange.Response, cand exchange.Response) *exchange.Exchange {
	x := &exchange.Exchange{
		Request: exchange.Request{
			ID:       p.idPrefix + "-" + strconv.FormatUint(j.seq, 10),
			Method:   j.method,
			URL:      j.requestURI,
			Host:     j.host,
			Header:   j.header,
			Received: j.received,
		},
		Route:     j.route,
		Primary:   prim,
		Secondary: sec,
		Candidate: cand,
	}
	switch {
	case j.body != nil:
		// The observer owns x and may change it, while a transport may, in
		// rare cases, still be reading the shared body: give it its own.
		x.Request.Body = bytes.Clone(j.body)
	case j.spool != nil:
		// A streamed body is recorded up to MaxBodyBytes, like everything
		// the proxy keeps in memory.
		x.Request.Body = j.spool.prefix(p.cfg.MaxBodyBytes)
	}
	return x
}

// copyHeader builds the headers shared (read-only) by the candidate's and
// the secondary's requests: the client's, the same forwarding headers the
// primary got, and the marker. Each target's own edits are made on a clone
// (target.header).
func (p *Proxy) copyHeader(j *job) http.Header {
	h := j.header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	setForwarded(h, h, j.remoteAddr, j.host, j.tls) // h is a clone of the client's: no slice shared with the record
	if j.teTrailers {
		h["Te"] = teTrailers // as ReverseProxy does for the primary
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = noUserAgent // as ReverseProxy: send none rather than Go's
	}
	h[p.markerKey] = p.marker
	if j.grpc {
		p.setGRPCTimeout(j, h)
	}
	return h
}

// Header values every copy may point at instead of allocating, like
// protoHTTP: never appended to or modified (a target that edits headers
// edits a clone, see target.header).
var (
	teTrailers  = []string{"trailers"}
	noUserAgent = []string{""}
)

// newCopyRequest builds j's request for t, routed exactly as the primary's
// (httputil.ProxyRequest.SetURL: base path joined, queries merged), with
// the Host t says.
func (p *Proxy) newCopyRequest(ctx context.Context, j *job, h http.Header, t *target) (*http.Request, error) {
	var body io.Reader
	if j.body != nil {
		body = bytes.NewReader(j.body) // also gives the request a GetBody, for retries
	}
	req, err := http.NewRequestWithContext(ctx, j.method, "", body)
	if err != nil {
		return nil, err
	}
	if j.spool != nil {
		s := j.spool
		req.Body, req.ContentLength = io.NopCloser(s.body()), s.size // NopCloser: the worker closes the file
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(s.body()), nil }
	}
	u := j.url
	u.RawQuery = cleanQuery(u.RawQuery)
	req.URL = &u
	if j.protoMajor == 2 { // the upstream picks the transport by it
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
	}
	(&httputil.ProxyRequest{Out: req}).SetURL(t.url)
	req.Host = t.hostFor(j.host)
	req.Header = h
	return req, nil
}

// send asks target for j's answer and reads it, at most MaxResponseBytes
// of the body: an answer longer than that is cut there, its connection
// closed, and its size is what its Content-Length says (0, unknown,
// without one). cut reports that Shutdown cancelled it.
func (p *Proxy) send(ctx context.Context, j *job, h http.Header, t *target, side exchange.Side) (res exchange.Response, cut bool) {
	res.Side = side
	req, err := p.newCopyRequest(ctx, j, h, t)
	if err != nil {
		res.Error = "build request: " + err.Error()
		return res, false
	}
	start := time.Now()
	resp, err := t.up.RoundTrip(req)
	if t.down != nil {
		t.down.record(err)
	}
	if err != nil {
		res.Latency = time.Since(start)
		return p.failed(ctx, res, t, "send", err)
	}
	removeHopByHop(resp.Header) // as ReverseProxy does for the primary's answer
	res.Status, res.Header = resp.StatusCode, resp.Header
	var more bool
	res.Body, more, err = readBounded(resp.Body, p.cfg.MaxResponseBytes, resp.ContentLength)
	var dropped int64
	if more && j.grpc && err == nil {
		dropped, err = drainForTrailers(resp.Body) // for the gRPC status
	}
	_ = resp.Body.Close() // unread past the limit: the connection is closed, not drained
	res.Latency = time.Since(start)
	res.Size, res.Truncated = int64(len(res.Body)), more
	switch {
	case more && j.grpc:
		res.Size += 1 + dropped // readBounded's probe byte, and the rest
	case more:
		res.Size = max(resp.ContentLength, 0) // 0: unknown
	}
	if err != nil {
		return p.failed(ctx, res, t, "read answer", err)
	}
	if len(resp.Trailer) > 0 {
		res.Trailer = resp.Trailer // complete once the body was read to its end
	}
	return res, false
}

// failed records err, from asking t, on res: a timeout when the copy's
// deadline passed, a cut copy when Shutdown cancelled it, an error
// otherwise. Its kind is counted for t, and the first of each kind logged.
func (p *Proxy) failed(ctx context.Context, res exchange.Response, t *target, phase string, err error) (exchange.Response, bool) {
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || deadlinePassed(ctx):
		// deadlinePassed: a connection whose deadline is ctx's (the copy
		// client's) may report it a moment before ctx's own timer fires.
		res.Timeout = true
		res.Error = fmt.Sprintf("%s: no complete answer within %s: %v", phase, cmp.Or(t.timeout, p.cfg.CandidateTimeout), err)
	case p.hardCtx.Err() != nil:
		return res, true
	case errors.As(err, &ne) && ne.Timeout():
		res.Timeout = true
		res.Error = phase + ": " + err.Error()
	default:
		res.Error = phase + ": " + err.Error()
	}
	kind := wire.ErrorKind(err)
	if res.Timeout {
		kind = wire.KindTimeout // the copy's deadline, whatever the transport made of it
	}
	res.ErrorKind = kind
	if t.up.record(kind, res.Error) {
		p.log.Warn(t.up.label()+" failed: the first "+kind+" failure; later ones are counted, not logged",
			"upstream", t.up.label(), "url", t.url.Redacted(), "kind", kind, "err", res.Error)
	}
	return res, false
}

// deadlinePassed reports whether ctx has a deadline and it has passed.
func deadlinePassed(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// awaitPrimary waits, within the copy's deadline (its timeout, for the
// message), for the primary's answer to finish streaming to the client,
// and returns it. cut reports that Shutdown cancelled the wait.
func (p *Proxy) awaitPrimary(ctx context.Context, j *job, timeout time.Duration) (exchange.Response, bool) {
	select {
	case <-j.done:
		return j.primaryResponse(), false
	case <-ctx.Done():
	}
	select {
	case <-j.done: // finished just as the deadline passed: prefer the answer
		return j.primaryResponse(), false
	default:
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return exchange.Response{}, true
	}
	// The handler still owns the primary's side: touch none of it.
	return exchange.Response{
		Side:    exchange.Primary,
		Error:   fmt.Sprintf("primary answer not finished within %s", timeout),
		Timeout: true,
	}, false
}

// primaryResponse returns the primary's side of j. Call only after done.
func (j *job) primaryResponse() exchange.Response {
	r := exchange.Response{Side: exchange.Primary, Error: j.perr, ErrorKind: j.pkind, Latency: j.finished.Sub(j.start)}
	if j.res == nil {
		return r
	}
	r.Status, r.Header = j.res.StatusCode, j.res.Header
	r.Body, r.Size = j.tee.kept, j.tee.size
	r.Truncated = r.Size > int64(len(r.Body))
	if j.tee.eof {
		r.Latency = j.tee.end.Sub(j.start)
		if len(j.res.Trailer) > 0 {
			r.Trailer = j.res.Trailer
		}
	}
	return r
}

// countFailure counts a failed answer as a timeout or an error.
func countFailure(r *exchange.Response, errs, timeouts interface{ Add(uint64) uint64 }) {
	switch {
	case r.Timeout:
		timeouts.Add(1)
	case r.Error != "":
		errs.Add(1)
	}
}

// observe hands x to the observer. A panicking observer is logged, not
// allowed to take the proxy (and the live traffic) down with it.
func (p *Proxy) observe(x *exchange.Exchange) {
	p.counters.completed.Add(1)
	if p.cfg.Observer == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("observer panicked", "id", x.Request.ID, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	p.cfg.Observer.Observe(x)
}
