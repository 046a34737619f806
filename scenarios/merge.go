package scenarios

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/stats"
)

// RunInfo is what a run's result files say about the run besides its
// requests: what a merged report needs that no single request carries.
type RunInfo struct {
	// RunID, Scenario and Target name the run, as its Snapshot does.
	RunID    string
	Scenario string
	Target   string
	// Steps are the scenario's steps in order, cleanups marked, so that a
	// merged report lists them as the scenario does.
	Steps []StepName
	// MinSuccessRate, MaxInFlight and Ceiling are the run's threshold and
	// limits.
	MinSuccessRate float64
	MaxInFlight    int
	Ceiling        float64
}

// StepName names one configured step in RunInfo.Steps.
type StepName struct {
	Journey string `json:"journey"`
	Step    string `json:"step"`
	Cleanup bool   `json:"cleanup,omitempty"`
}

// NewRunInfo describes the run s is a snapshot of (taken before or after
// it ran).
func NewRunInfo(s Snapshot) RunInfo {
	info := RunInfo{RunID: s.RunID, Scenario: s.Scenario, Target: s.Target,
		MinSuccessRate: s.MinSuccessRate, MaxInFlight: s.MaxInFlight, Ceiling: s.Ceiling}
	for _, st := range s.Steps {
		info.Steps = append(info.Steps, StepName{Journey: st.Journey, Step: st.Step, Cleanup: st.Cleanup})
	}
	return info
}

// Labels of a result file's header that hold a RunInfo.
const (
	labelScenario       = "scenario"
	labelRunID          = "run_id"
	labelTarget         = "target"
	labelSteps          = "steps" // JSON list of StepName, in scenario order
	labelMinSuccessRate = "min_success_rate"
	labelMaxInFlight    = "max_in_flight"
	labelCeiling        = "ceiling"
)

// Labels encodes info as the string labels of a result file's header.
func (info RunInfo) Labels() map[string]string {
	steps, _ := json.Marshal(info.Steps) // plain strings and bools: cannot fail
	if info.Steps == nil {
		steps = []byte("[]")
	}
	return map[string]string{
		labelScenario:       info.Scenario,
		labelRunID:          info.RunID,
		labelTarget:         info.Target,
		labelSteps:          string(steps),
		labelMinSuccessRate: strconv.FormatFloat(info.MinSuccessRate, 'g', -1, 64),
		labelMaxInFlight:    strconv.Itoa(info.MaxInFlight),
		labelCeiling:        strconv.FormatFloat(info.Ceiling, 'g', -1, 64),
	}
}

// RunInfoFromLabels decodes what Labels encoded. It never fails: a label
// that is missing or damaged leaves its field at the default (no steps,
// a success threshold of 1, no limits).
func RunInfoFromLabels(l map[string]string) RunInfo {
	info := RunInfo{RunID: l[labelRunID], Scenario: l[labelScenario], Target: l[labelTarget], MinSuccessRate: 1}
	var steps []StepName
	if json.Unmarshal([]byte(l[labelSteps]), &steps) == nil {
		info.Steps = steps
	}
	if v, err := strconv.ParseFloat(l[labelMinSuccessRate], 64); err == nil {
		info.MinSuccessRate = v
	}
	info.MaxInFlight, _ = strconv.Atoi(l[labelMaxInFlight])
	info.Ceiling, _ = strconv.ParseFloat(l[labelCeiling], 64)
	return info
}

// Merger rebuilds one Result from the requests of many runs, such as the
// result files of runners that shared the load. Latency percentiles come
// from one histogram per step holding every request's latency, never from
// averaging the runners' percentiles. Create one with NewMerger; it is not
// safe for concurrent use.
//
// What requests cannot say is left out: dropped starts, steps that were
// not sent (a missing variable), target rates. A journey counts as failed
// when any of its non-cleanup requests failed, and as succeeded otherwise.
type Merger struct {
	steps    map[StepName]*mergedStep // keyed without the cleanup mark
	order    []StepName
	journeys map[string]bool // run id + journey id -> failed
	runs     map[string]RunInfo
	names    map[string]bool // scenario names
	targets  map[string]bool
	first    time.Time
	last     time.Time
	cleanups CleanupCounts
}

type mergedStep struct {
	stats StepStats
	hist  stats.Histogram
}

// NewMerger returns an empty Merger.
func NewMerger() *Merger {
	return &Merger{steps: map[StepName]*mergedStep{}, journeys: map[string]bool{}, runs: map[string]RunInfo{},
		names: map[string]bool{}, targets: map[string]bool{}}
}

// AddRun takes what a run's result file says about it: its steps in
// scenario order, cleanup marks, threshold and limits.
func (m *Merger) AddRun(info RunInfo) {
	if info.Scenario != "" {
		m.names[info.Scenario] = true
	}
	if info.Target != "" {
		m.targets[info.Target] = true
	}
	for _, s := range info.Steps {
		m.step(s.Journey, s.Step).stats.Cleanup = s.Cleanup
	}
	if info.RunID != "" {
		m.runs[info.RunID] = info
	}
}

// step returns a step's aggregate, creating it in first-seen order.
func (m *Merger) step(journey, step string) *mergedStep {
	k := StepName{Journey: journey, Step: step}
	a := m.steps[k]
	if a == nil {
		a = &mergedStep{stats: StepStats{Journey: journey, Step: step,
			Status: map[int]int64{}, Errors: map[string]int64{}, Checks: map[string]int64{}}}
		m.steps[k] = a
		m.order = append(m.order, k)
	}
	return a
}

// Add counts one request.
func (m *Merger) Add(r StepResult) {
	a := m.step(r.Journey, r.Step)
	st := &a.stats
	st.Cleanup = st.Cleanup || r.Cleanup
	st.Requests++
	a.hist.Record(r.Latency)
	if r.ErrorKind != "" {
		st.Errors[r.ErrorKind]++
		a.exemplar(r.JourneyID, r.ErrorKind, "no answer: "+r.ErrorKind)
	} else {
		st.Status[r.Status]++
	}
	for _, f := range r.Failures {
		st.Checks[f.Check]++
		a.exemplar(r.JourneyID, f.Check, f.Msg)
	}
	if r.Scenario != "" {
		m.names[r.Scenario] = true
	}
	failed := !r.Passed()
	if failed {
		st.Failures++
	}
	if st.Cleanup {
		m.cleanups.Ran++
		if failed {
			m.cleanups.Failed++
		}
	} else {
		key := r.RunID + "\x00" + r.JourneyID
		m.journeys[key] = m.journeys[key] || failed
	}
	if m.first.IsZero() || r.Start.Before(m.first) {
		m.first = r.Start
	}
	if end := r.Start.Add(r.Latency); end.After(m.last) {
		m.last = end
	}
	if _, ok := m.runs[r.RunID]; !ok && r.RunID != "" {
		m.runs[r.RunID] = RunInfo{RunID: r.RunID, MinSuccessRate: 1}
	}
}

func (a *mergedStep) exemplar(journeyID, check, msg string) {
	if len(a.stats.Exemplars) < maxExemplars {
		a.stats.Exemplars = append(a.stats.Exemplars, Exemplar{JourneyID: journeyID, Check: check, Msg: msg})
	}
}

// Result builds the merged result: the runs' ceilings and in-flight caps
// add up, the strictest success threshold applies.
func (m *Merger) Result() *Result {
	s := Snapshot{
		Scenario: joinKeys(m.names, " + "), Target: joinKeys(m.targets, ", "),
		State: StateDone, Started: m.first, Cleanups: m.cleanups,
	}
	ids := slices.Sorted(maps.Keys(m.runs))
	s.RunID = strings.Join(ids, ", ")
	if len(ids) > 3 {
		s.RunID = fmt.Sprintf("%d runs (%s, ...)", len(ids), strings.Join(ids[:3], ", "))
	}
	for _, id := range ids {
		ri := m.runs[id]
		s.MinSuccessRate = max(s.MinSuccessRate, ri.MinSuccessRate)
		s.MaxInFlight += ri.MaxInFlight
		s.Ceiling += ri.Ceiling
	}
	if len(ids) == 0 {
		s.MinSuccessRate = 1
	}
	for _, failed := range m.journeys {
		s.Journeys.Started++
		if failed {
			s.Journeys.Failed++
		} else {
			s.Journeys.Succeeded++
		}
	}
	if !m.first.IsZero() {
		s.Elapsed = m.last.Sub(m.first)
		s.Active = s.Elapsed
		if secs := s.Elapsed.Seconds(); secs > 0 {
			s.AchievedRate = float64(s.Journeys.Started) / secs
		}
	}
	for _, k := range m.order {
		a := m.steps[k]
		st := a.stats
		st.Latency = a.hist.Summary()
		st.Histogram = a.hist.Export()
		s.Steps = append(s.Steps, st)
	}
	return &Result{Snapshot: s}
}

func joinKeys(m map[string]bool, sep string) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), sep)
}
