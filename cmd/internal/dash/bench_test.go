package dash

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/scenarios"
	"github.com/understudy-dev/understudy/tui"
)

// BenchmarkDashboardOverhead runs a one-step scenario at 5,000 journeys/s
// against a loopback server, without and with the live dashboard (the real
// tui.Run at its 10 redraws a second, drawing into io.Discard, fed by
// in-process snapshots), and reports achieved/target: the dashboard must
// not slow the runner.
func BenchmarkDashboardOverhead(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	const rate, length = 5000, 2 * time.Second
	sc, err := scenarios.Parse("bench.yaml", []byte(fmt.Sprintf(`
name: dashboard-overhead
target: %s
rate: {type: constant, rate: %d}
duration: %s
max_in_flight: 1000
journeys:
  - name: ping
    steps:
      - {name: get, path: /}
`, srv.URL, rate, length)))
	if err != nil {
		b.Fatal(err)
	}
	for _, withDashboard := range []bool{false, true} {
		name := "runner-alone"
		if withDashboard {
			name = "with-dashboard"
		}
		b.Run(name, func(b *testing.B) {
			var ratio float64
			for i := 0; i < b.N; i++ {
				r, err := scenarios.NewRunner(sc, scenarios.RunnerOptions{Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				shown := make(chan struct{})
				if withDashboard {
					src := tui.SourceFunc(func(context.Context) (tui.Snapshot, error) {
						return tui.Snapshot{Synth: Synth(r.Snapshot(), length)}, nil
					})
					in, keys := io.Pipe() // no keys are ever typed
					go func() {
						defer close(shown)
						if err := tui.Run(ctx, src, tui.Options{Input: in, Output: io.Discard, Controller: RunnerControl{Runner: r}}); err != nil {
							b.Error(err)
						}
					}()
					defer keys.Close()
				} else {
					close(shown)
				}
				res, err := r.Run(context.Background())
				cancel()
				<-shown
				if err != nil {
					b.Fatal(err)
				}
				ratio = res.AchievedRate / rate
			}
			b.ReportMetric(ratio, "rate-ratio")
		})
	}
}
