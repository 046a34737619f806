package scenarios

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

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
