package scenarios

import (
	"fmt"
	"net"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/understudy-dev/understudy/internal/testio"
)

// production is a small exporter of the numbers a production service
// would expose, scraped by a real Prometheus the test started.
type production struct {
	orders, errors prometheus.Gauge
	prom           *testio.Prometheus
}

func newProduction(t *testing.T) *production {
	t.Helper()
	reg := prometheus.NewRegistry()
	p := &production{
		orders: prometheus.NewGauge(prometheus.GaugeOpts{Name: "shop_orders_per_second", Help: "Real orders per second."}),
		errors: prometheus.NewGauge(prometheus.GaugeOpts{Name: "shop_error_ratio", Help: "Share of real requests that fail."}),
	}
	reg.MustRegister(p.orders, p.errors)
	exporter := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(exporter.Close)
	p.prom = testio.StartPrometheus(t, testio.HostPort(exporter.URL))
	return p
}

// sees waits until Prometheus answers query with want.
func (p *production) sees(t *testing.T, query string, want float64) {
	t.Helper()
	src, err := newPrometheusSource(p.prom.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := src.Query(t.Context(), query)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus answers %s with %v (%v), want %v\n%s", query, got, err, want, p.prom.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// start runs, in the background, a journey with a cleanup against a
// fresh shop, paced and guarded as extra says.
func (p *production) start(t *testing.T, extra string) (*Runner, func() *Result) {
	t.Helper()
	shop := newFakeShop(t)
	r := mustRunner(t, liveScenario(t, extra), RunnerOptions{Target: shop.URL})
	return r, runAsync(t, r)
}

// liveScenario is a journey with a cleanup against the shop, paced and
// guarded as extra says.
func liveScenario(t *testing.T, extra string) *Scenario {
	t.Helper()
	return mustParse(t, `
name: live
target: http://127.0.0.1:1
duration: 1m
max_in_flight: 500
`+strings.TrimSpace(extra)+`
journeys:
  - name: j
    steps:
      - {name: create, method: POST, path: /orders, body: '{"customer": "x"}', capture: {id: id}}
    cleanup:
      - {name: cancel, method: POST, path: '/orders/{{ .Vars.id }}/cancel'}
`)
}

// waitLive waits until the run's snapshot satisfies cond.
func waitLive(t *testing.T, r *Runner, what string, cond func(Snapshot) bool) Snapshot {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := r.Snapshot()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) || s.State == StateDone {
			t.Fatalf("waiting for %s: state %s (%s), live %+v, target %v", what, s.State, s.Reason, s.Live, s.CurrentTarget)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRelativeRateFollowsPrometheus: the rate is the query's value times
// the factor, follows it when production changes, and stops at max.
func TestRelativeRateFollowsPrometheus(t *testing.T) {
	t.Parallel()
	prod := newProduction(t)
	prod.orders.Set(10)
	prod.sees(t, "shop_orders_per_second", 10)
	r, wait := prod.start(t, fmt.Sprintf(`
rate: {type: relative, query: shop_orders_per_second, factor: 1.5, max: 100, prometheus: %s, interval: 200ms}
`, prod.prom.URL))
	for _, step := range []struct{ value, rate float64 }{{10, 15}, {40, 60}, {90, 100}, {20, 30}} {
		prod.orders.Set(step.value)
		s := waitLive(t, r, fmt.Sprintf("the rate to follow %v", step.value), func(s Snapshot) bool {
			return s.CurrentTarget == step.rate
		})
		// A query may time out on a loaded machine (the last rate is held
		// then, as documented, and counted in Failures); the rate must
		// follow from the next answer on.
		if l := s.Live[0]; l.Name != "rate" || l.Value != step.value || l.Rate != step.rate || l.Error != "" {
			t.Errorf("live status %+v, want value %v making rate %v", l, step.value, step.rate)
		}
	}
	atStop := r.Snapshot().Journeys.Started
	r.Stop()
	res := wait()
	if res.Outcome != OutcomeStopped || atStop == 0 || !res.Passed() {
		t.Errorf("outcome %s, %d journeys; want stopped after some, passed", res.Outcome, atStop)
	}
	var text strings.Builder
	_ = WriteText(&text, &res.Snapshot)
	if !strings.Contains(text.String(), "relative rate: shop_orders_per_second = 20 (x1.5, max 100/s) -> 30.0/s") {
		t.Errorf("summary does not show the relative rate:\n%s", text.String())
	}
}

// TestRelativeStagesFollowPrometheus: with stages, each stage's factor
// applies to the query's value: ramp to 2x the real rate.
func TestRelativeStagesFollowPrometheus(t *testing.T) {
	t.Parallel()
	prod := newProduction(t)
	prod.orders.Set(20)
	prod.sees(t, "shop_orders_per_second", 20)
	r, wait := prod.start(t, fmt.Sprintf(`
rate: {type: relative, query: shop_orders_per_second, max: 1000, prometheus: %s, interval: 200ms}
stages:
  - {duration: 1s, factor: 0.5}
  - {duration: 1s, factor: 1}
  - {duration: 1h, factor: 2}
`, prod.prom.URL))
	for _, want := range []float64{10, 20, 40} {
		waitLive(t, r, fmt.Sprintf("the stage at %v/s", want), func(s Snapshot) bool { return s.CurrentTarget == want })
	}
	prod.orders.Set(50)
	waitLive(t, r, "the last stage to follow the query", func(s Snapshot) bool { return s.CurrentTarget == 100 })
	r.Stop()
	if res := wait(); res.Outcome != OutcomeStopped {
		t.Errorf("outcome %s (%s), want stopped", res.Outcome, res.Reason)
	}
}

// TestQueryGuardrailAbortsOnProduction: real users' error ratio crosses
// the limit; the run aborts with the guardrail's name and the value within
// one evaluation interval plus 2s of the crossing (counted in evaluations
// of 500ms: at most 1 + 2s/500ms = 5 after the change), and cleanups run.
func TestQueryGuardrailAbortsOnProduction(t *testing.T) {
	t.Parallel()
	prod := newProduction(t)
	prod.errors.Set(0.001)
	prod.sees(t, "shop_error_ratio", 0.001)
	r, wait := prod.start(t, fmt.Sprintf(`
rate: {rate: 50}
prometheus: %s
guardrails:
  - {max_error_rate: 0.5, window: 2s}
  - {name: real-errors, query: shop_error_ratio, above: 0.02, interval: 500ms}
  - {name: real-orders, query: 'vector(100)', below: 5, interval: 500ms}
`, prod.prom.URL))
	before := waitLive(t, r, "two evaluations of healthy production", func(s Snapshot) bool {
		return s.Live[0].Evaluations >= 2 && s.Live[1].Evaluations >= 2
	})
	if g := before.Live[0]; !g.BreachSince.IsZero() || before.Outcome != "" || g.Value != 0.001 {
		t.Fatalf("before the crossing: %+v, outcome %q; want no breach", g, before.Outcome)
	}
	crossing := r.Snapshot().Live[0].Evaluations
	prod.errors.Set(0.05)
	res := wait()
	if res.Outcome != OutcomeAborted || !strings.HasPrefix(res.Reason, "guardrail real-errors: 0.05 is above 0.02") {
		t.Fatalf("outcome %s (%s), want aborted by real-errors at 0.05", res.Outcome, res.Reason)
	}
	if n := res.Live[0].Evaluations - crossing; n < 1 || n > 5 {
		t.Errorf("aborted %d evaluations after the crossing, want 1 to 5 (one interval + 2s)", n)
	}
	if res.Journeys.Started == 0 || res.Cleanups.Ran != res.Journeys.Started || res.Passed() {
		t.Errorf("journeys %+v cleanups %+v: want every started journey cleaned up, and a failed run", res.Journeys, res.Cleanups)
	}
	if l := res.Live[1]; l.Value != 100 || !l.BreachSince.IsZero() {
		t.Errorf("real-orders %+v, want 100 and never below 5", l)
	}
}

// TestQueryGuardrailFor: a breach must last for its for: evaluations that
// see it for less do not abort.
func TestQueryGuardrailFor(t *testing.T) {
	t.Parallel()
	prod := newProduction(t)
	prod.orders.Set(100)
	prod.sees(t, "shop_orders_per_second", 100)
	r, wait := prod.start(t, fmt.Sprintf(`
rate: {rate: 20}
prometheus: %s
guardrails: [{name: real-orders, query: shop_orders_per_second, below: 50, for: 1500ms, interval: 250ms}]
`, prod.prom.URL))
	waitLive(t, r, "an evaluation", func(s Snapshot) bool { return s.Live[0].Evaluations >= 1 })
	prod.orders.Set(10)
	s := waitLive(t, r, "the breach", func(s Snapshot) bool { return !s.Live[0].BreachSince.IsZero() })
	breachAt := s.Live[0].Evaluations
	res := wait()
	if res.Outcome != OutcomeAborted || !strings.HasPrefix(res.Reason, "guardrail real-orders: 10 is below 50 for ") {
		t.Fatalf("outcome %s (%s), want aborted by real-orders", res.Outcome, res.Reason)
	}
	// 1.5s of breach at one look per 250ms: six more looks, give or take
	// one for timing, before the abort.
	if n := res.Live[0].Evaluations - breachAt; n < 5 || n > 8 {
		t.Errorf("aborted %d evaluations after the breach began, want about 6 (for: 1500ms at 250ms)", n)
	}
}

// TestPrometheusLostMidRun: Prometheus dies while the rate follows it; the
// last rate is held for hold, failures are reported, then the run ends as
// on_lost says, with the reason.
func TestPrometheusLostMidRun(t *testing.T) {
	t.Parallel()
	for _, onLost := range []string{OnLostAbort, OnLostStop} {
		t.Run(onLost, func(t *testing.T) {
			t.Parallel()
			prod := newProduction(t)
			prod.orders.Set(30)
			prod.sees(t, "shop_orders_per_second", 30)
			r, wait := prod.start(t, fmt.Sprintf(`
rate: {type: relative, query: shop_orders_per_second, max: 100, prometheus: %s, interval: 200ms, hold: 2s, on_lost: %s}
`, prod.prom.URL, onLost))
			waitLive(t, r, "the rate", func(s Snapshot) bool { return s.CurrentTarget == 30 })
			prod.prom.Stop()
			s := waitLive(t, r, "a failed evaluation", func(s Snapshot) bool { return s.Live[0].Failures > 0 })
			if s.CurrentTarget != 30 || s.Live[0].Error == "" || s.Live[0].LostSince.IsZero() || s.Outcome != "" {
				t.Errorf("while lost: target %v, live %+v, outcome %q; want the last rate held", s.CurrentTarget, s.Live[0], s.Outcome)
			}
			res := wait()
			want := map[string]Outcome{OnLostAbort: OutcomeAborted, OnLostStop: OutcomeStopped}[onLost]
			if res.Outcome != want || !strings.HasPrefix(res.Reason, "relative rate: its query failed for 2s (the last rate, 30.0/s, was held that long): prometheus ") {
				t.Errorf("outcome %s (%s), want %s after holding for 2s", res.Outcome, res.Reason, want)
			}
			if res.Cleanups.Ran != res.Journeys.Started {
				t.Errorf("journeys %+v cleanups %+v: want every journey cleaned up", res.Journeys, res.Cleanups)
			}
		})
	}
}

// TestPrometheusDeadOrEmpty: a Prometheus that is not there, or a query
// with no data, aborts a relative run before any journey starts; a query
// guardrail that cannot be read aborts once its hold is over.
func TestPrometheusDeadOrEmpty(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	shop := newFakeShop(t)
	tests := []struct {
		name, extra, want string
		started           bool
	}{
		{"dead, relative rate", fmt.Sprintf("rate: {type: relative, query: up, max: 10, prometheus: %s}", dead),
			"relative rate: the first evaluation of its query failed: prometheus " + dead + ": ", false},
		{"dead, guardrail", fmt.Sprintf("rate: {rate: 20}\nguardrails: [{name: g, query: up, above: 1, prometheus: %s, interval: 100ms, hold: 500ms}]", dead),
			"guardrail g: its query failed for ", true},
	}
	if _, err := exec.LookPath(testio.PrometheusBinary); err == nil { // else StartPrometheus would skip the whole test
		prod := newProduction(t)
		tests = append(tests, struct {
			name, extra, want string
			started           bool
		}{"no data", fmt.Sprintf("rate: {type: relative, query: no_such_metric, max: 10, prometheus: %s}", prod.prom.URL),
			"relative rate: the first evaluation of its query failed: prometheus " + prod.prom.URL + ": the query returned no data", false})
	}
	for _, tt := range tests {
		r := mustRunner(t, liveScenario(t, tt.extra), RunnerOptions{Target: shop.URL})
		res := runAsync(t, r)()
		if res.Outcome != OutcomeAborted || !strings.HasPrefix(res.Reason, tt.want) || (res.Journeys.Started > 0) != tt.started {
			t.Errorf("%s: outcome %s (%s), %d journeys; want aborted: %q", tt.name, res.Outcome, res.Reason, res.Journeys.Started, tt.want)
		}
	}
}
