package mirror

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/wire"
)

// Proxy serves every request from the primary and mirrors eligible ones to
// the candidate (and secondary). Create it with New; stop it with Shutdown
// or Close.
type Proxy struct {
	cfg                           Config  // with defaults applied
	primary, candidate, secondary *target // secondary is nil when none
	routes                        []route
	sampleKey                     sampleKey
	markerKey                     string   // cfg.MarkerHeader, canonical
	marker                        []string // {cfg.MarkerValue}, shared read-only by every copy's headers
	log                           *slog.Logger
	idPrefix                      string
	spoolDir                      string // where large bodies are spooled: os.TempDir()

	// settings are the live settings (see settings.go): read with one
	// atomic load per request, replaced whole under settingsMu.
	settings   atomic.Pointer[settings]
	settingsMu sync.Mutex

	spools atomic.Int64 // spools in use, at most cfg.MaxSpooledBodies
	bodies bodyBudget   // request body bytes held for copies (see body.go)

	// candidateDown skips copies while the candidate refuses connections
	// (see breaker.go); the first candidate's when there are several.
	candidateDown breaker

	// lanes are the candidates' ways (see candidates.go): one with a
	// single candidate, whose target is candidate and queue is queue.
	// named is set when Config.Candidates lists them.
	lanes []*lane
	named bool

	// plain forwards requests that are not mirrored; teed forwards mirrored
	// ones and tees the answer. Two proxies rather than one keep the
	// skipped path free of the tee's context lookup: it is exactly a
	// ReverseProxy.
	plain, teed *httputil.ReverseProxy

	queue chan *job
	seq   atomic.Uint64 // last job sequence number

	// Shutdown: closing stops new copies; enqueuing counts ServeHTTP calls
	// between their closing check and their send, so Shutdown can wait for
	// them before closing the queue (see enqueue). hardCtx is every copy's
	// parent; cancelling it abandons the copies in flight.
	closing    atomic.Bool
	enqueuing  atomic.Int64
	stopOnce   sync.Once
	hardCtx    context.Context
	hardCancel context.CancelFunc
	live       atomic.Int64  // workers still running
	done       chan struct{} // closed when the last worker returns

	// Logs that could come once per request are throttled to one a second.
	dropLog, primaryLog, spoolLog, staleLog throttle
	loggedDrops                             atomic.Uint64 // Dropped as of the last "queue full" log
	loggedStale                             atomic.Uint64 // Stale as of the last "stale copies" log

	counters counters

	ws webSockets // WebSocket mirroring (websocket.go)
}

// jobKey is the context key under which a mirrored request carries its job
// to ModifyResponse and ErrorHandler.
type jobKey struct{}

// New validates cfg, applies its defaults and starts the workers. The
// caller must call Shutdown or Close to stop them.
func New(cfg Config) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("mirror config: %w", err)
	}
	cfg = cfg.WithDefaults()
	routes, err := compileRoutes(cfg.Routes)
	if err != nil {
		return nil, fmt.Errorf("mirror config: %w", err) // unreachable: Validate parsed them
	}
	p := &Proxy{
		cfg:       cfg,
		routes:    routes,
		markerKey: textproto.CanonicalMIMEHeaderKey(cfg.MarkerHeader),
		marker:    []string{cfg.MarkerValue},
		log:       cfg.Logger,
		idPrefix:  fmt.Sprintf("%08x", rand.Uint32()),
		spoolDir:  os.TempDir(),
		queue:     make(chan *job, cfg.QueueSize),
		done:      make(chan struct{}),
	}
	p.bodies.limit = cfg.MaxBufferedBytes
	// Validate has parsed these already; errors cannot happen here.
	p.sampleKey, _ = parseSampleBy(cfg.SampleBy)
	u, _ := parseUpstream(cfg.Primary)
	p.primary = compileTarget(cfg.PrimaryTarget, u, cfg.PreserveHost)
	p.lanes, p.named = newLanes(cfg, p.queue, cfg.PreserveHost), len(cfg.Candidates) > 0
	p.candidate = p.lanes[0].t
	for i, l := range p.lanes {
		l.t.down = &p.candidateDown
		if i > 0 {
			l.t.down = &breaker{}
		}
	}
	if cfg.Secondary != "" {
		u, _ = parseUpstream(cfg.Secondary)
		p.secondary = compileTarget(cfg.SecondaryTarget, u, cfg.PreserveHost)
	}
	disabled := make([]bool, len(routes))
	for i, rt := range routes {
		disabled[i] = rt.disabled
	}
	p.settings.Store(newSettings(false, cfg.SamplePercent, disabled))
	if err := p.connect(); err != nil {
		return nil, fmt.Errorf("mirror config: %w", err)
	}

	// FlushInterval 0: streams (event streams, answers without a length)
	// are flushed by ReverseProxy itself, every other write by ServeHTTP's
	// flushWriter unless it completes the answer (see flush.go), so a body
	// that arrives slowly reaches the client as it arrives, Content-Length
	// or not.
	p.plain = &httputil.ReverseProxy{
		Rewrite:      p.rewrite,
		Transport:    p.primary.up,
		BufferPool:   &bufferPool{},
		ErrorHandler: p.errorHandler,
		ErrorLog:     slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	teed := *p.plain // the same, sharing the buffer pool, plus the tee
	teed.ModifyResponse = p.modifyResponse
	p.teed = &teed
	p.initWebSockets()

	p.hardCtx, p.hardCancel = context.WithCancel(context.Background())
	p.live.Store(int64(cfg.Workers * len(p.lanes)))
	for range cfg.Workers {
		go p.work()
	}
	for _, l := range p.lanes[1:] {
		for range cfg.Workers {
			go p.workLane(l)
		}
	}
	return p, nil
}

// ServeHTTP forwards r to the primary and streams its answer to w. When r
// is eligible, a copy is queued first (so the candidate's request starts
// with the primary's) and the answer is teed for the worker that joins the
// exchange. A body too large to hold is spooled on its way to the primary
// and its copy queued once the primary has read it (see spool.go). Every
// request body is read under BodyReadTimeout (see body.go).
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &p.counters
	c.received.Add(1)
	c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	if isGRPCRequest(r) {
		p.serveGRPC(w, r) // its body is a stream: see grpc.go
		return
	}

	// ContentLength 0 is an empty body: an HTTP/2 request has a body
	// reader even when its stream ended with its headers (a GET).
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		b := p.watchBody(w, r.Body)
		defer b.finish() // last: nothing reads the body any more
		r = withBody(r, context.WithValue(r.Context(), bodyKey{}, b), b, r.ContentLength)
	}
	fw := getFlushWriter(w) // after watchBody, which keeps the server's w
	defer putFlushWriter(fw)
	w = fw
	rt, reason, ok := p.admit(r)
	if !ok {
		// The hot path when mirroring is off: no allocation of ours
		// (without a body).
		c.skipped[reason].Add(1)
		p.plain.ServeHTTP(w, r)
		return
	}
	if len(r.Header["Upgrade"]) > 0 { // admitted: a route that mirrors WebSockets
		p.serveWebSocket(w, r, rt)
		return
	}
	body, held, fwd, reason, ok := p.readBody(r)
	if !ok {
		defer p.bodies.give(held) // once the primary has read what was buffered
		if reason == skipBodySize && p.streamable(r) {
			p.serveStreamed(w, r, rt, fwd)
			return
		}
		c.skipped[reason].Add(1)
		p.plain.ServeHTTP(w, withBody(r, r.Context(), fwd, r.ContentLength))
		return
	}
	length := r.ContentLength
	if fwd != nil {
		length = int64(len(body)) // primary and copies get the same framing
	}

	now := time.Now()
	j := p.newJob(r, rt, body, held, now)
	if !p.enqueue(j) {
		defer p.bodies.give(held) // no worker shares the body
		p.plain.ServeHTTP(w, withBody(r, r.Context(), fwd, length))
		return
	}
	ctx := context.WithValue(r.Context(), jobKey{}, j)
	defer p.finishPrimary(j, r.Context()) // deferred: runs on ReverseProxy's abort panic too
	j.start = time.Now()
	p.teed.ServeHTTP(w, withBody(r, ctx, fwd, length))
}

// admit decides, before reading anything, whether r is to be mirrored. It
// returns the matched route (nil for none), or why r is skipped. It reads
// the live settings once, so one request sees one consistent set.
func (p *Proxy) admit(r *http.Request) (*route, skipReason, bool) {
	s := p.settings.Load()
	rt := matchRoute(p.routes, r)
	switch {
	case rt != nil && s.disabled[rt.index]:
		return nil, skipRoute, false
	case !mirrorable(r.Method, rt) && !isGRPCRequest(r): // gRPC: see serveGRPC
		return nil, skipMethod, false
	case len(r.Header["Upgrade"]) > 0 && (rt == nil || !rt.websocket || !isWebSocketUpgrade(r)):
		// A WebSocket or h2c upgrade turns into a tunnel, not an exchange,
		// unless its route mirrors WebSockets (serveWebSocket).
		return nil, skipUpgrade, false
	case s.paused:
		return nil, skipPaused, false
	case s.percent < 100 && !p.sampled(r, s):
		return nil, skipSample, false
	case !p.named && !p.candidateDown.allow(): // several: per candidate, in enqueueLanes
		return nil, skipCandidateDown, false
	case p.closing.Load():
		// An early check so no body is read for nothing; enqueue makes the
		// definitive one.
		return nil, skipShutdown, false
	}
	return rt, 0, true
}

// withBody returns r with ctx, and with body and length when body is not
// nil. It never modifies r, which belongs to the server.
func withBody(r *http.Request, ctx context.Context, body io.ReadCloser, length int64) *http.Request {
	if body == nil && ctx == r.Context() {
		return r
	}
	r2 := r.WithContext(ctx)
	if body != nil {
		r2.Body, r2.ContentLength = body, length
	}
	return r2
}

// enqueue puts j on the queue unless the queue is full (the copy is
// dropped: the client must never wait for a worker) or Shutdown has begun.
func (p *Proxy) enqueue(j *job) bool {
	// Shutdown sets closing, then waits for enqueuing to reach zero before
	// closing the queue. Go's atomics are sequentially consistent, so either
	// this load sees closing, or Shutdown sees this call in enqueuing and
	// waits: a send on the closed queue cannot happen.
	p.enqueuing.Add(1)
	defer p.enqueuing.Add(-1)
	if p.closing.Load() {
		p.counters.skipped[skipShutdown].Add(1)
		return false
	}
	if p.named {
		return p.enqueueLanes(j)
	}
	select {
	case p.queue <- j:
		p.counters.mirrored.Add(1)
		return true
	default:
		p.counters.dropped.Add(1) // logged by a worker (logDrops), not here on the client's path
		return false
	}
}

// connect builds each target's transports (see upstream), and warns about
// every target whose certificates are not verified.
func (p *Proxy) connect() error {
	type upstreamOf struct {
		t       *target
		cfg     Target
		side    exchange.Side
		maxIdle int
	}
	ups := []upstreamOf{
		{p.primary, p.cfg.PrimaryTarget, exchange.Primary, 512},
		{p.secondary, p.cfg.SecondaryTarget, exchange.Secondary, p.cfg.Workers},
	}
	for i, cd := range p.cfg.candidateList() {
		ups = append(ups, upstreamOf{p.lanes[i].t, cd.Target, exchange.Candidate, p.cfg.Workers})
	}
	for _, c := range ups {
		if c.t == nil {
			continue
		}
		lean := c.side != exchange.Primary && p.cfg.CopyClient != CopyClientTransport
		up, err := newUpstream(c.side, c.cfg, c.t.url, c.maxIdle, p.cfg.Transport, lean)
		if err != nil {
			p.closeIdle()
			if p.named && c.side == exchange.Candidate {
				return fmt.Errorf("candidates[%d].tls: %w", slices.IndexFunc(p.lanes, func(l *lane) bool { return l.t == c.t }), err)
			}
			return fmt.Errorf("%s_target.tls: %w", c.side, err)
		}
		up.name = c.t.name
		c.t.up = up
		if c.cfg.TLS.InsecureSkipVerify && p.cfg.Transport == nil {
			p.log.Warn("TLS certificates not verified: insecure_skip_verify is set; anyone on the path can read and change this traffic",
				"upstream", up.label(), "url", c.t.url.Redacted())
		}
	}
	return nil
}

// closeIdle closes the idle connections of every upstream's transports.
func (p *Proxy) closeIdle() {
	for _, t := range p.targets() {
		if t.up != nil {
			t.up.closeIdle()
		}
	}
}

// targets returns every upstream's target: the primary, the candidates,
// then the secondary if there is one.
func (p *Proxy) targets() []*target {
	ts := []*target{p.primary}
	for _, l := range p.lanes {
		ts = append(ts, l.t)
	}
	if p.secondary != nil {
		ts = append(ts, p.secondary)
	}
	return ts
}

// rewrite routes an outbound primary request, for both ReverseProxies, as
// PrimaryTarget says.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	t := p.primary
	pr.SetURL(t.url)
	pr.Out.Host = t.hostFor(pr.In.Host)
	setForwarded(pr.Out.Header, pr.In.Header, pr.In.RemoteAddr, pr.In.Host, pr.In.TLS != nil)
	t.editHeader(pr.Out.Header)
}

// modifyResponse wraps a mirrored request's answer in the job's tee.
func (p *Proxy) modifyResponse(res *http.Response) error {
	j, _ := res.Request.Context().Value(jobKey{}).(*job)
	if j == nil || res.StatusCode == http.StatusSwitchingProtocols {
		return nil // an upgraded body is a connection: leave it alone
	}
	j.res = res
	t := &j.tee
	t.src, t.max = res.Body, p.cfg.MaxResponseBytes
	if res.ContentLength > 0 && res.Request.Method != http.MethodHead {
		t.kept = make([]byte, 0, min(res.ContentLength, t.max))
	}
	res.Body = t
	return nil
}

// primaryUnavailable is the body of the 502 a client gets when the primary
// fails before answering. The cause (addresses, errors) goes to the log,
// not to clients.
const primaryUnavailable = "502 Bad Gateway: the primary service did not answer\n"

// errorHandler answers 502 when the primary could not be reached or failed
// before its answer began, and records why in the job.
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	j, _ := r.Context().Value(jobKey{}).(*job)
	if berr := clientBodyError(r); berr != nil {
		// The client's body stalled past BodyReadTimeout or broke off: not
		// the primary's fault.
		if j != nil {
			j.perr = "client's request body failed: " + berr.Error()
		}
		p.log.Debug("client's request body failed", "method", r.Method, "path", r.URL.Path, "err", berr)
		status := http.StatusBadRequest
		if stalled(berr) {
			status = http.StatusRequestTimeout
		}
		w.Header().Set("Connection", "close")
		w.WriteHeader(status)
		return
	}
	if r.Context().Err() != nil {
		// The client went away (r's context is the client's): not the
		// primary's fault, and nobody is left to read an answer.
		if j != nil {
			j.perr = "client went away before the primary answered: " + err.Error()
		}
		p.log.Debug("client went away before the primary answered", "method", r.Method, "path", r.URL.Path, "err", err)
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	n := p.counters.primaryErrors.Add(1)
	kind := wire.ErrorKind(err)
	first := p.primary.up.record(kind, err.Error())
	if j != nil {
		j.perr, j.pkind = "primary: "+err.Error(), kind
	}
	// The first failure of each kind is always logged; the rest at most
	// once a second.
	if p.primaryLog.allow(time.Second) || first {
		p.log.Warn("primary failed", "method", r.Method, "path", r.URL.Path, "kind", kind, "err", err, "primary_errors", n)
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = io.WriteString(w, primaryUnavailable)
}

// finishPrimary marks the primary side of j done, once ReverseProxy has
// returned and nothing touches the answer any more; it records why the
// answer is incomplete, if it is. clientCtx is the client's request context.
func (p *Proxy) finishPrimary(j *job, clientCtx context.Context) {
	defer p.letGo(j)
	j.finished = time.Now()
	if j.spool != nil {
		j.spool.discard(skipStream) // unless the primary read the body to its end
	}
	if j.gbody != nil {
		j.gbody.finish() // sent if the primary read one whole message, else discarded
	}
	switch {
	case j.res == nil:
		if j.perr == "" {
			j.perr = "primary: no answer"
		}
	case j.tee.eof:
		// complete
	case clientCtx.Err() != nil:
		j.perr = "client went away before the primary's answer was delivered in full"
	case j.tee.err != nil:
		j.perr, j.pkind = "read primary answer: "+j.tee.err.Error(), wire.ErrorKind(j.tee.err)
		p.counters.primaryErrors.Add(1)
		p.primary.up.record(j.pkind, j.perr)
	default:
		j.perr = "primary answer was not delivered in full"
	}
	close(j.done)
}
