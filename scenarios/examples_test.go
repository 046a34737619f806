package scenarios_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/demo"
	"github.com/understudy-dev/understudy/scenarios"
)

// TestExamplesAgainstDemo runs every example scenario, briefly and at a
// low rate, against the demo order service: each must pass with every
// step exercised, and the orders it created must stay out of /analytics.
func TestExamplesAgainstDemo(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../testdata/scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			srv, err := demo.Start(demo.Options{Version: 1, Seed: 1, SlowDelay: -1, ErrorRate: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			sc, err := scenarios.Load(file)
			if err != nil {
				t.Fatal(err)
			}
			withoutClock(sc)
			withoutProduction(sc)
			r, err := scenarios.NewRunner(sc, scenarios.RunnerOptions{
				Target: srv.URL, Rate: 40, Duration: 500 * time.Millisecond, Seed: 1,
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var summary strings.Builder
			_ = scenarios.WriteText(&summary, &res.Snapshot)
			if res.Outcome != scenarios.OutcomeCompleted || !res.Passed() || res.Journeys.Failed != 0 {
				t.Fatalf("run did not pass:\n%s", summary.String())
			}
			var created int64
			for _, st := range res.Steps {
				if st.Requests == 0 || st.Failures != 0 || st.Skipped != 0 {
					t.Errorf("step %s: %d requests, %d failures, %d skipped; want some, 0, 0\n%s",
						st.Name(), st.Requests, st.Failures, st.Skipped, summary.String())
				}
				if st.Step == "create" {
					created += st.Status[http.StatusCreated]
				}
			}
			a := analytics(t, srv.URL)
			if a.Orders != 0 || a.Revenue != 0 {
				t.Errorf("analytics counts %d orders, revenue %v; want synthetic orders left out", a.Orders, a.Revenue)
			}
			if a.SyntheticExcluded != created {
				t.Errorf("analytics excluded %d synthetic orders, want the %d created", a.SyntheticExcluded, created)
			}
		})
	}
}

type analyticsAnswer struct {
	Orders            int64   `json:"orders"`
	Revenue           float64 `json:"revenue"`
	SyntheticExcluded int64   `json:"synthetic_excluded"`
}

func analytics(t *testing.T, base string) analyticsAnswer {
	t.Helper()
	resp, err := http.Get(base + "/analytics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a analyticsAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("decode /analytics: %v", err)
	}
	return a
}

// withoutProduction drops the guardrails that read production's
// Prometheus: the test has none (the relative rate goes too, replaced by
// the test's rate).
func withoutProduction(sc *scenarios.Scenario) {
	sc.Guardrails.Queries = nil
}

// withoutClock drops the latency limits of sc (max_latency, max_p99): on a
// shared CI machine under -race they would test the machine, not the
// scenario. Status, JSON and capture checks all stay.
func withoutClock(sc *scenarios.Scenario) {
	sc.Guardrails.MaxP99 = 0
	for i := range sc.Journeys {
		j := &sc.Journeys[i]
		for k := range j.Steps {
			j.Steps[k].Assert.MaxLatency = 0
		}
		for k := range j.Cleanup {
			j.Cleanup[k].Assert.MaxLatency = 0
		}
	}
}
