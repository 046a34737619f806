package scenarios

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkRunnerCost runs b.N one-step journeys (GET, status asserted)
// at a fixed rate the machine can keep up with, against a loopback server
// in this process, and reports the process CPU time per journey
// (cpu-µs/journey, the server's share included: the same for every
// version of the runner, so before/after ratios still compare the
// runner) and allocations per journey. ns/op is the pacing interval and
// says nothing. It is the runner's cost per request, what limits synth's
// maximum rate on a few cores.
func BenchmarkRunnerCost(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":42,"status":"shipped"}`)
	}))
	defer srv.Close()
	const rate = 4000
	sc := mustParse(b, `
name: bench
target: http://127.0.0.1:1
rate: {rate: 1}
duration: 1s
max_in_flight: 2000
ceiling: 100000
journeys: [{name: j, steps: [{name: ping, path: /ping, assert: {status: [200]}}]}]
`)
	r := mustRunner(b, sc, RunnerOptions{Target: srv.URL, Rate: rate,
		Duration: time.Duration(b.N) * time.Second / rate})
	b.ReportAllocs()
	cpu0, haveCPU := processCPU()
	b.ResetTimer()
	res, err := r.Run(b.Context())
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if n := res.Journeys.Started; n > 0 {
		if cpu1, ok := processCPU(); haveCPU && ok {
			b.ReportMetric(float64(cpu1-cpu0)/float64(time.Microsecond)/float64(n), "cpu-µs/journey")
		}
	}
	b.ReportMetric(float64(res.Journeys.Dropped), "dropped")
	if res.Journeys.Failed > 0 {
		b.Fatalf("%d of %d journeys failed", res.Journeys.Failed, res.Journeys.Started)
	}
}

// BenchmarkRateAccuracy paces a one-step journey against a fast loopback
// server for a few seconds and reports achieved/target starts as
// rate-ratio (1 is perfect), plus dropped starts and first-step p99
// (measured from the intended start). One iteration is one whole run; run
// it with -benchtime=1x.
func BenchmarkRateAccuracy(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	for _, rate := range []float64{200, 2000} {
		b.Run(fmt.Sprintf("rate=%.0f", rate), func(b *testing.B) {
			sc := mustParse(b, fmt.Sprintf(`
name: bench
target: http://127.0.0.1:1
rate: {rate: %v}
duration: 2500ms
max_in_flight: 1000
journeys: [{name: j, steps: [{name: ping, path: /ping}]}]
`, rate))
			var res *Result
			for i := 0; i < b.N; i++ {
				r := mustRunner(b, sc, RunnerOptions{Target: srv.URL})
				var err error
				if res, err = r.Run(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(res.AchievedRate/res.TargetRate, "rate-ratio")
			b.ReportMetric(float64(res.Journeys.Dropped), "dropped")
			b.ReportMetric(float64(res.Steps[0].Latency.P99)/float64(time.Millisecond), "p99-ms")
			b.ReportMetric(res.AchievedRate, "achieved/s")
		})
	}
}
