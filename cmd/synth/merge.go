package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/scenarios"
	"github.com/understudy-dev/understudy/stats"
)

// maxMergedExemplars bounds the failure examples kept per step, as the
// runner does.
const maxMergedExemplars = 5

// merger rebuilds one scenarios.Result from the step records of many
// result files. Latency percentiles come from one histogram per step
// holding every recorded latency, never from averaging the runners'
// percentiles.
//
// What records cannot say is left out: dropped starts, steps that were not
// sent (a missing variable), target rates. A journey counts as failed when
// any of its recorded non-cleanup steps failed, and as succeeded otherwise.
type merger struct {
	steps    map[stepKey]*stepAgg
	order    []stepKey
	journeys map[string]bool // run id + journey id -> failed
	runs     map[string]runInfo
	names    map[string]bool // scenario names
	targets  map[string]bool
	first    time.Time
	last     time.Time
	cleanups scenarios.CleanupCounts
}

type stepKey struct{ journey, step string }

type stepAgg struct {
	stats scenarios.StepStats
	hist  stats.Histogram
}

// runInfo is what one run's file headers say about it.
type runInfo struct {
	minSuccessRate float64
	maxInFlight    int
	ceiling        float64
}

func newMerger() *merger {
	return &merger{steps: map[stepKey]*stepAgg{}, journeys: map[string]bool{}, runs: map[string]runInfo{},
		names: map[string]bool{}, targets: map[string]bool{}}
}

// header takes a file's labels: its steps in scenario order, cleanup
// marks and the run's thresholds.
func (m *merger) header(h capture.Header) {
	l := h.Labels
	if name := l[labelScenario]; name != "" {
		m.names[name] = true
	}
	if t := l[labelTarget]; t != "" {
		m.targets[t] = true
	}
	var steps []stepLabel
	if json.Unmarshal([]byte(l[labelSteps]), &steps) == nil {
		for _, s := range steps {
			m.step(s.Journey, s.Step).stats.Cleanup = s.Cleanup
		}
	}
	if id := l[labelRunID]; id != "" {
		ri := runInfo{minSuccessRate: 1}
		if v, err := strconv.ParseFloat(l[labelMinSuccessRate], 64); err == nil {
			ri.minSuccessRate = v
		}
		ri.maxInFlight, _ = strconv.Atoi(l[labelMaxInFlight])
		ri.ceiling, _ = strconv.ParseFloat(l[labelCeiling], 64)
		m.runs[id] = ri
	}
}

// step returns a step's aggregate, creating it in first-seen order.
func (m *merger) step(journey, step string) *stepAgg {
	k := stepKey{journey, step}
	a := m.steps[k]
	if a == nil {
		a = &stepAgg{stats: scenarios.StepStats{Journey: journey, Step: step,
			Status: map[int]int64{}, Errors: map[string]int64{}, Checks: map[string]int64{}}}
		m.steps[k] = a
		m.order = append(m.order, k)
	}
	return a
}

// add counts one request.
func (m *merger) add(r *capture.SynthRecord) {
	a := m.step(r.Journey, r.Step)
	st := &a.stats
	st.Requests++
	a.hist.Record(r.Latency)
	if r.ErrorKind != "" {
		st.Errors[r.ErrorKind]++
		a.exemplar(r.JourneyID, r.ErrorKind, "no answer: "+r.ErrorKind)
	} else {
		st.Status[r.Status]++
	}
	for _, f := range r.Failures {
		check, msg, ok := strings.Cut(f, ": ")
		if !ok {
			check, msg = "check", f
		}
		st.Checks[check]++
		a.exemplar(r.JourneyID, check, msg)
	}
	if r.Scenario != "" {
		m.names[r.Scenario] = true
	}
	failed := !r.Passed || r.ErrorKind != ""
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
	if m.first.IsZero() || r.Intended.Before(m.first) {
		m.first = r.Intended
	}
	if end := r.Intended.Add(r.Latency); end.After(m.last) {
		m.last = end
	}
	if _, ok := m.runs[r.RunID]; !ok && r.RunID != "" {
		m.runs[r.RunID] = runInfo{minSuccessRate: 1}
	}
}

func (a *stepAgg) exemplar(journeyID, check, msg string) {
	if len(a.stats.Exemplars) < maxMergedExemplars {
		a.stats.Exemplars = append(a.stats.Exemplars, scenarios.Exemplar{JourneyID: journeyID, Check: check, Msg: msg})
	}
}

// result builds the merged result: runs' ceilings and in-flight caps
// add up, the strictest success threshold applies.
func (m *merger) result() *scenarios.Result {
	s := scenarios.Snapshot{
		Scenario: joinKeys(m.names, " + "), Target: joinKeys(m.targets, ", "),
		State: scenarios.StateDone, Started: m.first, Cleanups: m.cleanups,
	}
	ids := slices.Sorted(maps.Keys(m.runs))
	s.RunID = strings.Join(ids, ", ")
	if len(ids) > 3 {
		s.RunID = fmt.Sprintf("%d runs (%s, ...)", len(ids), strings.Join(ids[:3], ", "))
	}
	for _, id := range ids {
		ri := m.runs[id]
		s.MinSuccessRate = max(s.MinSuccessRate, ri.minSuccessRate)
		s.MaxInFlight += ri.maxInFlight
		s.Ceiling += ri.ceiling
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
	return &scenarios.Result{Snapshot: s}
}

func joinKeys(m map[string]bool, sep string) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), sep)
}

// mergeFiles reads every synth record of the files (a directory stands for
// the capture files in it) into one result. Damage is counted in the
// stats, not returned.
func mergeFiles(paths []string) (*scenarios.Result, capture.ReadStats, int64, error) {
	var total capture.ReadStats
	var other int64
	files, err := expandCapturePaths(paths)
	if err != nil {
		return nil, total, 0, err
	}
	m := newMerger()
	for _, path := range files {
		r, err := capture.Open(path)
		if err != nil {
			return nil, total, other, err
		}
		m.header(r.Header())
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Close()
				return nil, total, other, err
			}
			if rec.Kind != capture.KindSynth {
				other++
				continue
			}
			m.add(rec.Synth)
		}
		total.Add(r.Stats())
		r.Close()
	}
	return m.result(), total, other, nil
}

// expandCapturePaths replaces each directory by the capture files in it
// (finished and partial), by name.
func expandCapturePaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("open results %q: %w", p, err)
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		var names []string
		for _, pattern := range []string{"*" + capture.FileSuffix, "*" + capture.FileSuffix + capture.PartialSuffix} {
			found, err := filepath.Glob(filepath.Join(p, pattern))
			if err != nil {
				return nil, fmt.Errorf("list results in %q: %w", p, err)
			}
			names = append(names, found...)
		}
		slices.Sort(names)
		out = append(out, names...)
	}
	return out, nil
}
