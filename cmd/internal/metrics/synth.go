package metrics

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/understudy-dev/understudy/scenarios"
)

// SynthConfig says where the synth metrics come from.
type SynthConfig struct {
	// Snapshot returns the figures of a run that lasts as long as the
	// process (scenarios.Runner.Snapshot for `synth run`), read at every
	// scrape. Nil means none: runs come and go through
	// SynthMetrics.Watch instead.
	Snapshot func() scenarios.Snapshot
	// MaxSteps caps the distinct step label values ("journey/step");
	// later steps are reported as Other. Zero means DefaultMaxLabelValues.
	MaxSteps int
}

// Validate names every bad field of c.
func (c SynthConfig) Validate() error {
	if c.MaxSteps < 0 {
		return fmt.Errorf("max_steps: %d is negative; want 0 (%d) or more", c.MaxSteps, DefaultMaxLabelValues)
	}
	return nil
}

// Abort reasons, the reason label of synth_aborts_total.
const (
	AbortErrorRate = "error_rate"  // a guardrail: the error rate stayed above max_error_rate
	AbortP99       = "p99_latency" // a guardrail: p99 latency stayed above max_p99
	AbortGuardrail = "guardrail"   // a guardrail this package cannot tell apart
	AbortKilled    = "killed"      // killed by an operator, a second interrupt, or a context ending
)

var abortReasons = []string{AbortErrorRate, AbortP99, AbortGuardrail, AbortKilled}

// Journey and cleanup results, the result labels of synth_journeys_total
// and synth_cleanups_total.
var (
	journeyResults = []string{"succeeded", "failed", "interrupted", "dropped"}
	cleanupResults = []string{"ok", "failed", "skipped"}
)

// SynthMetrics exports synthetic runs to Prometheus. It reads each run's
// Snapshot at scrape time and keeps the totals of runs that have ended, so
// counters keep rising across the runs of a schedule. Create one with
// NewSynth; it is safe for concurrent use.
type SynthMetrics struct {
	steps *limiter

	mu     sync.Mutex
	live   map[uint64]func() scenarios.Snapshot // by Watch order
	nextID uint64
	ended  synthTally // runs whose done was called
}

// NewSynth registers the synth metrics on reg.
func NewSynth(reg prometheus.Registerer, cfg SynthConfig) (*SynthMetrics, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("synth metrics: %w", err)
	}
	m := &SynthMetrics{
		steps: newLimiter(cmp.Or(cfg.MaxSteps, DefaultMaxLabelValues)),
		live:  map[uint64]func() scenarios.Snapshot{},
		ended: newSynthTally(),
	}
	if err := reg.Register(synthCollector{m}); err != nil {
		return nil, fmt.Errorf("synth metrics: %w", err)
	}
	if cfg.Snapshot != nil {
		m.Watch(cfg.Snapshot)
	}
	return m, nil
}

// Watch adds a run: its snapshot is read at every scrape until done is
// called, when its final figures are added to the totals. Call done once
// the run has ended (its snapshot no longer changes); calling it again
// does nothing. It has the shape of schedule.Options.Watch.
func (m *SynthMetrics) Watch(snapshot func() scenarios.Snapshot) (done func()) {
	m.mu.Lock()
	id := m.nextID
	m.nextID++
	m.live[id] = snapshot
	m.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			// Under the lock, so a scrape sees the run either live or in
			// the totals, never both, never neither.
			m.mu.Lock()
			defer m.mu.Unlock()
			m.ended.add(snapshot(), m.steps)
			delete(m.live, id)
		})
	}
}

// stepKey names a step series; codeKey a request series; pairKey a
// scenario and result.
type (
	stepKey struct{ scenario, step string }
	codeKey struct{ scenario, step, code string }
	pairKey struct{ scenario, result string }
)

// stepLatency is the latency summary of a step series: count and sum over
// every run, quantiles of the latest run that sent the step.
type stepLatency struct {
	count     uint64
	sum       float64
	quantiles map[float64]float64 // nil: unknown, or the Other series; replaced, never changed
}

// synthTally sums the counters of snapshots by label set.
type synthTally struct {
	requests map[codeKey]uint64
	failures map[stepKey]uint64
	latency  map[stepKey]stepLatency
	journeys map[pairKey]uint64
	cleanups map[pairKey]uint64
	aborts   map[string]uint64
}

func newSynthTally() synthTally {
	return synthTally{
		requests: map[codeKey]uint64{}, failures: map[stepKey]uint64{},
		latency: map[stepKey]stepLatency{}, journeys: map[pairKey]uint64{},
		cleanups: map[pairKey]uint64{}, aborts: map[string]uint64{},
	}
}

// clone copies t so that adding to the copy leaves t alone.
func (t synthTally) clone() synthTally {
	return synthTally{
		requests: maps.Clone(t.requests), failures: maps.Clone(t.failures),
		latency: maps.Clone(t.latency), journeys: maps.Clone(t.journeys),
		cleanups: maps.Clone(t.cleanups), aborts: maps.Clone(t.aborts),
	}
}

// add sums one run's snapshot into t.
func (t synthTally) add(s scenarios.Snapshot, steps *limiter) {
	sc := s.Scenario
	for _, st := range s.Steps {
		step := steps.value(st.Name())
		k := stepKey{sc, step}
		for code, n := range st.Status {
			t.requests[codeKey{sc, step, strconv.Itoa(code)}] += uint64(n)
		}
		for kind, n := range st.Errors {
			t.requests[codeKey{sc, step, kind}] += uint64(n)
		}
		t.failures[k] += uint64(st.Failures)
		l := t.latency[k]
		n := st.Latency.Count
		l.count += uint64(n)
		l.sum += st.Latency.Mean.Seconds() * float64(n)
		if n > 0 && step != Other {
			l.quantiles = map[float64]float64{
				0.5: st.Latency.P50.Seconds(), 0.9: st.Latency.P90.Seconds(), 0.99: st.Latency.P99.Seconds(),
			}
		}
		t.latency[k] = l
	}
	j := s.Journeys
	for i, n := range []int64{j.Succeeded, j.Failed, j.Interrupted, j.Dropped} {
		t.journeys[pairKey{sc, journeyResults[i]}] += uint64(n)
	}
	c := s.Cleanups
	for i, n := range []int64{c.Ran - c.Failed, c.Failed, c.Skipped} {
		t.cleanups[pairKey{sc, cleanupResults[i]}] += uint64(max(n, 0))
	}
	if r := AbortReason(s); r != "" {
		t.aborts[r]++
	}
}

// liveGauges are the gauges of the live runs of one scenario.
type liveGauges struct{ inFlight, target, current, breaching float64 }

// AbortReason names why a run was aborted or killed, as the reason label
// of synth_aborts_total; "" when it was neither.
func AbortReason(s scenarios.Snapshot) string {
	switch s.Outcome {
	case scenarios.OutcomeAborted:
		// The runner words its guardrail reasons "guardrail: error rate
		// ..." and "guardrail: p99 latency ...".
		switch r := strings.ToLower(s.Reason); {
		case strings.Contains(r, "error rate"):
			return AbortErrorRate
		case strings.Contains(r, "p99"):
			return AbortP99
		}
		return AbortGuardrail
	case scenarios.OutcomeKilled:
		return AbortKilled
	}
	return ""
}

// synthCollector emits the tally of every run at scrape time.
type synthCollector struct{ m *SynthMetrics }

var (
	descSynthRequests = prometheus.NewDesc("synth_requests_total",
		"Synthetic requests sent, by scenario, step (journey/step) and code: the HTTP status, or why no answer came (timeout, connection_refused, connection_reset, eof, dns, tls, canceled, other).",
		[]string{"scenario", "step", "code"}, nil)
	descSynthFailures = prometheus.NewDesc("synth_step_failures_total",
		"Synthetic requests that failed: no answer, or a failed check (status, JSON, latency, capture).",
		[]string{"scenario", "step"}, nil)
	descSynthLatency = prometheus.NewDesc("synth_step_latency_seconds",
		"Step latency (a journey's first step from its intended start, so a stalled target shows). Count and sum cover every run; the quantiles are the latest run's, exact to 0.1% from its HDR histogram. Do not average quantiles across instances: merge result files.",
		[]string{"scenario", "step"}, nil)
	descSynthJourneys = prometheus.NewDesc("synth_journeys_total",
		"Journeys by result: succeeded, failed, interrupted (cut short by an abort or kill), dropped (not started: max_in_flight reached).",
		[]string{"scenario", "result"}, nil)
	descSynthCleanups = prometheus.NewDesc("synth_cleanups_total",
		"Cleanup steps by result: ok, failed (synthetic data may be left behind), skipped.",
		[]string{"scenario", "result"}, nil)
	descSynthAborts = prometheus.NewDesc("synth_aborts_total",
		"Runs ended early other than by a graceful stop, by reason: error_rate, p99_latency, guardrail (guardrails), killed.",
		[]string{"reason"}, nil)
	descSynthInFlight = prometheus.NewDesc("synth_in_flight_journeys",
		"Journeys running now.", []string{"scenario"}, nil)
	descSynthTarget = prometheus.NewDesc("synth_target_journeys_per_second",
		"The rate journeys are meant to start at now.", []string{"scenario"}, nil)
	descSynthCurrent = prometheus.NewDesc("synth_current_journeys_per_second",
		"The rate journeys started at over the last few seconds.", []string{"scenario"}, nil)
	descSynthBreaching = prometheus.NewDesc("synth_guardrail_breaching",
		"1 while a guardrail limit is exceeded (the run aborts if it lasts a whole window), else 0.", []string{"scenario"}, nil)
)

func (c synthCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSynthRequests, descSynthFailures, descSynthLatency, descSynthJourneys,
		descSynthCleanups, descSynthAborts, descSynthInFlight, descSynthTarget, descSynthCurrent, descSynthBreaching} {
		ch <- d
	}
}

func (c synthCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.Lock()
	t := m.ended.clone()
	gauges := map[string]*liveGauges{}
	for _, id := range slices.Sorted(maps.Keys(m.live)) { // later runs' quantiles win
		s := m.live[id]()
		t.add(s, m.steps)
		g := gauges[s.Scenario]
		if g == nil {
			g = &liveGauges{}
			gauges[s.Scenario] = g
		}
		g.inFlight += float64(s.InFlight)
		g.target += s.CurrentTarget
		g.current += s.CurrentRate
		if s.Guardrail.Breaching {
			g.breaching = 1
		}
	}
	m.mu.Unlock()

	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for k, n := range t.requests {
		counter(descSynthRequests, n, k.scenario, k.step, k.code)
	}
	for k, n := range t.failures {
		counter(descSynthFailures, n, k.scenario, k.step)
	}
	for k, l := range t.latency {
		ch <- prometheus.MustNewConstSummary(descSynthLatency, l.count, l.sum, l.quantiles, k.scenario, k.step)
	}
	for k, n := range t.journeys {
		counter(descSynthJourneys, n, k.scenario, k.result)
	}
	for k, n := range t.cleanups {
		counter(descSynthCleanups, n, k.scenario, k.result)
	}
	for _, r := range abortReasons {
		counter(descSynthAborts, t.aborts[r], r)
	}
	for sc, g := range gauges {
		gauge(descSynthInFlight, g.inFlight, sc)
		gauge(descSynthTarget, g.target, sc)
		gauge(descSynthCurrent, g.current, sc)
		gauge(descSynthBreaching, g.breaching, sc)
	}
}
