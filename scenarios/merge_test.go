package scenarios

import (
	"reflect"
	"testing"
	"time"
)

func TestRunInfoLabelsRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []RunInfo{
		{RunID: "r1", Scenario: "orders", Target: "http://shop", MinSuccessRate: 0.95, MaxInFlight: 50, Ceiling: 12.5,
			Steps: []StepName{{Journey: "j", Step: "create"}, {Journey: "j", Step: "cancel", Cleanup: true}}},
		{MinSuccessRate: 1},
	}
	for _, want := range tests {
		got := RunInfoFromLabels(want.Labels())
		if want.Steps == nil {
			want.Steps = []StepName{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %+v gave %+v", want, got)
		}
	}
	if got := RunInfoFromLabels(map[string]string{labelSteps: "not json", labelMinSuccessRate: "x"}); got.MinSuccessRate != 1 || got.Steps != nil {
		t.Errorf("damaged labels gave %+v, want the defaults", got)
	}
}

// TestMergerAddsRuns merges two runs of one scenario: steps in scenario
// order, journeys failed by any failed step, cleanups counted apart,
// limits added and the strictest threshold kept.
func TestMergerAddsRuns(t *testing.T) {
	t.Parallel()
	steps := []StepName{{Journey: "j", Step: "create"}, {Journey: "j", Step: "cancel", Cleanup: true}}
	m := NewMerger()
	m.AddRun(RunInfo{RunID: "a", Scenario: "orders", Target: "http://shop", Steps: steps, MinSuccessRate: 0.5, MaxInFlight: 10, Ceiling: 5})
	m.AddRun(RunInfo{RunID: "b", Scenario: "orders", Target: "http://shop", Steps: steps, MinSuccessRate: 0.9, MaxInFlight: 10, Ceiling: 5})
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(run, journey, step string, status int, fails ...CheckFailure) {
		m.Add(StepResult{RunID: run, JourneyID: journey, Journey: "j", Step: step, Status: status,
			Start: t0, Latency: time.Second, Failures: fails})
	}
	add("a", "1", "cancel", 200) // a cleanup seen first still sorts after create
	add("a", "1", "create", 201)
	add("b", "1", "create", 500, CheckFailure{Check: "status", Msg: "status 500"})
	add("b", "1", "cancel", 404, CheckFailure{Check: "status", Msg: "status 404"})
	m.Add(StepResult{RunID: "b", JourneyID: "2", Journey: "j", Step: "create", ErrorKind: "timeout", Start: t0.Add(time.Second), Latency: time.Second})
	res := m.Result()
	if len(res.Steps) != 2 || res.Steps[0].Step != "create" || !res.Steps[1].Cleanup {
		t.Fatalf("steps %+v, want create then the cleanup cancel", res.Steps)
	}
	create := res.Steps[0]
	if create.Requests != 3 || create.Failures != 2 || create.Errors["timeout"] != 1 || create.Checks["status"] != 1 || len(create.Exemplars) != 2 {
		t.Errorf("create = %+v, want 3 requests, 2 failures (a status, a timeout)", create)
	}
	wantJ := JourneyCounts{Started: 3, Succeeded: 1, Failed: 2}
	wantC := CleanupCounts{Ran: 2, Failed: 1}
	if res.Journeys != wantJ || res.Cleanups != wantC {
		t.Errorf("journeys %+v cleanups %+v, want %+v %+v", res.Journeys, res.Cleanups, wantJ, wantC)
	}
	if res.RunID != "a, b" || res.Scenario != "orders" || res.Ceiling != 10 || res.MaxInFlight != 20 || res.MinSuccessRate != 0.9 {
		t.Errorf("run %q scenario %q ceiling %v in flight %d threshold %v", res.RunID, res.Scenario, res.Ceiling, res.MaxInFlight, res.MinSuccessRate)
	}
	if res.Elapsed != 2*time.Second || res.Passed() {
		t.Errorf("elapsed %v, passed %v; want 2s, failed", res.Elapsed, res.Passed())
	}
}

// FuzzMerge feeds the merger labels and requests as a damaged or hostile
// file could hold them: it must not panic, and every request must be
// counted once, as an answer or as an error.
func FuzzMerge(f *testing.F) {
	f.Add(`[{"journey":"j","step":"s","cleanup":true}]`, "0.9", "j", "s", "r1", "status", "status 500, want 200", "", 500, int64(1e6))
	f.Add(`not json`, "NaN", "", "", "", "", "no colon", "timeout", 0, int64(-5))
	f.Add(`[{"journey":1}]`, "", "j/x", "s: y", "", "", ": ", "", -1, int64(1)<<62)
	f.Fuzz(func(t *testing.T, steps, minRate, journey, step, runID, check, msg, errKind string, status int, latency int64) {
		m := NewMerger()
		m.AddRun(RunInfoFromLabels(map[string]string{labelSteps: steps, labelMinSuccessRate: minRate, labelRunID: runID}))
		r := StepResult{RunID: runID, Journey: journey, Step: step, Status: status, ErrorKind: errKind,
			Latency: time.Duration(latency), Start: time.Unix(0, latency), Failures: []CheckFailure{{Check: check, Msg: msg}}}
		m.Add(r)
		m.Add(r)
		res := m.Result()
		var requests, answered int64
		for _, st := range res.Steps {
			requests += st.Requests
			for _, n := range st.Status {
				answered += n
			}
			for _, n := range st.Errors {
				answered += n
			}
		}
		if requests != 2 || answered != 2 {
			t.Errorf("requests %d, answers and errors %d; want 2 each", requests, answered)
		}
		_ = res.Passed()
	})
}
