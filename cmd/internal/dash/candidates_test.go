package dash

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/tui"
)

// A run of several candidates shows each candidate's verdict, numbers,
// queue and drops, each endpoint's diff rate per candidate (every
// candidate listed, in order), and failures under the candidate's name.
func TestShadowViewSeveralCandidates(t *testing.T) {
	t.Parallel()
	st := mirror.Stats{
		Candidates: []mirror.CandidateStats{
			{Name: "v2", Queued: 10, QueueDepth: 1, QueueSize: 8},
			{Name: "v3", Queued: 4, Dropped: 5, Stale: 1, Down: 3, QueueSize: 8},
		},
		Failures: []mirror.Failure{{Upstream: "candidate", Candidate: "v3", Kind: "refused", Count: 4}},
	}
	ep := func(route string, pairs, diffs int64, verdict string) compare.EndpointReport {
		return compare.EndpointReport{Method: "GET", Route: route, Verdict: verdict,
			Counts: compare.Counts{Pairs: pairs, Diffs: diffs, DiffRate: float64(diffs) / float64(pairs)}}
	}
	v2 := compare.CandidateReport{Name: "v2", Verdict: compare.Pass, Endpoints: []compare.EndpointReport{ep("/a", 20, 0, compare.Pass)},
		Totals: compare.Totals{Counts: compare.Counts{Pairs: 20, CandidateP99Ms: 2}}}
	v3 := compare.CandidateReport{Name: "v3", Verdict: compare.Fail,
		Endpoints: []compare.EndpointReport{ep("/a", 20, 10, compare.Fail), ep("/b", 4, 1, compare.NotJudged)},
		Totals:    compare.Totals{Counts: compare.Counts{Pairs: 24, Diffs: 11, DiffRate: 0.458333, CandidateErrors: 4}}}
	rep := &compare.Report{Verdict: compare.Fail, Reasons: []string{"candidate v3 fails; candidate v2 passes"},
		Totals: v2.Totals, Endpoints: v2.Endpoints, Candidates: []compare.CandidateReport{v2, v3}}
	got := Shadow(Upstreams{Candidates: map[string]string{"v2": "http://b", "v3": "http://c"}}, st, false, rep)
	want := []tui.CandidateSummary{
		{Name: "v2", URL: "http://b", Verdict: "pass", Pairs: 20, QueueDepth: 1, QueueSize: 8, P99: 2e6},
		{Name: "v3", URL: "http://c", Verdict: "fail", Pairs: 24, Diffs: 11, DiffRate: 0.458333, Errors: 4, Dropped: 6, Down: 3, QueueSize: 8},
	}
	if diff := cmp.Diff(want, got.Candidates); diff != "" {
		t.Errorf("candidates (-want +got):\n%s", diff)
	}
	if len(got.Endpoints) != 2 {
		t.Fatalf("endpoints = %d, want /a and /b (seen by v3 only)", len(got.Endpoints))
	}
	a, b := got.Endpoints[0], got.Endpoints[1]
	if a.DiffRate != 0.5 || len(a.Candidates) != 2 || a.Candidates[0].DiffRate != 0 || a.Candidates[1].DiffRate != 0.5 {
		t.Errorf("/a = %+v, want the worst diff rate 0.5 and one per candidate", a)
	}
	if b.Route != "/b" || len(b.Candidates) != 2 || b.Candidates[0] != (tui.EndpointCandidate{Name: "v2"}) || b.Candidates[1].Pairs != 4 {
		t.Errorf("/b = %+v, want v2 empty and v3's 4 pairs", b)
	}
	if got.Verdict != "fail" || len(got.Failures) != 1 || got.Failures[0].Upstream != "candidate v3" {
		t.Errorf("verdict %q, failures %+v; want fail and v3's refusals under its name", got.Verdict, got.Failures)
	}
}
