package metrics

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/scenarios"
)

// BenchmarkShadowRecord is the metrics' share of each exchange in the
// proxy's workers (the judging itself excluded), from many workers at
// once over a few routes.
func BenchmarkShadowRecord(b *testing.B) {
	m, err := NewShadow(prometheus.NewRegistry(), ShadowConfig{Stats: func() mirror.Stats { return mirror.Stats{} }})
	if err != nil {
		b.Fatal(err)
	}
	ok := exchange.Response{Status: 200, Latency: 3 * time.Millisecond}
	x := &exchange.Exchange{Primary: ok, Candidate: ok}
	var results []compare.Result
	for i := range 8 {
		results = append(results, compare.Result{
			Endpoint: compare.Endpoint{Method: "GET", Route: fmt.Sprintf("/r%d/{id}", i)},
			Outcome:  compare.Compared,
			Body:     []compare.Difference{{Path: "$.a", Kind: compare.Changed}},
			Differs:  true,
		})
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Record(x, results[i%len(results)])
			i++
		}
	})
}

// BenchmarkSynthScrape is one scrape of the synth metrics with ten ended
// runs and one live run of a five-step scenario.
func BenchmarkSynthScrape(b *testing.B) {
	reg := prometheus.NewRegistry()
	m, err := NewSynth(reg, SynthConfig{})
	if err != nil {
		b.Fatal(err)
	}
	snap := scenarios.Snapshot{Scenario: "orders", Journeys: scenarios.JourneyCounts{Started: 100, Succeeded: 99, Failed: 1}}
	for i := range 5 {
		snap.Steps = append(snap.Steps, scenarios.StepStats{Journey: "j", Step: fmt.Sprint(i), Requests: 100,
			Status: map[int]int64{200: 99, 500: 1}, Latency: statsSummary(100)})
	}
	for range 10 {
		m.Watch(func() scenarios.Snapshot { return snap })()
	}
	m.Watch(func() scenarios.Snapshot { return snap })
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
