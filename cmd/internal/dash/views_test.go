package dash

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/scenarios"
	"github.com/understudy-dev/understudy/stats"
	"github.com/understudy-dev/understudy/tui"
)

func TestShadowView(t *testing.T) {
	t.Parallel()
	started := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	st := mirror.Stats{Received: 100, Mirrored: 90, Dropped: 1, Stale: 1, Skipped: map[string]uint64{"method": 5, "sample": 3},
		CandidateErrors: 1, QueueDepth: 4, QueueSize: 1024}
	x := compare.Exemplar{Method: "GET", URL: "/orders/1", PrimaryStatus: 200, CandidateStatus: 200,
		Difference: compare.Difference{Path: "$.total", Kind: compare.Changed, Primary: "3.33", Candidate: "3.34"}}
	noiseX := compare.Exemplar{Method: "GET", URL: "/orders/2", Difference: compare.Difference{Path: "$.eta", Kind: compare.Changed}}
	rep := &compare.Report{
		Verdict: compare.Fail, Reasons: []string{"GET /orders/{id}: 10% differ"},
		Totals: compare.Totals{Counts: compare.Counts{Pairs: 88, PrimaryP99Ms: 1.5, CandidateP99Ms: 3}},
		Endpoints: []compare.EndpointReport{{
			Method: "GET", Route: "/orders/{id}", Verdict: compare.Fail,
			Counts: compare.Counts{Pairs: 80, Diffs: 8, DiffRate: 0.1, CandidateErrors: 1, PrimaryP99Ms: 1.5, CandidateP99Ms: 3},
			Fields: []compare.FieldReport{
				{Path: "$.eta", Diffs: 80, Noise: 79, Noisy: true, Exemplars: []compare.Exemplar{noiseX}},
				{Path: "$.total", Diffs: 8, Exemplars: []compare.Exemplar{x}},
			},
		}},
	}
	got := Shadow(Upstreams{Primary: "p", Candidate: "c", Listen: "127.0.0.1:8080", Started: started}, st, true, rep)
	want := &tui.ShadowSnapshot{
		Primary: "p", Candidate: "c", Listen: "127.0.0.1:8080", Started: started, Verdict: "fail", Reasons: rep.Reasons,
		Received: 100, Mirrored: 90, Compared: 88, Dropped: 2, Skipped: 8, CandidateErrors: 1,
		QueueDepth: 4, QueueSize: 1024, Paused: true,
		PrimaryP99: 1500 * time.Microsecond, CandidateP99: 3 * time.Millisecond,
		Endpoints: []tui.Endpoint{{
			Method: "GET", Route: "/orders/{id}", Pairs: 80, Diffs: 8, DiffRate: 0.1, NoisyFields: 1,
			PrimaryP99: 1500 * time.Microsecond, CandidateP99: 3 * time.Millisecond, CandidateErrors: 1,
			Fields: []tui.Field{{Path: "$.eta", Diffs: 80, Noise: 79, IsNoise: true}, {Path: "$.total", Diffs: 8}},
			// Real differences come before noise.
			Exemplars: []tui.Exemplar{
				{Method: "GET", URL: "/orders/1", PrimaryStatus: 200, CandidateStatus: 200,
					Differences: []tui.Difference{{Path: "$.total", Kind: "changed", Primary: "3.33", Candidate: "3.34"}}},
				{Method: "GET", URL: "/orders/2", Differences: []tui.Difference{{Path: "$.eta", Kind: "changed"}}},
			},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Shadow() mismatch (-want +got):\n%s", diff)
	}

	// Until an endpoint is judged, the verdict is pending, not the
	// report's "fail for lack of evidence".
	rep.Endpoints[0].Verdict = compare.NotJudged
	if got := Shadow(Upstreams{}, st, false, rep); got.Verdict != "" || got.Reasons != nil {
		t.Errorf("verdict before anything is judged = %q %q, want pending", got.Verdict, got.Reasons)
	}
}

// A candidate that refuses most copies is shown as unreachable while the
// run goes on, with the verdict's headline first, not as "pending".
func TestShadowViewCandidateUnreachable(t *testing.T) {
	t.Parallel()
	rep := &compare.Report{Verdict: compare.Inconclusive, Headline: "inconclusive: the candidate was unreachable for 9 of 10 copies",
		Reasons:   []string{"more"},
		Totals:    compare.Totals{Counts: compare.Counts{Pairs: 1, CandidateErrors: 9, CandidateErrorKinds: map[string]int64{"refused": 9}}},
		Endpoints: []compare.EndpointReport{{Method: "GET", Route: "/", Verdict: compare.NotJudged}}}
	got := Shadow(Upstreams{}, mirror.Stats{}, false, rep)
	if !got.CandidateUnreachable || got.Verdict != compare.Inconclusive || len(got.Reasons) != 2 || got.Reasons[0] != rep.Headline {
		t.Errorf("snapshot unreachable %v, verdict %q, reasons %q; want unreachable, inconclusive, headline first", got.CandidateUnreachable, got.Verdict, got.Reasons)
	}
	rep.Totals.CandidateErrorKinds = map[string]int64{"timeout": 9} // slow, not absent: its own failures
	if got := Shadow(Upstreams{}, mirror.Stats{}, false, rep); got.CandidateUnreachable {
		t.Error("a candidate timing out is shown as unreachable")
	}
}

func TestShadowViewBoundsExemplars(t *testing.T) {
	t.Parallel()
	f := compare.FieldReport{Path: "$.a", Diffs: 100}
	for i := 0; i < 3*MaxExemplars; i++ {
		f.Exemplars = append(f.Exemplars, compare.Exemplar{URL: "/x"})
	}
	rep := &compare.Report{Endpoints: []compare.EndpointReport{{Fields: []compare.FieldReport{f, f}}}}
	if got := len(Shadow(Upstreams{}, mirror.Stats{}, false, rep).Endpoints[0].Exemplars); got != MaxExemplars {
		t.Errorf("exemplars = %d, want the bound %d", got, MaxExemplars)
	}
}

func TestSynthView(t *testing.T) {
	t.Parallel()
	snap := scenarios.Snapshot{
		Scenario: "orders", State: scenarios.StateDone, Outcome: scenarios.OutcomeAborted, Reason: "error rate 9% > 5%",
		Active: 30 * time.Second, CurrentTarget: 50, CurrentRate: 49, Ceiling: 100, InFlight: 3,
		Journeys:  scenarios.JourneyCounts{Started: 10, Dropped: 1, Succeeded: 6, Failed: 2, Interrupted: 1},
		Guardrail: scenarios.GuardrailStatus{Enabled: true},
		Steps: []scenarios.StepStats{{
			Journey: "place", Step: "create", Requests: 10, Failures: 2,
			Latency: stats.Summary{P50: time.Millisecond, P90: 2 * time.Millisecond, P99: 3 * time.Millisecond},
			Status:  map[int]int64{201: 8, 500: 2}, Errors: map[string]int64{"timeout": 1},
			Checks: map[string]int64{"status": 2, "max_latency": 1},
		}},
	}
	got := Synth(snap, time.Minute)
	want := &tui.SynthSnapshot{
		Scenario: "orders", Duration: time.Minute, TargetRate: 50, AchievedRate: 49, Ceiling: 100, InFlight: 3,
		JourneysStarted: 10, JourneysCompleted: 9, JourneysDropped: 1, Done: true, Progress: 0.5,
		Steps:       []tui.Step{{Journey: "place", Name: "create", Count: 10, Errors: 2, SuccessRate: 0.8, P50: time.Millisecond, P90: 2 * time.Millisecond, P99: 3 * time.Millisecond}},
		StatusCodes: map[string]uint64{"201": 8, "500": 2, "error": 1},
		AssertionFailures: []tui.AssertionFailure{
			{Step: "place/create", Message: "status", Count: 2},
			{Step: "place/create", Message: "max_latency", Count: 1},
		},
		Guardrail: tui.Guardrail{State: tui.GuardrailTripped, Reason: "error rate 9% > 5%"},
		Result:    "aborted",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Synth() mismatch (-want +got):\n%s", diff)
	}
	if got := Synth(scenarios.Snapshot{Active: time.Hour}, 0); got.Progress != 0 {
		t.Errorf("progress of a run without an end = %v, want 0", got.Progress)
	}
}
