package dash

import (
	"sort"
	"strconv"
	"time"

	"github.com/understudy-dev/understudy/scenarios"
	"github.com/understudy-dev/understudy/tui"
)

// Synth builds the dashboard's view of a synthetic run. duration is the
// planned active time (zero: until stopped), for the progress bar.
func Synth(s scenarios.Snapshot, duration time.Duration) *tui.SynthSnapshot {
	v := &tui.SynthSnapshot{
		Scenario:          s.Scenario,
		RunID:             s.RunID,
		Target:            s.Target,
		Started:           s.Started,
		Elapsed:           s.Elapsed,
		Duration:          duration,
		TargetRate:        s.CurrentTarget,
		AchievedRate:      s.CurrentRate,
		Ceiling:           s.Ceiling,
		InFlight:          int(s.InFlight),
		JourneysStarted:   uint64(s.Journeys.Started),
		JourneysCompleted: uint64(s.Journeys.Succeeded + s.Journeys.Failed + s.Journeys.Interrupted),
		JourneysDropped:   uint64(s.Journeys.Dropped),
		Paused:            s.State == scenarios.StatePaused,
		Done:              s.State == scenarios.StateDone,
		StatusCodes:       map[string]uint64{},
		Guardrail:         guardrail(s),
		Result:            result(s),
	}
	if duration > 0 {
		v.Progress = min(1, float64(s.Active)/float64(duration))
	}
	for _, st := range s.Steps {
		step := tui.Step{
			Journey: st.Journey,
			Name:    st.Step,
			Count:   uint64(st.Requests),
			Errors:  uint64(st.Failures),
			P50:     st.Latency.P50,
			P90:     st.Latency.P90,
			P99:     st.Latency.P99,
		}
		if st.Requests > 0 {
			step.SuccessRate = 1 - float64(st.Failures)/float64(st.Requests)
		}
		v.Steps = append(v.Steps, step)
		for code, n := range st.Status {
			v.StatusCodes[strconv.Itoa(code)] += uint64(n)
		}
		for _, n := range st.Errors {
			v.StatusCodes["error"] += uint64(n)
		}
		for check, n := range st.Checks {
			v.AssertionFailures = append(v.AssertionFailures, tui.AssertionFailure{
				Step: st.Name(), Message: check, Count: uint64(n),
			})
		}
	}
	sort.Slice(v.AssertionFailures, func(i, j int) bool {
		a, b := v.AssertionFailures[i], v.AssertionFailures[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Step+a.Message < b.Step+b.Message
	})
	return v
}

func guardrail(s scenarios.Snapshot) tui.Guardrail {
	switch {
	case s.Outcome == scenarios.OutcomeAborted:
		return tui.Guardrail{State: tui.GuardrailTripped, Reason: s.Reason}
	case s.Guardrail.Enabled:
		return tui.Guardrail{State: tui.GuardrailArmed}
	}
	return tui.Guardrail{State: tui.GuardrailOff}
}

func result(s scenarios.Snapshot) string {
	switch {
	case s.State != scenarios.StateDone:
		return ""
	case s.Outcome == scenarios.OutcomeAborted, s.Outcome == scenarios.OutcomeKilled:
		return "aborted"
	case s.Passed():
		return "passed"
	}
	return "failed"
}
