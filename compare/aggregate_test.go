package compare

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExemplarBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		exemplars, n int
		wantLen      int
		wantFirst    []string // ids that must be kept, in order
	}{
		{exemplars: 0, n: 50, wantLen: 5, wantFirst: []string{"e0", "e1", "e2"}}, // default 5: 3 first + 2 sampled
		{exemplars: 1, n: 50, wantLen: 1, wantFirst: []string{"e0"}},
		{exemplars: 4, n: 3, wantLen: 3, wantFirst: []string{"e0", "e1", "e2"}},
		{exemplars: -1, n: 10, wantLen: 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.exemplars, "/", tt.n), func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, Config{Exemplars: tt.exemplars, ExemplarBytes: 16, Seed: 7})
			for i := range tt.n {
				x := pairOf("POST", "/o", answer(200, `{"n":0,"pad":"`+strings.Repeat("p", 40)+`"}`), answer(200, fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i+1, strings.Repeat("p", 40))))
				x.Request.ID = fmt.Sprintf("e%d", i)
				x.Request.Body = []byte(strings.Repeat("r", 100))
				e.Observe(x)
			}
			f := e.Report().Endpoints[0].Fields[0]
			if len(f.Exemplars) != tt.wantLen {
				t.Fatalf("%d exemplars, want %d", len(f.Exemplars), tt.wantLen)
			}
			for i, id := range tt.wantFirst {
				if f.Exemplars[i].ExchangeID != id {
					t.Errorf("exemplar %d is %s, want %s", i, f.Exemplars[i].ExchangeID, id)
				}
			}
			for _, x := range f.Exemplars {
				for _, b := range []string{x.RequestBody, x.PrimaryBody, x.CandidateBody} {
					if len(b) > 16+len("…") {
						t.Errorf("exemplar body of %d bytes, want at most 16 (+…)", len(b))
					}
				}
				if !x.Truncated {
					t.Error("exemplar with cut bodies has Truncated = false")
				}
				if x.Difference.Path != "$.n" {
					t.Errorf("exemplar path %q, want $.n", x.Difference.Path)
				}
			}
		})
	}
}

// TestReservoirIsUniform checks that later exchanges all get a chance:
// over many runs every id after the first ones shows up in the sample.
func TestReservoirIsUniform(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for seed := range uint64(200) {
		e := mustEngine(t, Config{Exemplars: 2, Seed: seed + 1})
		for i := range 10 {
			x := pairOf("GET", "/o", answer(200, `{"n":0}`), answer(200, fmt.Sprintf(`{"n":%d}`, i+1)))
			x.Request.ID = fmt.Sprint(i)
			e.Observe(x)
		}
		ex := e.Report().Endpoints[0].Fields[0].Exemplars
		if ex[0].ExchangeID != "0" {
			t.Fatalf("first exemplar %s, want 0", ex[0].ExchangeID)
		}
		seen[ex[1].ExchangeID] = true
	}
	for i := 1; i < 10; i++ {
		if !seen[fmt.Sprint(i)] {
			t.Errorf("exchange %d never sampled in 200 runs", i)
		}
	}
}

func TestErrorsAreCountedNotDiffed(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{Verdict: VerdictRule{MinPairs: 3}})
	ok := answer(200, `{"a":1}`)
	e.Observe(pairOf("GET", "/o", ok, failed("dial tcp: connection refused", false)))
	e.Observe(pairOf("GET", "/o", ok, failed("context deadline exceeded", true)))
	e.Observe(pairOf("GET", "/o", ok, failed("context deadline exceeded", true)))
	e.Observe(pairOf("GET", "/o", failed("reset", false), ok))
	e.Observe(pairOf("GET", "/o", ok, ok))
	r := e.Report()
	ep := r.Endpoints[0]
	got := []int64{ep.Exchanges, ep.Pairs, ep.CandidateErrors, ep.CandidateTimeouts, ep.PrimaryErrors, ep.Diffs}
	if want := []int64{5, 1, 3, 2, 1, 0}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("exchanges, pairs, candidate errors, timeouts, primary errors, diffs = %v, want %v", got, want)
	}
	wantErrs := []ErrorCount{{"context deadline exceeded", 2}, {"dial tcp: connection refused", 1}}
	if diff := cmp.Diff(wantErrs, ep.Errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	// 3 of 4 answered primaries failed on the candidate: fails the verdict.
	if r.Verdict != Fail || !strings.Contains(r.Reasons[0], "candidate failed 75%") {
		t.Errorf("verdict %s %q, want fail on candidate errors", r.Verdict, r.Reasons)
	}
	res := e.Compare(pairOf("GET", "/o", ok, failed("x", true)))
	if res.Outcome != CandidateTimedOut || res.Differs || len(res.Body) != 0 {
		t.Errorf("Compare = %+v, want a timeout outcome and nothing diffed", res)
	}
}

func TestFieldsAreBounded(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{MaxFields: 3})
	for i := range 10 {
		e.Observe(pairOf("GET", "/o", answer(200, `{}`), answer(200, fmt.Sprintf(`{"f%d":1,"g%d":2}`, i, i))))
	}
	ep := e.Report().Endpoints[0]
	var got []string
	for _, f := range ep.Fields {
		got = append(got, fmt.Sprintf("%s=%d", f.Path, f.Diffs))
	}
	// Fields of one exchange are taken in sorted order: f0, g0, then f1
	// takes the last slot and everything later is folded.
	want := []string{"$.f0=1", "$.f1=1", "$.g0=1", OtherField + "=9"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
	if ep.Diffs != 10 {
		t.Errorf("diffs = %d, want 10", ep.Diffs)
	}
}

// TestConcurrentObserveAndReport runs many observers while reports are
// read; every report must be internally consistent, and the final one
// must count everything. Run with -race.
func TestConcurrentObserveAndReport(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{Seed: 3})
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				url := fmt.Sprintf("/orders/%d", i%7)
				if w%2 == 0 {
					url = fmt.Sprintf("/carts/c-%d", i)
				}
				p := answer(200, order(i, "1.00"))
				c := answer(200, order(i, "1.00"))
				if i%5 == 0 {
					c = answer(200, order(i+1, "2.00"))
				}
				if i%11 == 0 {
					c = failed("boom", false)
				}
				e.Observe(tripleOf("GET", url, p, answer(200, order(i+2, "1.00")), c))
				if i%50 == 0 {
					e.Compare(tripleOf("GET", url, p, p, c))
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	reports := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(time.Minute):
			t.Fatal("observers did not finish within a minute")
		default:
		}
		r := e.Report()
		reports++
		for _, ep := range r.Endpoints {
			if ep.Exchanges != ep.Pairs+ep.CandidateErrors+ep.PrimaryErrors || ep.Diffs+ep.NoiseOnly > ep.Pairs {
				t.Fatalf("inconsistent endpoint %+v", ep.Counts)
			}
		}
	}
	r := e.Report()
	if r.Totals.Exchanges != workers*each {
		t.Errorf("exchanges = %d, want %d", r.Totals.Exchanges, workers*each)
	}
	if reports < 2 {
		t.Logf("only %d reports were read while observing", reports)
	}
}
