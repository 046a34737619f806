package metrics

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/egress"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/scenarios"
	"github.com/understudy-dev/understudy/schedule"
	"github.com/understudy-dev/understudy/stats"
)

// TestRegistryLintsClean registers the shadow, synth and schedule metrics
// on one pedantic registry next to the Go and process collectors the
// admin server adds, feeds each so that every family has series, and
// checks that the registry gathers (no clash, every metric described)
// and lints clean, and that the families are exactly those doc.go lists.
func TestRegistryLintsClean(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	before := familyNames(t, reg)

	shadow, err := NewShadow(reg, ShadowConfig{
		Stats: func() mirror.Stats {
			return mirror.Stats{Received: 3, Mirrored: 2, Skipped: map[string]uint64{"method": 1},
				WebSockets: []mirror.WebSocketStats{{Route: "live", Connections: 1, Messages: 4}}}
		},
		Report: func() *compare.Report { return &compare.Report{Verdict: compare.Pass} },
	})
	if err != nil {
		t.Fatal(err)
	}
	ok := exchange.Response{Status: 200, Latency: 3 * time.Millisecond}
	shadow.Record(&exchange.Exchange{Primary: ok, Secondary: &ok, Candidate: ok},
		compare.Result{Endpoint: compare.Endpoint{Method: "GET", Route: "/orders/{id}"}, Outcome: compare.Compared,
			Candidate: "v2", Others: []compare.Result{{Candidate: "v3", Outcome: compare.Compared, Differs: true}}})

	if err := NewEgress(reg, func() egress.Stats {
		return egress.Stats{Primary: egress.PrimaryStats{Forwarded: 2, Recorded: 1},
			Candidate: egress.CopyStats{Calls: 2, Answered: 1, Refused: map[egress.Reason]int64{egress.RefusedNoMatch: 1}}, BytesHeld: 10, Traces: 1}
	}); err != nil {
		t.Fatal(err)
	}

	synth, err := NewSynth(reg, SynthConfig{})
	if err != nil {
		t.Fatal(err)
	}
	live := scenarios.Snapshot{Scenario: "orders", InFlight: 1, CurrentTarget: 5, CurrentRate: 4,
		Guardrail: scenarios.GuardrailStatus{Breaching: true},
		Steps: []scenarios.StepStats{{Journey: "buy", Step: "create", Requests: 2, Failures: 1,
			Status: map[int]int64{201: 1}, Errors: map[string]int64{"timeout": 1},
			Latency: stats.Summary{Count: 2, Mean: time.Millisecond, P50: time.Millisecond, P90: time.Millisecond, P99: time.Millisecond}}},
		Journeys: scenarios.JourneyCounts{Started: 2, Succeeded: 1, Failed: 1},
		Cleanups: scenarios.CleanupCounts{Ran: 1}}
	synth.Watch(func() scenarios.Snapshot { return live })

	if err := NewSchedule(reg, func() []schedule.EntryStatus {
		return []schedule.EntryStatus{{Name: "nightly", Next: time.Unix(1800000000, 0), LastPassed: time.Unix(1790000000, 0),
			Counts: counts(map[schedule.Result]int64{schedule.ResultPassed: 1})}}
	}); err != nil {
		t.Fatal(err)
	}

	lintClean(t, reg)

	got := map[string]bool{}
	for name := range familyNames(t, reg) {
		if !before[name] {
			got[name] = true
		}
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, name := range regexp.MustCompile(`\b(?:shadow|synth)_[a-z_]+[a-z]\b`).FindAllString(string(doc), -1) {
		listed[name] = true
	}
	if !maps.Equal(got, listed) {
		t.Errorf("families exposed:\n%v\nfamilies doc.go lists:\n%v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(listed)))
	}
}

func familyNames(t testing.TB, g prometheus.Gatherer) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, mf := range families(t, g) {
		out[mf.GetName()] = true
	}
	return out
}
