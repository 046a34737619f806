package metrics

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/testio"
	"github.com/understudy-dev/understudy/mirror"
)

// discardLogger keeps expected warnings (upstream down, queue full) out of
// the test output.
var discardLogger = slog.New(slog.DiscardHandler)

// upstream answers as one side of a parallel run. The first path segment
// says how the candidate differs from the primary (and the secondary, a
// second copy of the primary): see shadowRoutes.
func upstream(side exchange.Side) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		kind, id, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		cand := side == exchange.Candidate
		status, body := http.StatusOK, fmt.Sprintf(`{"id":%q,"price":10}`, id)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Api-Version", "1")
		switch {
		case kind == "prices" && cand:
			body = fmt.Sprintf(`{"id":%q,"price":11}`, id)
		case kind == "users" && cand:
			w.Header().Set("X-Api-Version", "2")
		case kind == "gone" && cand:
			status = http.StatusNotFound
		case kind == "clock":
			// A field that differs between any two answers, the
			// secondary's included: noise.
			ts := map[exchange.Side]int{exchange.Primary: 1, exchange.Secondary: 2, exchange.Candidate: 3}[side]
			body = fmt.Sprintf(`{"id":%q,"ts":%d}`, id, ts)
		case kind == "broken" && cand:
			w.Header().Set("X-Api-Version", "2")
			status, body = http.StatusInternalServerError, `{"error":"boom"}`
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// serve starts h on loopback and closes it when the test ends.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// refusing returns the address of a port nobody listens on: connecting
// to it is refused.
func refusing(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// hanging returns the address of a listener that never accepts: the
// kernel completes connections into its backlog and nothing ever answers.
func hanging(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return "http://" + ln.Addr().String()
}

// gate holds requests until it is opened; arrived gets one token per
// request held.
type gate struct {
	once    sync.Once
	ch      chan struct{}
	arrived chan struct{}
}

func newGate() *gate { return &gate{ch: make(chan struct{}), arrived: make(chan struct{}, 100)} }

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

// wrap makes h wait for the gate (or for its client to go away).
func (g *gate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.arrived <- struct{}{}
		select {
		case <-g.ch:
		case <-r.Context().Done():
			return
		}
		h.ServeHTTP(w, r)
	})
}

// shadowRig is a real shadow: a mirror.Proxy on loopback whose observer
// is the compare engine wrapped by ShadowMetrics, as cmd/shadow wires it.
type shadowRig struct {
	reg      *prometheus.Registry
	metrics  *ShadowMetrics
	engine   *compare.Engine
	proxy    *mirror.Proxy
	url      string
	observed chan struct{} // one token per exchange the metrics recorded
}

// newShadowRig starts a proxy with pcfg (Observer and Logger are set
// here), an engine with ccfg and the metrics with mcfg (Stats and, unless
// noReport, Report are set here).
func newShadowRig(t testing.TB, pcfg mirror.Config, ccfg compare.Config, mcfg ShadowConfig, noReport bool) *shadowRig {
	t.Helper()
	engine, err := compare.New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	rig := &shadowRig{reg: prometheus.NewPedanticRegistry(), engine: engine, observed: make(chan struct{}, 1024)}
	mcfg.Stats = func() mirror.Stats { return rig.proxy.Stats() }
	if !noReport {
		mcfg.Report = engine.Report
	}
	rig.metrics, err = NewShadow(rig.reg, mcfg)
	if err != nil {
		t.Fatal(err)
	}
	observe := rig.metrics.Observer(engine.Record)
	pcfg.Observer = mirror.ObserverFunc(func(x *exchange.Exchange) {
		observe(x)
		rig.observed <- struct{}{}
	})
	pcfg.Logger = discardLogger
	rig.proxy, err = mirror.New(pcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rig.proxy.Close() })
	srv := httptest.NewServer(rig.proxy)
	t.Cleanup(srv.Close) // before the proxy closes: cleanups run last first
	rig.url = srv.URL
	return rig
}

// do sends one request through the proxy and returns its status.
func (rig *shadowRig) do(t testing.TB, method, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, rig.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// await waits until the metrics have recorded n more exchanges.
func (rig *shadowRig) await(t testing.TB, n int) {
	t.Helper()
	for i := range n {
		waitFor(t, rig.observed, fmt.Sprintf("exchange %d of %d to be recorded", i+1, n))
	}
}

// settle waits until no client request is in flight: a client can have
// its whole answer a moment before the proxy's handler returns.
func (rig *shadowRig) settle(t testing.TB) {
	t.Helper()
	testio.Eventually(t, "no request in flight", func() bool { return rig.proxy.Stats().InFlight == 0 })
}

// skipReasons are the proxy's reasons for not mirroring (mirror.Stats).
var skipReasons = []string{"method", "route", "paused", "sample", "body_size", "body_error", "stream", "upgrade", "shutdown", "candidate_down", "body_budget", "grpc_stream"}

// proxySeries is what the scrape-time proxy figures of an idle proxy
// look like: every counter zero but those in set, the queue empty.
func proxySeries(queueSize, workers int, set map[string]float64) map[string]float64 {
	want := map[string]float64{
		"shadow_requests_total":                                                    0,
		"shadow_mirrored_total":                                                    0,
		"shadow_mirror_completed_total":                                            0,
		"shadow_mirror_streamed_total":                                             0,
		sk("shadow_mirror_dropped_total", "reason", "queue_full"):                  0,
		sk("shadow_mirror_dropped_total", "reason", "stale"):                       0,
		sk("shadow_mirror_dropped_total", "reason", "abandoned"):                   0,
		sk("shadow_upstream_errors_total", "kind", "error", "side", "primary"):     0,
		sk("shadow_upstream_errors_total", "kind", "error", "side", "candidate"):   0,
		sk("shadow_upstream_errors_total", "kind", "timeout", "side", "candidate"): 0,
		sk("shadow_upstream_errors_total", "kind", "error", "side", "secondary"):   0,
		sk("shadow_upstream_errors_total", "kind", "timeout", "side", "secondary"): 0,
		"shadow_in_flight_requests":                                                0,
		"shadow_mirror_queue_length":                                               0,
		"shadow_mirror_queue_capacity":                                             float64(queueSize),
		"shadow_mirror_workers":                                                    float64(workers),
	}
	for _, r := range skipReasons {
		want[sk("shadow_mirror_skipped_total", "reason", r)] = 0
	}
	for k, v := range set {
		want[k] = v
	}
	return want
}

// routeSeries are the series of one route label after exchanges were
// recorded for it; every series of the route exists, zero or not.
type routeWant struct {
	outcomes           map[compare.Outcome]float64
	status, header     float64
	body, differing    float64
	primary, candidate float64 // latency histogram counts
	secondary          float64 // -1: no secondary series
}

func (w routeWant) add(want map[string]float64, route string) {
	for _, o := range []compare.Outcome{compare.Compared, compare.PrimaryFailed, compare.CandidateFailed, compare.CandidateTimedOut} {
		want[sk("shadow_exchanges_total", "outcome", string(o), "route", route)] = w.outcomes[o]
	}
	want[sk("shadow_diffs_total", "kind", KindStatus, "route", route)] = w.status
	want[sk("shadow_diffs_total", "kind", KindHeader, "route", route)] = w.header
	want[sk("shadow_diffs_total", "kind", KindBody, "route", route)] = w.body
	want[sk("shadow_differing_exchanges_total", "route", route)] = w.differing
	want[sk("shadow_upstream_latency_seconds_count", "route", route, "side", "primary")] = w.primary
	want[sk("shadow_upstream_latency_seconds_count", "route", route, "side", "candidate")] = w.candidate
	if w.secondary >= 0 {
		want[sk("shadow_upstream_latency_seconds_count", "route", route, "side", "secondary")] = w.secondary
	}
}
