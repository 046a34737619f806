package metrics

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/mirror"
)

// DefaultLatencyBuckets are the upstream latency histogram's bucket upper
// bounds in seconds: 1ms to 10s, the range HTTP services answer in.
var DefaultLatencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// ShadowConfig says where the shadow metrics come from.
type ShadowConfig struct {
	// Stats returns the proxy's counters (mirror.Proxy.Stats), read at
	// every scrape. Required.
	Stats func() mirror.Stats
	// Report returns the compare engine's report (compare.Engine.Report),
	// read at every scrape for the verdict and the noise-adjusted diff
	// ratio. Nil leaves those two out; a report costs a copy of every
	// endpoint's aggregates, so leave it nil when scrapes are frequent and
	// endpoints many.
	Report func() *compare.Report
	// MaxRoutes caps the distinct route label values; later routes are
	// reported as Other. Zero means DefaultMaxRoutes.
	MaxRoutes int
	// Buckets are the latency histogram's bucket upper bounds in seconds,
	// increasing. Empty means DefaultLatencyBuckets.
	Buckets []float64
}

// Validate names every bad field of c.
func (c ShadowConfig) Validate() error {
	var errs []error
	if c.Stats == nil {
		errs = append(errs, errors.New("stats: required"))
	}
	if c.MaxRoutes < 0 {
		errs = append(errs, fmt.Errorf("max_routes: %d is negative; want 0 (%d) or more", c.MaxRoutes, DefaultMaxRoutes))
	}
	for i := 1; i < len(c.Buckets); i++ {
		if !(c.Buckets[i] > c.Buckets[i-1]) {
			errs = append(errs, fmt.Errorf("buckets: %v is not increasing", c.Buckets))
			break
		}
	}
	return errors.Join(errs...)
}

// ShadowMetrics exports a shadow's proxy and compare figures to
// Prometheus. Counters kept by the proxy are read at scrape time; the
// per-route latency histogram and diff counters are fed by the exchange
// observer from Observer, off the client's path. Create one with
// NewShadow; it is safe for concurrent use.
type ShadowMetrics struct {
	cfg    ShadowConfig
	routes *limiter

	latency   *prometheus.HistogramVec // route, side
	diffs     *prometheus.CounterVec   // route, kind
	differing *prometheus.CounterVec   // route
	exchanges *prometheus.CounterVec   // route, outcome
	cands     candidateMetrics         // several candidates only

	mu     sync.RWMutex
	series map[compare.Endpoint]*routeSeries
}

// routeSeries are one route's series, resolved once so an exchange costs
// no label hashing.
type routeSeries struct {
	label              string
	primary, candidate prometheus.Observer
	secondaryOnce      sync.Once // most setups have no secondary: made on first use
	secondary          prometheus.Observer
	status, header     prometheus.Counter
	body, differing    prometheus.Counter
	outcomes           map[compare.Outcome]prometheus.Counter
}

// Diff kinds, the kind label of shadow_diffs_total.
const (
	KindStatus = "status"
	KindHeader = "header"
	KindBody   = "body"
)

var outcomes = []compare.Outcome{compare.Compared, compare.PrimaryFailed, compare.CandidateFailed, compare.CandidateTimedOut}

// NewShadow registers the shadow metrics on reg. On error nothing stays
// registered.
func NewShadow(reg prometheus.Registerer, cfg ShadowConfig) (*ShadowMetrics, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("shadow metrics: %w", err)
	}
	if len(cfg.Buckets) == 0 {
		cfg.Buckets = DefaultLatencyBuckets
	}
	m := &ShadowMetrics{
		cfg:    cfg,
		routes: newLimiter(cmp.Or(cfg.MaxRoutes, DefaultMaxRoutes)),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shadow_upstream_latency_seconds",
			Help:    "Time from sending a mirrored request to an upstream to reading its whole answer, for answers that arrived, by route and side (primary, secondary, candidate).",
			Buckets: slices.Clone(cfg.Buckets),
		}, []string{"route", "side"}),
		diffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shadow_diffs_total",
			Help: "Compared exchanges whose candidate answer differed from the primary's, by route and kind: status, header, or body (body differences not explained by noise learned so far). One exchange counts once per kind.",
		}, []string{"route", "kind"}),
		differing: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shadow_differing_exchanges_total",
			Help: "Compared exchanges that differed in any way other than noise learned so far, by route; divide by shadow_exchanges_total{outcome=\"compared\"} for the diff rate.",
		}, []string{"route"}),
		exchanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shadow_exchanges_total",
			Help: "Exchanges judged by the compare engine, by route and outcome (compared, primary_error, candidate_error, candidate_timeout).",
		}, []string{"route", "outcome"}),
		series: map[compare.Endpoint]*routeSeries{},
		cands:  newCandidateMetrics(),
	}
	if err := registerAll(reg, m.latency, m.diffs, m.differing, m.exchanges, m.cands.exchanges, m.cands.differing, shadowCollector{m}); err != nil {
		return nil, fmt.Errorf("shadow metrics: %w", err)
	}
	return m, nil
}

// registerAll registers every collector, or none: on an error it
// unregisters those it had registered.
func registerAll(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return err
		}
	}
	return nil
}

// Observer wraps judge (compare.Engine.Record) into a function with the
// shape of the proxy's observer (mirror.ObserverFunc): each exchange is
// judged, then counted under the route the engine filed it under. It is
// safe for concurrent use; beyond the judging, an exchange costs a few
// atomic adds and no allocation.
func (m *ShadowMetrics) Observer(judge func(*exchange.Exchange) compare.Result) func(*exchange.Exchange) {
	return func(x *exchange.Exchange) {
		res := judge(x)
		m.Record(x, res)
	}
}

// Record counts one exchange and the engine's judgement of it, for
// callers that judge exchanges themselves (replaying a capture).
func (m *ShadowMetrics) Record(x *exchange.Exchange, res compare.Result) {
	m.cands.record(res) // several candidates: each one's outcome
	s := m.route(res.Endpoint)
	if c := s.outcomes[res.Outcome]; c != nil {
		c.Inc()
	}
	if x.Primary.OK() {
		s.primary.Observe(x.Primary.Latency.Seconds())
	}
	if x.Candidate.OK() {
		s.candidate.Observe(x.Candidate.Latency.Seconds())
	}
	if sec := x.Secondary; sec.OK() {
		s.secondaryOnce.Do(func() { s.secondary = m.latency.WithLabelValues(s.label, string(exchange.Secondary)) })
		s.secondary.Observe(sec.Latency.Seconds())
	}
	if res.Outcome != compare.Compared {
		return
	}
	hard := len(res.Status) > 0 || len(res.Headers) > 0
	if len(res.Status) > 0 {
		s.status.Inc()
	}
	if len(res.Headers) > 0 {
		s.header.Inc()
	}
	if bodyDiffers(res, hard) {
		s.body.Inc()
	}
	if res.Differs {
		s.differing.Inc()
	}
}

// bodyDiffers reports whether a compared exchange's body differs other
// than by noise. Result.Body lists at most a bounded number of
// differences; when all of those are noise, an exchange that differs with
// no status or header difference must differ in a body field left out.
func bodyDiffers(res compare.Result, hard bool) bool {
	for _, d := range res.Body {
		if !d.Noise {
			return true
		}
	}
	return res.Differs && !hard
}

// routeLabel names an endpoint as the route label: "GET /orders/{id}",
// and Other for the engine's overflow endpoint.
func routeLabel(ep compare.Endpoint) string {
	if ep.Route == compare.OtherRoute {
		return Other
	}
	return ep.String()
}

// maxCachedEndpoints bounds the endpoint-to-series cache. The engine
// bounds its endpoints (compare.Config.MaxEndpoints, 500 by default); an
// endpoint past this bound is still counted, only resolved anew each time.
const maxCachedEndpoints = 1024

// route returns the series of an endpoint, resolving them on first use.
// Endpoints past the route cap get series of their own that count into
// Other's (a vector hands out one child per label set).
func (m *ShadowMetrics) route(ep compare.Endpoint) *routeSeries {
	m.mu.RLock()
	s := m.series[ep]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	label := m.routes.value(routeLabel(ep))
	s = &routeSeries{
		label:     label,
		primary:   m.latency.WithLabelValues(label, string(exchange.Primary)),
		candidate: m.latency.WithLabelValues(label, string(exchange.Candidate)),
		status:    m.diffs.WithLabelValues(label, KindStatus),
		header:    m.diffs.WithLabelValues(label, KindHeader),
		body:      m.diffs.WithLabelValues(label, KindBody),
		differing: m.differing.WithLabelValues(label),
		outcomes:  make(map[compare.Outcome]prometheus.Counter, len(outcomes)),
	}
	for _, o := range outcomes {
		s.outcomes[o] = m.exchanges.WithLabelValues(label, string(o))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cached := m.series[ep]; cached != nil {
		return cached
	}
	if len(m.series) < maxCachedEndpoints {
		m.series[ep] = s
	}
	return s
}

// shadowCollector reads the proxy's counters (and the report) at scrape
// time.
type shadowCollector struct{ m *ShadowMetrics }

var (
	descRequests = prometheus.NewDesc("shadow_requests_total",
		"Client requests the proxy received and forwarded to the primary.", nil, nil)
	descMirrored = prometheus.NewDesc("shadow_mirrored_total",
		"Copies of client requests queued for the candidate (and secondary).", nil, nil)
	descCompleted = prometheus.NewDesc("shadow_mirror_completed_total",
		"Mirrored copies whose joined exchange reached the observer.", nil, nil)
	descStreamed = prometheus.NewDesc("shadow_mirror_streamed_total",
		"Mirrored copies whose request body was too large to hold and was streamed through a spool file.", nil, nil)
	descDropped = prometheus.NewDesc("shadow_mirror_dropped_total",
		"Copies lost after a request was chosen for mirroring, by reason: queue_full (overload), stale (overload: waited in the queue longer than max_queue_wait, not sent), abandoned (cancelled at shutdown).", []string{"reason"}, nil)
	descSkipped = prometheus.NewDesc("shadow_mirror_skipped_total",
		"Requests not mirrored by rule or limit, by reason (method, route, paused, sample, body_size, body_error, stream, upgrade, shutdown, candidate_down, body_budget, grpc_stream).", []string{"reason"}, nil)
	descUpstreamErrors = prometheus.NewDesc("shadow_upstream_errors_total",
		"Upstream requests that got no complete answer, by side and kind (error, timeout).", []string{"side", "kind"}, nil)
	descInFlight = prometheus.NewDesc("shadow_in_flight_requests",
		"Client requests being served now.", nil, nil)
	descQueueLength = prometheus.NewDesc("shadow_mirror_queue_length",
		"Copies waiting for a mirror worker now.", nil, nil)
	descQueueCapacity = prometheus.NewDesc("shadow_mirror_queue_capacity",
		"How many copies the mirror queue holds before it drops.", nil, nil)
	descWorkers = prometheus.NewDesc("shadow_mirror_workers",
		"Mirror workers: copies in flight at once at most.", nil, nil)
	descWSConnections = prometheus.NewDesc("shadow_websocket_connections_total",
		"WebSocket upgrades on routes that mirror them, by route (the mirror route's name) and outcome: mirrored (a session started), refused (the candidate did not upgrade), skipped (passed through: too many at once, or shutdown), unfollowed (an extension or a broken frame: not compared).", []string{"route", "outcome"}, nil)
	descWSMessages = prometheus.NewDesc("shadow_websocket_messages_total",
		"Messages of mirrored WebSocket connections, by route and outcome: compared (server messages paired and observed), dropped (lost to a full queue or the bytes bound: not compared), late (a counterpart after its pair was judged without it), unpaired (a counterpart beyond the primary's last message).", []string{"route", "outcome"}, nil)
	descVerdict = prometheus.NewDesc("shadow_verdict",
		"The compare report's verdict now: 1 for the current one (pass or fail), 0 for the other.", []string{"verdict"}, nil)
	descDiffRatio = prometheus.NewDesc("shadow_diff_ratio",
		"Share of compared exchanges that differ, judged with all the noise learned so far (it can fall as noise is learned).", nil, nil)
)

func (c shadowCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descMirrored, descCompleted, descStreamed, descDropped,
		descSkipped, descUpstreamErrors, descInFlight, descQueueLength, descQueueCapacity, descWorkers,
		descWSConnections, descWSMessages} {
		ch <- d
	}
	if c.m.cfg.Report != nil {
		ch <- descVerdict
		ch <- descDiffRatio
	}
}

func (c shadowCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.cfg.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter(descRequests, s.Received)
	counter(descMirrored, s.Mirrored)
	counter(descCompleted, s.Completed)
	counter(descStreamed, s.Streamed)
	counter(descDropped, s.Dropped, "queue_full")
	counter(descDropped, s.Stale, "stale")
	counter(descDropped, s.Abandoned, "abandoned")
	for reason, n := range s.Skipped { // a fixed set of reasons, from the proxy
		counter(descSkipped, n, reason)
	}
	counter(descUpstreamErrors, s.PrimaryErrors, string(exchange.Primary), "error")
	counter(descUpstreamErrors, s.CandidateErrors, string(exchange.Candidate), "error")
	counter(descUpstreamErrors, s.CandidateTimeouts, string(exchange.Candidate), "timeout")
	counter(descUpstreamErrors, s.SecondaryErrors, string(exchange.Secondary), "error")
	counter(descUpstreamErrors, s.SecondaryTimeouts, string(exchange.Secondary), "timeout")
	gauge(descInFlight, float64(s.InFlight))
	gauge(descQueueLength, float64(s.QueueDepth))
	gauge(descQueueCapacity, float64(s.QueueSize))
	gauge(descWorkers, float64(s.Workers))
	for _, ws := range s.WebSockets { // routes with websocket: true only
		counter(descWSConnections, ws.Connections, ws.Route, "mirrored")
		counter(descWSConnections, ws.Refused, ws.Route, "refused")
		counter(descWSConnections, ws.Skipped, ws.Route, "skipped")
		counter(descWSConnections, ws.Unfollowed, ws.Route, "unfollowed")
		counter(descWSMessages, ws.Messages, ws.Route, "compared")
		counter(descWSMessages, ws.Dropped, ws.Route, "dropped")
		counter(descWSMessages, ws.Late, ws.Route, "late")
		counter(descWSMessages, ws.Unpaired, ws.Route, "unpaired")
	}
	if c.m.cfg.Report == nil {
		return
	}
	r := c.m.cfg.Report()
	if r == nil {
		return
	}
	for _, v := range []string{compare.Pass, compare.Fail} {
		val := 0.0
		if r.Verdict == v {
			val = 1
		}
		gauge(descVerdict, val, v)
	}
	gauge(descDiffRatio, r.Totals.DiffRate)
}
