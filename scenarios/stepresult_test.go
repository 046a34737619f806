package scenarios

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/understudy-dev/understudy/stats"
)

// OnResult sees every request the run counted, with what it takes to
// rebuild the step figures elsewhere: the same counts, checks and
// percentiles.
func TestOnResultReportsEverySentRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		orderStatus string // the shop's answer; "shipped" fails the json check
		wantCheck   string
	}{
		{name: "passing", orderStatus: ""},
		{name: "failing check", orderStatus: "shipped", wantCheck: "json.status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			shop := newFakeShop(t, func(f *fakeShop) { f.orderStatus = tt.orderStatus })
			var mu sync.Mutex
			var got []StepResult
			r := mustRunner(t, orders(t, 100, "300ms", 50), RunnerOptions{
				Target: shop.URL, RunID: "run7",
				OnResult: func(sr StepResult) {
					mu.Lock()
					got = append(got, sr)
					mu.Unlock()
				},
			})
			res, err := r.Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				t.Fatal("OnResult was never called")
			}
			type fig struct {
				requests, failures int64
				checks             map[string]int64
				hist               stats.Histogram
			}
			per := map[string]*fig{}
			for _, sr := range got {
				name := sr.Journey + "/" + sr.Step
				f := per[name]
				if f == nil {
					f = &fig{checks: map[string]int64{}}
					per[name] = f
				}
				f.requests++
				f.hist.Record(sr.Latency)
				if !sr.Passed() {
					f.failures++
				}
				for _, c := range sr.Failures {
					f.checks[c.Check]++
				}
				if sr.RunID != "run7" || !strings.HasPrefix(sr.JourneyID, "run7-") || sr.Tags["X-Synthetic-Run"] != "run7" ||
					sr.Tags["X-Synthetic"] != "true" || sr.Tags["X-Synthetic-Journey"] != sr.JourneyID {
					t.Errorf("result %+v: want run7's ids and tags", sr)
				}
				if !strings.HasPrefix(sr.URL, shop.URL+"/orders") || sr.Start.IsZero() || sr.Latency <= 0 {
					t.Errorf("result %+v: want a URL under the shop, a start and a latency", sr)
				}
				if sr.Cleanup != (sr.Step == "cancel") {
					t.Errorf("step %s: Cleanup = %v", sr.Step, sr.Cleanup)
				}
			}
			for _, st := range res.Steps {
				f := per[st.Name()]
				if f == nil {
					if st.Requests > 0 {
						t.Errorf("%s: %d requests counted, none reported", st.Name(), st.Requests)
					}
					continue
				}
				if f.requests != st.Requests || f.failures != st.Failures {
					t.Errorf("%s: reported %d requests, %d failed; result says %d, %d",
						st.Name(), f.requests, f.failures, st.Requests, st.Failures)
				}
				if got, want := f.hist.Quantile(0.99), st.Latency.P99; got != want {
					t.Errorf("%s: p99 of reported latencies %v, result %v", st.Name(), got, want)
				}
				for check, n := range st.Checks {
					if f.checks[check] != n {
						t.Errorf("%s: check %s reported %d times, result says %d", st.Name(), check, f.checks[check], n)
					}
				}
			}
			if tt.wantCheck != "" && !slices.ContainsFunc(got, func(sr StepResult) bool {
				return len(sr.Failures) > 0 && sr.Failures[0].Check == tt.wantCheck && sr.Failures[0].Msg != ""
			}) {
				t.Errorf("no result carries a %s failure", tt.wantCheck)
			}
		})
	}
}
