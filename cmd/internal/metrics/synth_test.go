package metrics

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/understudy-dev/understudy/scenarios"
	"github.com/understudy-dev/understudy/stats"
)

// shopScenario runs three journeys against a shop: buy succeeds (its
// cleanup too), browse fails a JSON check on a 200, crash gets no answer.
// Seed 7 picks browse, buy, browse, crash first, so a run of 30 starts
// sends every step whatever the machine's speed.
const shopScenario = `
name: orders
target: http://127.0.0.1:1
rate: {rate: 100}
duration: 300ms
max_in_flight: 1000
ceiling: 1000
seed: 7
journeys:
  - name: buy
    steps:
      - name: create
        method: POST
        path: /orders
        body: '{"synthetic": {{ .Synthetic }}}'
        capture: {id: id}
        assert: {status: [201]}
      - name: fetch
        path: '/orders/{{ .Vars.id }}'
        assert: {status: [200], json: {id: '{{ .Vars.id }}'}}
    cleanup:
      - name: cancel
        method: DELETE
        path: '/orders/{{ .Vars.id }}'
        assert: {status: [200]}
  - name: browse
    steps:
      - name: menu
        path: /menu
        assert: {json: {open: true}}
  - name: crash
    steps:
      - name: boom
        method: POST
        path: /boom
`

// shop is the loopback service the scenarios run against. It counts
// what it answered per step and code, independently of the runner: the
// ground truth the metrics are checked against.
type shop struct {
	URL string

	mu     sync.Mutex
	counts map[string]map[string]int // "journey/step" -> code -> requests
	seq    int
}

// newShop starts a shop; wrap, when not nil, wraps its handler.
func newShop(t testing.TB, wrap func(http.Handler) http.Handler) *shop {
	t.Helper()
	s := &shop{counts: map[string]map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		s.seq++
		id := fmt.Sprintf("ord-%06d", s.seq)
		s.mu.Unlock()
		s.answer(w, "buy/create", http.StatusCreated, fmt.Sprintf(`{"id":%q,"status":"placed"}`, id))
	})
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.answer(w, "buy/fetch", http.StatusOK, fmt.Sprintf(`{"id":%q}`, r.PathValue("id")))
	})
	mux.HandleFunc("DELETE /orders/{id}", func(w http.ResponseWriter, _ *http.Request) {
		s.answer(w, "buy/cancel", http.StatusOK, `{"status":"cancelled"}`)
	})
	mux.HandleFunc("GET /menu", func(w http.ResponseWriter, _ *http.Request) {
		s.answer(w, "browse/menu", http.StatusOK, `{"open":false}`)
	})
	mux.HandleFunc("POST /boom", func(w http.ResponseWriter, _ *http.Request) {
		s.count("crash/boom", "eof")
		// Drop the connection without a word: the client reads EOF.
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
	})
	var h http.Handler = mux
	if wrap != nil {
		h = wrap(h)
	}
	s.URL = serve(t, h)
	return s
}

func (s *shop) answer(w http.ResponseWriter, step string, status int, body string) {
	s.count(step, strconv.Itoa(status))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (s *shop) count(step, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts[step] == nil {
		s.counts[step] = map[string]int{}
	}
	s.counts[step][code]++
}

// sent returns how many requests of a step the shop answered, all codes.
func (s *shop) sent(step string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.counts[step] {
		n += c
	}
	return float64(n)
}

// want returns the counter series a scenario run (or several) against
// the shop must have produced: requests by code, failures and latency
// counts per step, journeys and cleanups by result. Only buy succeeds;
// browse fails a check, crash gets no answer, nothing is dropped.
func (s *shop) want() map[string]float64 {
	const sc = "orders"
	want := map[string]float64{}
	s.mu.Lock()
	for step, codes := range s.counts {
		for code, n := range codes {
			want[sk("synth_requests_total", "code", code, "scenario", sc, "step", step)] = float64(n)
		}
	}
	s.mu.Unlock()
	failing := map[string]bool{"browse/menu": true, "crash/boom": true}
	for _, step := range []string{"buy/create", "buy/fetch", "buy/cancel", "browse/menu", "crash/boom"} {
		n := s.sent(step)
		want[sk("synth_step_latency_seconds_count", "scenario", sc, "step", step)] = n
		want[sk("synth_step_failures_total", "scenario", sc, "step", step)] = 0
		if failing[step] {
			want[sk("synth_step_failures_total", "scenario", sc, "step", step)] = n
		}
	}
	journeys := map[string]float64{
		"succeeded": s.sent("buy/create"), "failed": s.sent("browse/menu") + s.sent("crash/boom"),
		"interrupted": 0, "dropped": 0,
	}
	for r, n := range journeys {
		want[sk("synth_journeys_total", "result", r, "scenario", sc)] = n
	}
	cleanups := map[string]float64{"ok": s.sent("buy/cancel"), "failed": 0, "skipped": 0}
	for r, n := range cleanups {
		want[sk("synth_cleanups_total", "result", r, "scenario", sc)] = n
	}
	for _, r := range abortReasons {
		want[sk("synth_aborts_total", "reason", r)] = 0
	}
	return want
}

// parse parses a scenario for target.
func parse(t testing.TB, yaml, target string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("test.yaml", []byte(strings.Replace(yaml, "http://127.0.0.1:1", target, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// run runs sc to its end, its figures watched by m as a schedule would:
// Watch when the run starts, done when it has ended. Before done it
// calls during, if not nil, with the runner while the run goes on.
func run(t testing.TB, m *SynthMetrics, sc *scenarios.Scenario, during func(*scenarios.Runner)) *scenarios.Result {
	t.Helper()
	r, err := scenarios.NewRunner(sc, scenarios.RunnerOptions{NoPreflight: true}) // the gates hold journeys, not pre-flights
	if err != nil {
		t.Fatal(err)
	}
	done := m.Watch(r.Snapshot)
	defer done()
	type out struct {
		res *scenarios.Result
		err error
	}
	ch := make(chan out, 1)
	go func() {
		res, err := r.Run(t.Context())
		ch <- out{res, err}
	}()
	if during != nil {
		during(r)
	}
	select {
	case o := <-ch:
		if o.err != nil {
			t.Fatalf("run: %v", o.err)
		}
		return o.res
	case <-time.After(wait):
		r.Kill()
		<-ch
		t.Fatalf("the run did not end within %v", wait)
		return nil
	}
}

// newSynth registers synth metrics on a new pedantic registry.
func newSynth(t testing.TB, cfg SynthConfig) (*SynthMetrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := NewSynth(reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// monotonic reports the counter-like series (totals, counts and sums)
// that went down from before to after, or vanished.
func monotonic(before, after map[string]float64) []string {
	var bad []string
	for k, v := range before {
		name, _, _ := strings.Cut(k, "{")
		if !strings.HasSuffix(name, "_total") && !strings.HasSuffix(name, "_count") && !strings.HasSuffix(name, "_sum") {
			continue
		}
		if w, ok := after[k]; !ok || w < v {
			bad = append(bad, fmt.Sprintf("%s: %v then %v (present: %v)", k, v, w, ok))
		}
	}
	return bad
}

// scrapeAll flattens every series of g, sums included, for monotonic.
func scrapeAll(t testing.TB, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	flat, err := flatten(g, true)
	if err != nil {
		t.Fatal(err)
	}
	return flat
}

// statsSummary is the latency summary of n requests of 10ms each.
func statsSummary(n int64) stats.Summary {
	const d = 10 * time.Millisecond
	return stats.Summary{Count: n, Min: d, Mean: d, P50: d, P90: d, P99: d, Max: d}
}

// TestSynthMetricsAcrossRuns runs a real scenario twice against a
// loopback shop, watched as a schedule watches its runs, and checks the
// metrics against what the shop itself answered: requests per step and
// code, failures, journeys and cleanups by result, latency counts. Every
// counter adds up over the two runs and never goes back, not even at the
// moment a run moves from live to ended, which a scraper running all
// along checks.
func TestSynthMetricsAcrossRuns(t *testing.T) {
	t.Parallel()
	shop := newShop(t, nil)
	m, reg := newSynth(t, SynthConfig{})
	sc := parse(t, shopScenario, shop.URL)

	// A scraper runs all along, as Prometheus would, only faster.
	stop := make(chan struct{})
	scraped := make(chan []string)
	go func() {
		var bad []string
		prev := map[string]float64{}
		for scrapes := 0; ; scrapes++ {
			now, err := flatten(reg, true)
			if err != nil {
				bad = append(bad, err.Error())
			}
			bad = append(bad, monotonic(prev, now)...)
			prev = now
			select {
			case <-stop:
				if scrapes == 0 {
					bad = append(bad, "the scraper never scraped during the runs")
				}
				scraped <- bad
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()

	var first map[string]float64
	for i := range 2 {
		res := run(t, m, sc, nil)
		for _, st := range res.Steps {
			if st.Requests == 0 {
				t.Fatalf("run %d: step %s sent nothing; the test needs every journey to run", i+1, st.Name())
			}
		}
		got := series(t, reg)
		checkSeries(t, got, shop.want())
		if i == 0 {
			first = scrapeAll(t, reg)
		}
	}
	close(stop)
	for _, b := range waitFor(t, scraped, "the scraper") {
		t.Errorf("a counter went back during the runs: %s", b)
	}
	if bad := monotonic(first, scrapeAll(t, reg)); len(bad) > 0 {
		t.Errorf("counters went back between the runs: %v", bad)
	}

	// The latest run's quantiles, for every step that sent something.
	for _, mf := range families(t, reg, "synth_step_latency_seconds") {
		for _, mt := range mf.GetMetric() {
			sum := mt.GetSummary()
			var qs []float64
			for _, q := range sum.GetQuantile() {
				qs = append(qs, q.GetQuantile())
				if !(q.GetValue() > 0) {
					t.Errorf("%s: quantile %v is %v, want above 0", key(mf.GetName(), mt.GetLabel()), q.GetQuantile(), q.GetValue())
				}
			}
			if fmt.Sprint(qs) != "[0.5 0.9 0.99]" || !(sum.GetSampleSum() > 0) {
				t.Errorf("%s: quantiles %v, sum %v; want 0.5, 0.9, 0.99 and a positive sum",
					key(mf.GetName(), mt.GetLabel()), qs, sum.GetSampleSum())
			}
		}
	}
	lintClean(t, reg)
}

// abortScenario fails (or slows) every request at a steady rate until a
// guardrail aborts it.
const abortScenario = `
name: guarded
target: http://127.0.0.1:1
rate: {rate: 50}
duration: 1m
guardrails: {%s, window: 1s, min_samples: 5}
journeys:
  - name: j
    steps:
      - {name: get, path: /x}
`

// TestSynthAborts: a run that a guardrail aborts, or an operator kills,
// counts once under its reason; a graceful stop is no abort.
func TestSynthAborts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		guardrail string
		handler   http.HandlerFunc
		control   func(*scenarios.Runner)
		outcome   scenarios.Outcome
		reason    string // "" for none
	}{
		{
			name:      "error rate",
			guardrail: "max_error_rate: 0.2",
			handler:   func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
			outcome:   scenarios.OutcomeAborted,
			reason:    AbortErrorRate,
		},
		{
			name:      "p99 latency",
			guardrail: "max_p99: 5ms",
			// Every answer takes at least 20ms, so p99 is above 5ms
			// however fast the machine.
			handler: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-time.After(20 * time.Millisecond):
				case <-r.Context().Done():
				}
			},
			outcome: scenarios.OutcomeAborted,
			reason:  AbortP99,
		},
		{
			name:      "killed",
			guardrail: "max_error_rate: 0.5",
			handler:   func(http.ResponseWriter, *http.Request) {},
			control:   (*scenarios.Runner).Kill,
			outcome:   scenarios.OutcomeKilled,
			reason:    AbortKilled,
		},
		{
			name:      "stopped",
			guardrail: "max_error_rate: 0.5",
			handler:   func(http.ResponseWriter, *http.Request) {},
			control:   (*scenarios.Runner).Stop,
			outcome:   scenarios.OutcomeStopped,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			arrived := make(chan struct{}, 1)
			target := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case arrived <- struct{}{}:
				default:
				}
				tc.handler(w, r)
			}))
			m, reg := newSynth(t, SynthConfig{})
			var during func(*scenarios.Runner)
			if tc.control != nil {
				during = func(r *scenarios.Runner) {
					waitFor(t, arrived, "the first request")
					tc.control(r)
				}
			}
			res := run(t, m, parse(t, fmt.Sprintf(abortScenario, tc.guardrail), target), during)
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %s (%s), want %s", res.Outcome, res.Reason, tc.outcome)
			}
			want := map[string]float64{}
			for _, r := range abortReasons {
				want[sk("synth_aborts_total", "reason", r)] = 0
			}
			if tc.reason != "" {
				want[sk("synth_aborts_total", "reason", tc.reason)] = 1
			}
			checkSeries(t, series(t, reg, "synth_aborts_total"), want)
			if got, want := AbortReason(res.Snapshot), tc.reason; got != want {
				t.Errorf("AbortReason = %q, want %q", got, want)
			}
		})
	}
}

// TestSynthLiveGauges: while a run is live its gauges show it (two
// journeys held by the target fill max_in_flight exactly); once its done
// is called they are gone and its counters stay.
func TestSynthLiveGauges(t *testing.T) {
	t.Parallel()
	g := newGate()
	t.Cleanup(g.open)
	shop := newShop(t, g.wrap)
	m, reg := newSynth(t, SynthConfig{})
	sc := parse(t, `
name: orders
target: http://127.0.0.1:1
rate: {rate: 40}
duration: 1m
max_in_flight: 2
ceiling: 100
journeys:
  - name: browse
    steps:
      - {name: menu, path: /menu}
`, shop.URL)
	live := []string{"synth_in_flight_journeys", "synth_target_journeys_per_second",
		"synth_current_journeys_per_second", "synth_guardrail_breaching"}
	res := run(t, m, sc, func(r *scenarios.Runner) {
		waitFor(t, g.arrived, "the first journey")
		waitFor(t, g.arrived, "the second journey")
		got := series(t, reg, live...)
		current := got[sk("synth_current_journeys_per_second", "scenario", "orders")]
		if !(current > 0) {
			t.Errorf("current rate %v with two journeys started, want above 0", current)
		}
		delete(got, sk("synth_current_journeys_per_second", "scenario", "orders")) // depends on timing
		checkSeries(t, got, map[string]float64{
			sk("synth_in_flight_journeys", "scenario", "orders"):         2,
			sk("synth_target_journeys_per_second", "scenario", "orders"): 40,
			sk("synth_guardrail_breaching", "scenario", "orders"):        0,
		})
		r.Stop()
		g.open()
	})
	if res.Outcome != scenarios.OutcomeStopped || res.Journeys.Succeeded != 2 {
		t.Fatalf("outcome %s, journeys %+v; want stopped with the two held journeys succeeded", res.Outcome, res.Journeys)
	}
	if got := series(t, reg, live...); len(got) != 0 {
		t.Errorf("gauges of an ended run are still exposed: %v", got)
	}
	got := series(t, reg, "synth_journeys_total")
	want := map[string]float64{
		sk("synth_journeys_total", "result", "succeeded", "scenario", "orders"):   2,
		sk("synth_journeys_total", "result", "failed", "scenario", "orders"):      0,
		sk("synth_journeys_total", "result", "interrupted", "scenario", "orders"): 0,
		sk("synth_journeys_total", "result", "dropped", "scenario", "orders"):     float64(res.Journeys.Dropped),
	}
	checkSeries(t, got, want)
}

// TestSynthStepCap: steps beyond MaxSteps are counted as Other, whose
// summary has a count but no quantiles (they would mix steps).
func TestSynthStepCap(t *testing.T) {
	t.Parallel()
	m, reg := newSynth(t, SynthConfig{MaxSteps: 1})
	step := func(journey string, n int64) scenarios.StepStats {
		return scenarios.StepStats{Journey: journey, Step: "s", Requests: n, Status: map[int]int64{200: n},
			Latency: statsSummary(n)}
	}
	snap := scenarios.Snapshot{Scenario: "sc", Steps: []scenarios.StepStats{step("a", 1), step("b", 2), step("c", 3)}}
	m.Watch(func() scenarios.Snapshot { return snap })()

	got := series(t, reg, "synth_requests_total", "synth_step_latency_seconds")
	want := map[string]float64{
		sk("synth_requests_total", "code", "200", "scenario", "sc", "step", "a/s"): 1,
		sk("synth_requests_total", "code", "200", "scenario", "sc", "step", Other): 5,
		sk("synth_step_latency_seconds_count", "scenario", "sc", "step", "a/s"):    1,
		sk("synth_step_latency_seconds_count", "scenario", "sc", "step", Other):    5,
	}
	checkSeries(t, got, want)
	for _, mf := range families(t, reg, "synth_step_latency_seconds") {
		for _, mt := range mf.GetMetric() {
			n := len(mt.GetSummary().GetQuantile())
			if other := key("", mt.GetLabel()) == sk("", "scenario", "sc", "step", Other); (n == 0) != other {
				t.Errorf("%s: %d quantiles; want none for %q only", key(mf.GetName(), mt.GetLabel()), n, Other)
			}
		}
	}
}

// TestWatchDoneTwice: done moves a run from live to ended once; a second
// done adds nothing.
func TestWatchDoneTwice(t *testing.T) {
	t.Parallel()
	m, reg := newSynth(t, SynthConfig{})
	snap := scenarios.Snapshot{Scenario: "sc", Journeys: scenarios.JourneyCounts{Started: 3, Succeeded: 3}}
	done := m.Watch(func() scenarios.Snapshot { return snap })
	succeeded := sk("synth_journeys_total", "result", "succeeded", "scenario", "sc")
	if got := series(t, reg)[succeeded]; got != 3 {
		t.Errorf("live: succeeded = %v, want 3", got)
	}
	done()
	once := series(t, reg)
	done()
	twice := series(t, reg)
	if once[succeeded] != 3 || !maps.Equal(once, twice) {
		t.Errorf("after one done %v, after two %v; want the same, with succeeded 3", once, twice)
	}
}

// TestAbortReason pins the mapping from the runner's outcome and reason
// to the reason label.
func TestAbortReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		outcome scenarios.Outcome
		reason  string
		want    string
	}{
		{scenarios.OutcomeCompleted, "", ""},
		{scenarios.OutcomeStopped, "stopped", ""},
		{scenarios.OutcomeAborted, "guardrail: error rate 100.0% (10 of 10 requests in the last 1s) is above max_error_rate 20.0%, sustained for 1s", AbortErrorRate},
		{scenarios.OutcomeAborted, "guardrail: p99 latency 21ms (10 requests in the last 1s) is above max_p99 5ms, sustained for 1s", AbortP99},
		{scenarios.OutcomeAborted, "guardrail: something new", AbortGuardrail},
		{scenarios.OutcomeKilled, "killed", AbortKilled},
	}
	for _, tc := range tests {
		if got := AbortReason(scenarios.Snapshot{Outcome: tc.outcome, Reason: tc.reason}); got != tc.want {
			t.Errorf("AbortReason(%s, %q) = %q, want %q", tc.outcome, tc.reason, got, tc.want)
		}
	}
}

// TestSynthConfigValidate checks that a bad field is named and refused.
func TestSynthConfigValidate(t *testing.T) {
	t.Parallel()
	if err := (SynthConfig{}).Validate(); err != nil {
		t.Errorf("zero SynthConfig: %v, want valid", err)
	}
	err := SynthConfig{MaxSteps: -1}.Validate()
	if err == nil || !strings.Contains(err.Error(), "max_steps: -1") {
		t.Errorf("MaxSteps -1: %v, want an error naming max_steps", err)
	}
	if _, err := NewSynth(prometheus.NewPedanticRegistry(), SynthConfig{MaxSteps: -1}); err == nil {
		t.Error("NewSynth accepted MaxSteps -1")
	}
}
