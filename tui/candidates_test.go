package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

func stripANSI(s string) string { return ansi.Strip(s) }

// candidatesScript is shadowScript for a run comparing two candidates: v2
// answers like the primary, v3 differs and has gone down.
func candidatesScript(n int) []Snapshot {
	return script(n, func(i int) Snapshot {
		s := shadowAt(i)
		s.Candidate = ""
		s.Reasons = []string{"candidate v3 fails; candidate v2 passes", "v3: GET /orders/{id}: 12.5% of 40000 pairs differ (max 1%)"}
		s.Candidates = []CandidateSummary{
			{Name: "v2", URL: "http://127.0.0.1:8082", Verdict: "pass", Pairs: 117500 + 228*uint64(i), QueueDepth: 1, QueueSize: 1024, P99: 21 * time.Millisecond},
			{Name: "v3", URL: "http://127.0.0.1:8084", Verdict: "fail", Pairs: 90000, Diffs: 5300, DiffRate: 0.0589, Errors: 2000 + uint64(i),
				Dropped: 40, Down: 1900 + uint64(i), QueueDepth: 0, QueueSize: 1024, P99: 41 * time.Millisecond},
		}
		for j := range s.Endpoints {
			e := &s.Endpoints[j]
			e.Candidates = []EndpointCandidate{{Name: "v2", Pairs: e.Pairs}, {Name: "v3", Pairs: e.Pairs, Diffs: e.Diffs, DiffRate: e.DiffRate}}
		}
		return Snapshot{Shadow: s}
	})
}

// A run of several candidates shows a line per candidate and a diff-rate
// column per candidate; at 80x24 each candidate's errors, drops and queue
// stay in sight.
func TestShadowViewCandidates(t *testing.T) {
	t.Parallel()
	for _, w := range []int{80, 120} {
		v := NewShadowView(DefaultStyles())
		v.SetSize(w, 20)
		sc := candidatesScript(3)
		for _, s := range sc {
			v.SetSnapshot(s.Time, *s.Shadow)
		}
		got := v.View()
		lines := strings.Split(got, "\n")
		wants := []string{"v2%", "v3%"}
		if w >= 120 {
			wants = append(wants, "candidates v2, v3") // the verdict comes first on a narrow state line
		}
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("%d wide: view lacks %q:\n%s", w, want, got)
			}
		}
		var v2, v3 string
		for _, l := range lines {
			switch {
			case strings.HasPrefix(stripANSI(l), "v2 "):
				v2 = stripANSI(l)
			case strings.HasPrefix(stripANSI(l), "v3 "):
				v3 = stripANSI(l)
			}
		}
		if !strings.Contains(v2, "PASS") || !strings.Contains(v2, "queue 1/1024") {
			t.Errorf("%d wide: v2's line %q, want its verdict and queue", w, v2)
		}
		if !strings.Contains(v3, "FAIL") || !strings.Contains(v3, "err 2,002") || !strings.Contains(v3, "down 1,902") || !strings.Contains(v3, "queue 0/1024") {
			t.Errorf("%d wide: v3's line %q, want its verdict, errors, down count and queue", w, v3)
		}
		for i, l := range lines {
			if n := ansi.StringWidth(l); n > w {
				t.Errorf("%d wide: line %d is %d wide: %q", w, i, n, stripANSI(l))
			}
		}
	}
}

// The plain summary line gives each candidate's verdict and numbers.
func TestPlainLineCandidates(t *testing.T) {
	t.Parallel()
	sc := candidatesScript(1)
	got := Plain(sc[0])
	for _, want := range []string{"v2 pass: diffs 0/117,500, errors 0, dropped 0", "v3 fail: diffs 5,300/90,000, errors 2,000, dropped 40, down 1,900"} {
		if !strings.Contains(got, want) {
			t.Errorf("plain line %q lacks %q", got, want)
		}
	}
}
