package metrics

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/mirror"
)

// shadowRoutes are the kinds of answer upstream gives, by first path
// segment, and how the candidate's answer differs from the primary's.
var shadowRoutes = []struct {
	kind                         string
	status, header, body, differ bool
}{
	{kind: "orders"},
	{kind: "prices", body: true, differ: true},
	{kind: "users", header: true, differ: true},
	{kind: "gone", status: true, differ: true},
	{kind: "clock"}, // the body differs, but the secondary's too: noise
	{kind: "broken", status: true, header: true, body: true, differ: true},
}

// TestShadowMetricsAfterRun drives a real proxy with a secondary and a
// compare engine through requests of known shapes, then checks every
// series of the registry: counts per route and diff kind, route labels
// that are templates (never the raw paths), latency histogram counts per
// side, unsafe methods skipped, and the report's verdict and diff ratio.
func TestShadowMetricsAfterRun(t *testing.T) {
	t.Parallel()
	const perRoute, queueSize, workers = 3, 64, 4
	rig := newShadowRig(t, mirror.Config{
		Primary:   serve(t, upstream(exchange.Primary)),
		Secondary: serve(t, upstream(exchange.Secondary)),
		Candidate: serve(t, upstream(exchange.Candidate)),
		QueueSize: queueSize, Workers: workers,
	}, compare.Config{
		Noise:   compare.NoiseConfig{MinSamples: 1}, // so the report learns the noise from this few
		Verdict: compare.VerdictRule{MinPairs: 1},
	}, ShadowConfig{}, false)

	// Raw paths of many id shapes; every one is templated as {id}.
	ids := []string{"1001", "ord-000042", "3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f"}
	var paths []string
	for _, r := range shadowRoutes {
		for _, id := range ids[:perRoute] {
			paths = append(paths, "/"+r.kind+"/"+id)
		}
	}
	for _, p := range paths {
		if got := rig.do(t, http.MethodGet, p); got != http.StatusOK {
			t.Fatalf("GET %s: the client got %d, want the primary's 200", p, got)
		}
	}
	rig.do(t, http.MethodPost, "/orders/1001") // unsafe: not mirrored
	rig.do(t, http.MethodDelete, "/orders/1001")
	rig.await(t, len(paths))
	rig.settle(t)

	mirrored := float64(len(paths))
	want := proxySeries(queueSize, workers, map[string]float64{
		"shadow_requests_total":                               mirrored + 2,
		"shadow_mirrored_total":                               mirrored,
		"shadow_mirror_completed_total":                       mirrored,
		sk("shadow_mirror_skipped_total", "reason", "method"): 2,
		sk("shadow_verdict", "verdict", compare.Pass):         0,
		sk("shadow_verdict", "verdict", compare.Fail):         1,
	})
	differing := 0
	for _, r := range shadowRoutes {
		n := float64(perRoute)
		count := func(b bool) float64 {
			if b {
				return n
			}
			return 0
		}
		routeWant{
			outcomes:  map[compare.Outcome]float64{compare.Compared: n},
			status:    count(r.status),
			header:    count(r.header),
			body:      count(r.body),
			differing: count(r.differ),
			primary:   n, candidate: n, secondary: n,
		}.add(want, "GET /"+r.kind+"/{id}")
		if r.differ {
			differing += perRoute
		}
	}
	// The report rounds its rates to 6 decimals.
	want["shadow_diff_ratio"] = math.Round(float64(differing)/mirrored*1e6) / 1e6
	got := series(t, rig.reg)
	checkSeries(t, got, want)

	for k := range got {
		for _, id := range ids {
			if strings.Contains(k, id) {
				t.Errorf("series %s carries a raw path segment %q", k, id)
			}
		}
	}
	checkLatencySums(t, rig.reg)
	lintClean(t, rig.reg)
}

// checkLatencySums checks that every latency histogram with samples has a
// positive sum; the unit is pinned by TestShadowRecordUnits.
func checkLatencySums(t testing.TB, g prometheus.Gatherer) {
	t.Helper()
	for _, mf := range families(t, g, "shadow_upstream_latency_seconds") {
		for _, m := range mf.GetMetric() {
			if h := m.GetHistogram(); h.GetSampleCount() > 0 && !(h.GetSampleSum() > 0) {
				t.Errorf("%s: %d samples summing to %v, want a positive sum",
					key(mf.GetName(), m.GetLabel()), h.GetSampleCount(), h.GetSampleSum())
			}
		}
	}
}

// TestShadowUpstreamFailures: real faults on one side are counted by the
// proxy (shadow_upstream_errors_total) and by outcome per route, and a
// side that gave no answer adds nothing to its latency histogram.
func TestShadowUpstreamFailures(t *testing.T) {
	t.Parallel()
	const n = 3
	tests := []struct {
		name               string
		primary, candidate func(t testing.TB) string
		timeout            time.Duration
		wantStatus         int // what the client gets
		outcome            compare.Outcome
		errSeries          string
		primaryN, candN    float64 // latency samples per side
	}{
		{
			name:       "candidate refuses connections",
			primary:    func(t testing.TB) string { return serve(t, upstream(exchange.Primary)) },
			candidate:  refusing,
			wantStatus: http.StatusOK,
			outcome:    compare.CandidateFailed,
			errSeries:  sk("shadow_upstream_errors_total", "kind", "error", "side", "candidate"),
			primaryN:   n,
		},
		{
			name:       "candidate never answers",
			primary:    func(t testing.TB) string { return serve(t, upstream(exchange.Primary)) },
			candidate:  hanging,
			timeout:    time.Second,
			wantStatus: http.StatusOK,
			outcome:    compare.CandidateTimedOut,
			errSeries:  sk("shadow_upstream_errors_total", "kind", "timeout", "side", "candidate"),
			primaryN:   n,
		},
		{
			name:       "primary refuses connections",
			primary:    refusing,
			candidate:  func(t testing.TB) string { return serve(t, upstream(exchange.Candidate)) },
			wantStatus: http.StatusBadGateway,
			outcome:    compare.PrimaryFailed,
			errSeries:  sk("shadow_upstream_errors_total", "kind", "error", "side", "primary"),
			candN:      n,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const queueSize, workers = 16, n
			rig := newShadowRig(t, mirror.Config{
				Primary: tc.primary(t), Candidate: tc.candidate(t),
				QueueSize: queueSize, Workers: workers, CandidateTimeout: tc.timeout,
			}, compare.Config{}, ShadowConfig{}, true)
			for i := range n {
				if got := rig.do(t, http.MethodGet, fmt.Sprintf("/orders/%d", 1000+i)); got != tc.wantStatus {
					t.Errorf("client got %d, want %d", got, tc.wantStatus)
				}
			}
			rig.await(t, n)
			rig.settle(t)

			want := proxySeries(queueSize, workers, map[string]float64{
				"shadow_requests_total":         n,
				"shadow_mirrored_total":         n,
				"shadow_mirror_completed_total": n,
				tc.errSeries:                    n,
			})
			routeWant{
				outcomes: map[compare.Outcome]float64{tc.outcome: n},
				primary:  tc.primaryN, candidate: tc.candN, secondary: -1,
			}.add(want, "GET /orders/{id}")
			checkSeries(t, series(t, rig.reg), want)
		})
	}
}

// TestShadowRouteCap: whichever caps the routes, the compare engine
// (MaxEndpoints, its overflow endpoint) or the metrics (MaxRoutes), the
// first routes keep their label and every later one is counted as Other,
// so the series stay bounded.
func TestShadowRouteCap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		maxEndpoints int // compare.Config; one slot is the overflow's
		maxRoutes    int // ShadowConfig
	}{
		{name: "metrics cap", maxRoutes: 2},
		{name: "engine cap", maxEndpoints: 3},
		{name: "both", maxEndpoints: 3, maxRoutes: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := newShadowRig(t, mirror.Config{
				Primary:   serve(t, upstream(exchange.Primary)),
				Candidate: serve(t, upstream(exchange.Candidate)),
				Workers:   1, // exchanges reach the metrics in request order
			}, compare.Config{MaxEndpoints: tc.maxEndpoints}, ShadowConfig{MaxRoutes: tc.maxRoutes}, true)
			paths := []string{"/a/1", "/b/1", "/c/1", "/d/1", "/a/2", "/e/1", "/b/2"}
			for _, p := range paths {
				rig.do(t, http.MethodGet, p)
			}
			rig.await(t, len(paths))

			got := series(t, rig.reg, "shadow_exchanges_total")
			want := map[string]float64{}
			for route, n := range map[string]float64{"GET /a/{id}": 2, "GET /b/{id}": 2, Other: 3} {
				for _, o := range []compare.Outcome{compare.Compared, compare.PrimaryFailed, compare.CandidateFailed, compare.CandidateTimedOut} {
					want[sk("shadow_exchanges_total", "outcome", string(o), "route", route)] = 0
				}
				want[sk("shadow_exchanges_total", "outcome", string(compare.Compared), "route", route)] = n
			}
			checkSeries(t, got, want)

			routes := map[string]bool{}
			for _, mf := range families(t, rig.reg) {
				for _, m := range mf.GetMetric() {
					for _, l := range m.GetLabel() {
						if l.GetName() == "route" {
							routes[l.GetValue()] = true
						}
					}
				}
			}
			if len(routes) != 3 {
				t.Errorf("route labels %v, want 2 routes and %q", routes, Other)
			}
		})
	}
}

// TestShadowQueueFull fills the queue of a one-worker proxy whose
// candidate is stuck: the next copy is dropped (queue_full) while the
// gauges show the full queue; then either the candidate recovers and the
// queued copies are compared, or the proxy closes and they are abandoned.
func TestShadowQueueFull(t *testing.T) {
	t.Parallel()
	for _, closeProxy := range []bool{false, true} {
		t.Run(fmt.Sprintf("close=%v", closeProxy), func(t *testing.T) {
			t.Parallel()
			g := newGate()
			t.Cleanup(g.open)
			rig := newShadowRig(t, mirror.Config{
				Primary:   serve(t, upstream(exchange.Primary)),
				Candidate: serve(t, g.wrap(upstream(exchange.Candidate))),
				Workers:   1, QueueSize: 1,
				MaxQueueWait: -1, // the queued copy waits for the test, however slow the machine
			}, compare.Config{}, ShadowConfig{}, true)

			rig.do(t, http.MethodGet, "/q/1")
			waitFor(t, g.arrived, "the worker to be stuck on the first copy")
			rig.do(t, http.MethodGet, "/q/2") // queued
			rig.do(t, http.MethodGet, "/q/3") // dropped: the queue is full
			rig.settle(t)
			full := map[string]float64{
				"shadow_requests_total":                                   3,
				"shadow_mirrored_total":                                   2,
				"shadow_mirror_queue_length":                              1,
				sk("shadow_mirror_dropped_total", "reason", "queue_full"): 1,
			}
			checkSeries(t, series(t, rig.reg), proxySeries(1, 1, full))

			if closeProxy {
				if err := rig.proxy.Close(); err != nil {
					t.Fatal(err)
				}
				full["shadow_mirror_queue_length"] = 0
				full[sk("shadow_mirror_dropped_total", "reason", "abandoned")] = 2
				checkSeries(t, series(t, rig.reg), proxySeries(1, 1, full))
				return
			}
			g.open()
			rig.await(t, 2)
			full["shadow_mirror_queue_length"] = 0
			full["shadow_mirror_completed_total"] = 2
			want := proxySeries(1, 1, full)
			routeWant{
				outcomes: map[compare.Outcome]float64{compare.Compared: 2},
				primary:  2, candidate: 2, secondary: -1,
			}.add(want, "GET /q/{id}")
			checkSeries(t, series(t, rig.reg), want)
		})
	}
}

// TestShadowRecordKinds pins how one judgement is counted: which diff
// kinds, whether it differs, under which route.
func TestShadowRecordKinds(t *testing.T) {
	t.Parallel()
	ep := compare.Endpoint{Method: "GET", Route: "/orders/{id}"}
	other := compare.Endpoint{Method: "*", Route: compare.OtherRoute}
	noise := compare.Difference{Path: "$.ts", Kind: compare.Changed, Noise: true}
	field := compare.Difference{Path: "$.price", Kind: compare.Changed}
	status := compare.Difference{Path: "status", Kind: compare.Changed}
	header := compare.Difference{Path: "header.X-Api-Version", Kind: compare.Changed}
	tests := []struct {
		name                          string
		res                           compare.Result
		route                         string
		status, header, body, differs float64
	}{
		{name: "same", res: compare.Result{Endpoint: ep, Outcome: compare.Compared}, route: "GET /orders/{id}"},
		{name: "status", res: compare.Result{Endpoint: ep, Outcome: compare.Compared, Status: []compare.Difference{status}, Differs: true},
			route: "GET /orders/{id}", status: 1, differs: 1},
		{name: "header and noise", res: compare.Result{Endpoint: ep, Outcome: compare.Compared, Headers: []compare.Difference{header},
			Body: []compare.Difference{noise}, Differs: true}, route: "GET /orders/{id}", header: 1, differs: 1},
		{name: "noise only", res: compare.Result{Endpoint: ep, Outcome: compare.Compared, Body: []compare.Difference{noise}},
			route: "GET /orders/{id}"},
		{name: "noise and real", res: compare.Result{Endpoint: ep, Outcome: compare.Compared, Body: []compare.Difference{noise, field}, Differs: true},
			route: "GET /orders/{id}", body: 1, differs: 1},
		{name: "real body difference past the listed ones", res: compare.Result{Endpoint: ep, Outcome: compare.Compared,
			Body: []compare.Difference{noise}, Omitted: 1, Differs: true}, route: "GET /orders/{id}", body: 1, differs: 1},
		{name: "not compared", res: compare.Result{Endpoint: ep, Outcome: compare.CandidateFailed}, route: "GET /orders/{id}"},
		{name: "engine overflow", res: compare.Result{Endpoint: other, Outcome: compare.Compared, Status: []compare.Difference{status}, Differs: true},
			route: Other, status: 1, differs: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewPedanticRegistry()
			m, err := NewShadow(reg, ShadowConfig{Stats: func() mirror.Stats { return mirror.Stats{} }})
			if err != nil {
				t.Fatal(err)
			}
			m.Record(&exchange.Exchange{}, tc.res)
			got := series(t, reg, "shadow_diffs_total", "shadow_differing_exchanges_total")
			want := map[string]float64{
				sk("shadow_diffs_total", "kind", KindStatus, "route", tc.route): tc.status,
				sk("shadow_diffs_total", "kind", KindHeader, "route", tc.route): tc.header,
				sk("shadow_diffs_total", "kind", KindBody, "route", tc.route):   tc.body,
				sk("shadow_differing_exchanges_total", "route", tc.route):       tc.differs,
			}
			checkSeries(t, got, want)
		})
	}
}

// TestShadowRecordUnits pins the latency unit: seconds, in the bucket a
// latency belongs to, per side, only for answers that arrived.
func TestShadowRecordUnits(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m, err := NewShadow(reg, ShadowConfig{Stats: func() mirror.Stats { return mirror.Stats{} }, Buckets: []float64{0.1, 0.25, 1}})
	if err != nil {
		t.Fatal(err)
	}
	m.Record(&exchange.Exchange{
		Primary:   exchange.Response{Status: 200, Latency: 250 * time.Millisecond},
		Secondary: &exchange.Response{Status: 200, Latency: 50 * time.Millisecond},
		Candidate: exchange.Response{Error: "send: connection refused", Latency: time.Millisecond},
	}, compare.Result{Endpoint: compare.Endpoint{Method: "GET", Route: "/a"}, Outcome: compare.CandidateFailed})

	type hist struct {
		count   uint64
		sum     float64
		buckets []uint64 // cumulative, as exposed
	}
	got := map[string]hist{}
	for _, mf := range families(t, reg, "shadow_upstream_latency_seconds") {
		for _, mt := range mf.GetMetric() {
			h := mt.GetHistogram()
			var b []uint64
			for _, bk := range h.GetBucket() {
				b = append(b, bk.GetCumulativeCount())
			}
			got[key("", mt.GetLabel())] = hist{h.GetSampleCount(), h.GetSampleSum(), b}
		}
	}
	want := map[string]hist{
		sk("", "route", "GET /a", "side", "primary"):   {1, 0.25, []uint64{0, 1, 1}},
		sk("", "route", "GET /a", "side", "secondary"): {1, 0.05, []uint64{1, 1, 1}},
		sk("", "route", "GET /a", "side", "candidate"): {0, 0, []uint64{0, 0, 0}},
	}
	if len(got) != len(want) {
		t.Errorf("histograms %v, want %v", got, want)
	}
	for k, w := range want {
		g := got[k]
		if g.count != w.count || math.Abs(g.sum-w.sum) > 1e-9 || !slices.Equal(g.buckets, w.buckets) {
			t.Errorf("%s: %+v, want %+v", k, g, w)
		}
	}
}

// TestShadowConfigValidate checks that every bad field is named, and that
// NewShadow refuses a bad config and leaves nothing registered.
func TestShadowConfigValidate(t *testing.T) {
	t.Parallel()
	stats := func() mirror.Stats { return mirror.Stats{} }
	tests := []struct {
		name string
		cfg  ShadowConfig
		want []string // substrings of the error; none: valid
	}{
		{name: "minimal", cfg: ShadowConfig{Stats: stats}},
		{name: "no stats", cfg: ShadowConfig{}, want: []string{"stats: required"}},
		{name: "negative routes", cfg: ShadowConfig{Stats: stats, MaxRoutes: -1}, want: []string{"max_routes: -1"}},
		{name: "buckets not increasing", cfg: ShadowConfig{Stats: stats, Buckets: []float64{1, 1}}, want: []string{"buckets:"}},
		{name: "NaN bucket", cfg: ShadowConfig{Stats: stats, Buckets: []float64{1, math.NaN()}}, want: []string{"buckets:"}},
		{name: "every field", cfg: ShadowConfig{MaxRoutes: -2, Buckets: []float64{2, 1}},
			want: []string{"stats: required", "max_routes: -2", "buckets:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
			reg := prometheus.NewPedanticRegistry()
			if _, err := NewShadow(reg, tc.cfg); err == nil {
				t.Error("NewShadow accepted a bad config")
			}
			if n := len(families(t, reg)); n != 0 {
				t.Errorf("a failed NewShadow left %d families registered", n)
			}
		})
	}
}

// countingRegisterer counts the collectors registered through it and
// not unregistered since.
type countingRegisterer struct {
	prometheus.Registerer
	n int
}

func (r *countingRegisterer) Register(c prometheus.Collector) error {
	err := r.Registerer.Register(c)
	if err == nil {
		r.n++
	}
	return err
}

func (r *countingRegisterer) Unregister(c prometheus.Collector) bool {
	ok := r.Registerer.Unregister(c)
	if ok {
		r.n--
	}
	return ok
}

// TestShadowRegisterAllOrNothing: when one of the metrics clashes with
// one already registered, NewShadow fails and leaves none of its own
// registered.
func TestShadowRegisterAllOrNothing(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "shadow_requests_total", Help: "A clash."}))
	rec := &countingRegisterer{Registerer: reg}
	if _, err := NewShadow(rec, ShadowConfig{Stats: func() mirror.Stats { return mirror.Stats{} }}); err == nil {
		t.Fatal("NewShadow registered over an existing shadow_requests_total")
	}
	if rec.n != 0 {
		t.Errorf("a failed NewShadow left %d collectors registered, want 0", rec.n)
	}
	if n := len(series(t, reg)); n != 1 {
		t.Errorf("the registry exposes %d series, want only the clashing one", n)
	}
}

// TestShadowManyEndpoints: more distinct endpoints than the series cache
// holds are all counted, the first MaxRoutes under their own label.
func TestShadowManyEndpoints(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m, err := NewShadow(reg, ShadowConfig{Stats: func() mirror.Stats { return mirror.Stats{} }, MaxRoutes: 2})
	if err != nil {
		t.Fatal(err)
	}
	const n = maxCachedEndpoints + 100
	for i := range n {
		for range 2 {
			m.Record(&exchange.Exchange{}, compare.Result{
				Endpoint: compare.Endpoint{Method: "GET", Route: fmt.Sprintf("/r%d", i)}, Outcome: compare.Compared})
		}
	}
	got := series(t, reg, "shadow_differing_exchanges_total", "shadow_upstream_latency_seconds")
	want := map[string]float64{}
	for route, count := range map[string]float64{"GET /r0": 2, "GET /r1": 2, Other: 2 * (n - 2)} {
		want[sk("shadow_differing_exchanges_total", "route", route)] = 0
		want[sk("shadow_upstream_latency_seconds_count", "route", route, "side", "primary")] = count
		want[sk("shadow_upstream_latency_seconds_count", "route", route, "side", "candidate")] = count
	}
	checkSeries(t, got, want)
}
