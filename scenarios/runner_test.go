package scenarios

import (
	"context"
	"math"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestEveryRequestIsTagged proves that every request of a run, cleanups
// included, carries the synthetic tags, with baggage merged.
func TestEveryRequestIsTagged(t *testing.T) {
	t.Parallel()
	shop := newFakeShop(t)
	r := mustRunner(t, orders(t, 100, "400ms", 50), RunnerOptions{Target: shop.URL, RunID: "run42"})
	res, err := r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := shop.seenRequests()
	var sent int64
	for _, st := range res.Steps {
		sent += st.Requests
	}
	if len(got) == 0 || int64(len(got)) != sent {
		t.Fatalf("server saw %d requests, result counts %d; want the same, above 0", len(got), sent)
	}
	journeyRE := regexp.MustCompile(`^run42-\d+$`)
	paths := map[string]int{}
	for _, req := range got {
		h := req.Header
		if v := h.Get("X-Synthetic"); v != "true" {
			t.Errorf("%s %s: X-Synthetic = %q, want true", req.Method, req.Path, v)
		}
		if v := h.Get("X-Synthetic-Run"); v != "run42" {
			t.Errorf("%s %s: X-Synthetic-Run = %q, want run42", req.Method, req.Path, v)
		}
		if v := h.Get("X-Synthetic-Journey"); !journeyRE.MatchString(v) {
			t.Errorf("%s %s: X-Synthetic-Journey = %q, want run42-<n>", req.Method, req.Path, v)
		}
		want := "synthetic=true,synthetic-run=run42"
		if req.Method == "POST" && req.Path == "/orders" {
			want = "tenant=acme,synthetic=true,synthetic-run=run42" // merged, stale member dropped
		}
		if v := h.Values("Baggage"); len(v) != 1 || v[0] != want {
			t.Errorf("%s %s: baggage = %q, want [%q]", req.Method, req.Path, v, want)
		}
		switch {
		case req.Path == "/orders":
			paths["create"]++
		case strings.HasSuffix(req.Path, "/cancel"):
			paths["cancel"]++
		default:
			paths["fetch"]++
		}
	}
	if paths["create"] == 0 || paths["fetch"] == 0 || paths["cancel"] == 0 {
		t.Errorf("requests by step = %v, want every step and the cleanup seen", paths)
	}
}

func TestCustomTagNames(t *testing.T) { bubble(t, testCustomTagNames) }

func testCustomTagNames(t *testing.T) {
	shop, client := newMemShop(t)
	tags := Tags{Synthetic: "X-Test", Run: "X-Test-Run", Journey: "X-Test-Journey", Baggage: "X-Baggage"}
	r := mustRunner(t, orders(t, 50, "200ms", 10), RunnerOptions{Target: shop.URL, Client: client, RunID: "r1", Tags: tags})
	if _, err := r.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := shop.seenRequests()
	if len(got) == 0 {
		t.Fatal("no requests arrived")
	}
	for _, req := range got {
		h := req.Header
		if h.Get("X-Test") != "true" || h.Get("X-Test-Run") != "r1" || !strings.HasPrefix(h.Get("X-Test-Journey"), "r1-") ||
			!strings.HasSuffix(h.Get("X-Baggage"), "synthetic=true,synthetic-run=r1") {
			t.Errorf("%s %s: headers %v, want the custom tags", req.Method, req.Path, h)
		}
		if h.Get("X-Synthetic") != "" {
			t.Errorf("%s %s: default tag sent as well", req.Method, req.Path)
		}
	}
}

// TestCapturesFeedLaterSteps: fetch and cancel use the id create returned;
// the fake answers 404 for any other id, so a wrong capture fails. On the
// bubble's clock the pacing is exact: 100/s for 300ms is 29 starts (vegeta
// paces the first one interval in, at 10ms, and one due at 300ms is not
// made).
func TestCapturesFeedLaterSteps(t *testing.T) { bubble(t, testCapturesFeedLaterSteps) }

func testCapturesFeedLaterSteps(t *testing.T) {
	shop, client := newMemShop(t)
	r := mustRunner(t, orders(t, 100, "300ms", 50), RunnerOptions{Target: shop.URL, Client: client})
	res, err := r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Journeys.Started != 29 || res.Journeys.Succeeded != res.Journeys.Started {
		t.Fatalf("journeys = %+v, want 29 started, all succeeded", res.Journeys)
	}
	if res.Active != 300*time.Millisecond {
		t.Errorf("active %v, want the scenario's 300ms", res.Active)
	}
	for _, st := range res.Steps {
		if st.Requests != res.Journeys.Started || st.Failures != 0 {
			t.Errorf("step %s: %d requests, %d failures; want %d, 0 (%v)", st.Name(), st.Requests, st.Failures,
				res.Journeys.Started, st.Exemplars)
		}
	}
	created := map[string]bool{}
	shop.mu.Lock()
	for id, status := range shop.orders {
		created[id] = true
		if status != "cancelled" {
			t.Errorf("order %s is %s, want cancelled by the cleanup", id, status)
		}
	}
	shop.mu.Unlock()
	for _, req := range shop.seenRequests() {
		if req.Method == "GET" && !created[strings.TrimPrefix(req.Path, "/orders/")] {
			t.Errorf("fetched %s, which was never created", req.Path)
		}
	}
	if !res.Passed() || res.Outcome != OutcomeCompleted {
		t.Errorf("outcome %s, passed %v; want completed and passed", res.Outcome, res.Passed())
	}
}

func TestAssertionFailuresAreCounted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		shop       func(*fakeShop)
		check      string
		msg        string
		cleanupRan bool
	}{
		{"json field", func(f *fakeShop) { f.orderStatus = "pending" }, "json.status",
			`json "status" = "pending", want "placed"`, true},
		{"status", func(f *fakeShop) { f.status = 503 }, "status", "status 503, want one of [201]", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				testAssertionFailures(t, tt.shop, tt.check, tt.msg, tt.cleanupRan)
			})
		})
	}
}

func testAssertionFailures(t *testing.T, opt func(*fakeShop), check, msg string, cleanupRan bool) {
	tt := struct {
		check      string
		msg        string
		cleanupRan bool
	}{check, msg, cleanupRan}
	{
		{
			shop, client := newMemShop(t, opt)
			r := mustRunner(t, orders(t, 100, "300ms", 50), RunnerOptions{Target: shop.URL, Client: client})
			res, err := r.Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			create, fetch, cancel := res.Steps[0], res.Steps[1], res.Steps[2]
			n := res.Journeys.Started
			if n == 0 || res.Journeys.Failed != n {
				t.Fatalf("journeys = %+v, want every one failed", res.Journeys)
			}
			if create.Checks[tt.check] != n || create.Failures != n {
				t.Errorf("create checks = %v, failures %d; want %s×%d", create.Checks, create.Failures, tt.check, n)
			}
			if len(create.Exemplars) == 0 || len(create.Exemplars) > maxExemplars {
				t.Fatalf("%d exemplars, want 1..%d", len(create.Exemplars), maxExemplars)
			}
			if e := create.Exemplars[0]; e.Check != tt.check || e.Msg != tt.msg || e.JourneyID == "" {
				t.Errorf("exemplar = %+v, want check %s, msg %q", e, tt.check, tt.msg)
			}
			if fetch.Requests != 0 {
				t.Errorf("fetch sent %d times after create failed, want 0", fetch.Requests)
			}
			if tt.cleanupRan {
				if cancel.Requests != n || res.Cleanups.Ran != n {
					t.Errorf("cleanup ran %d (%+v), want %d: it runs even when a step failed", cancel.Requests, res.Cleanups, n)
				}
			} else if res.Cleanups.Skipped != n || cancel.Checks["missing_capture"] != n || cancel.Requests != 0 {
				t.Errorf("cleanups = %+v, cancel checks %v; want every cleanup skipped for the missing capture",
					res.Cleanups, cancel.Checks)
			}
			if res.Passed() {
				t.Error("Passed() = true, want false")
			}
		}
	}
}

// TestMaxLatencyAssertion: on the bubble's clock a shop that answers in
// exactly 60ms is over a 50ms limit every time, one that answers in 40ms
// never.
func TestMaxLatencyAssertion(t *testing.T) {
	tests := []struct {
		delay time.Duration
		slow  bool
	}{{60 * time.Millisecond, true}, {40 * time.Millisecond, false}}
	for _, tt := range tests {
		t.Run(tt.delay.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				shop, client := newMemShop(t, func(f *fakeShop) { f.delay = tt.delay })
				sc := mustParse(t, `
name: slow
target: http://127.0.0.1:1
rate: {rate: 50}
duration: 200ms
journeys:
  - name: j
    steps:
      - {name: menu, path: /menu, assert: {max_latency: 50ms}}
`)
				res, err := mustRunner(t, sc, RunnerOptions{Target: shop.URL, Client: client}).Run(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				st := res.Steps[0]
				want := int64(0)
				if tt.slow {
					want = st.Requests
				}
				// The histogram keeps 3 significant digits.
				if st.Requests != 9 || st.Checks["max_latency"] != want || st.Latency.Max < tt.delay || st.Latency.Max > tt.delay*1001/1000 {
					t.Errorf("checks = %v over %d requests, max %v; want 9 requests, max_latency×%d, max %v",
						st.Checks, st.Requests, st.Latency.Max, want, tt.delay)
				}
			})
		})
	}
}

func TestMinSuccessRateThreshold(t *testing.T) {
	t.Parallel()
	half := 0.5
	tests := []struct {
		name string
		s    Snapshot
		want bool
	}{
		{"all good", Snapshot{Outcome: OutcomeCompleted, MinSuccessRate: 1, Journeys: JourneyCounts{Succeeded: 10}}, true},
		{"one failed, strict", Snapshot{Outcome: OutcomeCompleted, MinSuccessRate: 1, Journeys: JourneyCounts{Succeeded: 9, Failed: 1}}, false},
		{"one failed, lenient", Snapshot{Outcome: OutcomeStopped, MinSuccessRate: half, Journeys: JourneyCounts{Succeeded: 9, Failed: 1}}, true},
		{"cleanup failed", Snapshot{Outcome: OutcomeCompleted, MinSuccessRate: half, Journeys: JourneyCounts{Succeeded: 9}, Cleanups: CleanupCounts{Failed: 1}}, false},
		{"aborted", Snapshot{Outcome: OutcomeAborted, MinSuccessRate: 0, Journeys: JourneyCounts{Succeeded: 9}}, false},
		{"killed", Snapshot{Outcome: OutcomeKilled, MinSuccessRate: 0}, false},
		{"nothing ran", Snapshot{Outcome: OutcomeStopped, MinSuccessRate: 1}, true},
	}
	for _, tt := range tests {
		if got := tt.s.Passed(); got != tt.want {
			t.Errorf("%s: Passed() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestGuardrailAborts: every create fails, so the error rate trips the
// guardrail; the run aborts with a reason and cleanups still run. On the
// bubble's clock the breach is seen at the first look with five failures
// in the window and the abort comes at the first look a whole window (1s)
// later.
func TestGuardrailAborts(t *testing.T) { bubble(t, testGuardrailAborts) }

func testGuardrailAborts(t *testing.T) {
	shop, client := newMemShop(t, func(f *fakeShop) { f.status = 500 })
	sc := mustParse(t, `
name: failing
target: http://127.0.0.1:1
rate: {rate: 100}
duration: 1m
guardrails: {max_error_rate: 0.2, window: 1s, min_samples: 5}
journeys:
  - name: j
    steps:
      - name: create
        method: POST
        path: /orders
        body: '{"customer": "x"}'
    cleanup:
      - {name: sweep, method: POST, path: '/sweep?journey={{ .JourneyID }}'}
`)
	r := mustRunner(t, sc, RunnerOptions{Target: shop.URL, Client: client})
	res := runAsync(t, r)()
	if res.Outcome != OutcomeAborted {
		t.Fatalf("outcome = %s (%s), want aborted", res.Outcome, res.Reason)
	}
	// Looks every 250ms: the breach is seen at 250ms, the abort at 1.25s,
	// just before the start due then.
	if res.Active != 1250*time.Millisecond || res.Journeys.Started != 124 {
		t.Errorf("aborted after %v active with %d starts; want 1.25s and 124", res.Active, res.Journeys.Started)
	}
	if !strings.Contains(res.Reason, "error rate") || !strings.Contains(res.Reason, "max_error_rate 20.0%") {
		t.Errorf("reason = %q, want it to name the error rate and the limit", res.Reason)
	}
	if res.Journeys.Started == 0 || res.Cleanups.Ran != res.Journeys.Started || res.Cleanups.Skipped != 0 {
		t.Errorf("journeys %+v, cleanups %+v: want a cleanup run for every journey", res.Journeys, res.Cleanups)
	}
	sweeps := 0
	for _, req := range shop.seenRequests() {
		if strings.HasPrefix(req.Path, "/sweep?journey=") {
			sweeps++
		}
	}
	if int64(sweeps) != res.Journeys.Started {
		t.Errorf("server saw %d cleanups, want %d", sweeps, res.Journeys.Started)
	}
	if res.Passed() {
		t.Error("an aborted run passed")
	}
	if !res.Guardrail.Enabled || res.Guardrail.Window.Count == 0 {
		t.Errorf("guardrail status = %+v, want enabled with samples", res.Guardrail)
	}
}

// TestStopEndsStarts counts starts against the server: after Stop returns
// nothing new starts, and every journey already started finishes.
func TestStopEndsStarts(t *testing.T) { bubble(t, testStopEndsStarts) }

func testStopEndsStarts(t *testing.T) {
	shop, client := newMemShop(t)
	r := mustRunner(t, orders(t, 200, "1m", 100), RunnerOptions{Target: shop.URL, Client: client})
	wait := runAsync(t, r)
	shop.waitRequests(t, 20)
	r.Stop()
	r.Stop() // twice is fine
	atStop := r.Snapshot().Journeys.Started
	res := wait()
	r.Stop() // and after Run returned
	if res.Outcome != OutcomeStopped {
		t.Errorf("outcome = %s, want stopped", res.Outcome)
	}
	if res.Journeys.Started != atStop {
		t.Errorf("%d journeys started, %d when Stop returned: want no starts after Stop", res.Journeys.Started, atStop)
	}
	if got := shop.journeyCount(); int64(got) != atStop {
		t.Errorf("server saw %d journeys, want the %d started before Stop", got, atStop)
	}
	if res.Journeys.Succeeded != atStop || res.Cleanups.Ran != atStop {
		t.Errorf("journeys %+v cleanups %+v: want every started journey finished and cleaned up", res.Journeys, res.Cleanups)
	}
}

// TestKillCancelsInFlight: the server holds every request; Kill must end
// the run anyway, with no starts after it and cleanups skipped.
func TestKillCancelsInFlight(t *testing.T) { bubble(t, testKillCancelsInFlight) }

func testKillCancelsInFlight(t *testing.T) {
	shop, client := newMemShop(t, func(f *fakeShop) { f.block = true })
	r := mustRunner(t, orders(t, 200, "1m", 5), RunnerOptions{Target: shop.URL, Client: client})
	wait := runAsync(t, r)
	shop.waitRequests(t, 5)
	testio.Eventually(t, "a dropped start", func() bool { return r.Snapshot().Journeys.Dropped > 0 })
	r.Kill()
	atKill := r.Snapshot().Journeys.Started
	var wg sync.WaitGroup
	for range 4 { // concurrent, repeated controls are safe
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Kill()
			r.Stop()
			r.Pause()
			r.Resume()
			r.SetRate(10)
		}()
	}
	wg.Wait()
	res := wait()
	if res.Outcome != OutcomeKilled {
		t.Errorf("outcome = %s, want killed", res.Outcome)
	}
	if res.Journeys.Started != atKill || atKill != 5 {
		t.Errorf("started %d, %d at Kill; want 5 (max_in_flight) and none after", res.Journeys.Started, atKill)
	}
	if int64(shop.journeyCount()) != atKill {
		t.Errorf("server saw %d journeys, want %d", shop.journeyCount(), atKill)
	}
	if res.Journeys.Interrupted != atKill || res.Cleanups.Skipped != atKill || res.Cleanups.Ran != 0 {
		t.Errorf("journeys %+v cleanups %+v: want all interrupted, cleanups skipped", res.Journeys, res.Cleanups)
	}
	if res.Journeys.Dropped == 0 {
		t.Errorf("dropped = 0, want starts beyond max_in_flight counted")
	}
	if got := res.Steps[0].Errors["canceled"]; got != atKill {
		t.Errorf("create errors = %v, want canceled×%d", res.Steps[0].Errors, atKill)
	}
}

func TestContextCancelKills(t *testing.T) { bubble(t, testContextCancelKills) }

func testContextCancelKills(t *testing.T) {
	shop, client := newMemShop(t, func(f *fakeShop) { f.block = true })
	r := mustRunner(t, orders(t, 100, "1m", 3), RunnerOptions{Target: shop.URL, Client: client})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan *Result, 1)
	go func() {
		res, _ := r.Run(ctx)
		done <- res
	}()
	shop.waitRequests(t, 3)
	cancel()
	res := <-done
	if res.Outcome != OutcomeKilled || !strings.Contains(res.Reason, "context") {
		t.Errorf("outcome %s (%s), want killed by the context", res.Outcome, res.Reason)
	}
}

// TestPauseHoldsStarts pauses a 100/s run of 1s before it starts, for 5s,
// resumes it for 505ms, pauses it again for 10s: paused time does not
// count, so on the bubble's clock the run makes exactly its 99 starts (at
// 10ms to 990ms of active time) and ends after 1s of it, 16s in all.
func TestPauseHoldsStarts(t *testing.T) { bubble(t, testPauseHoldsStarts) }

func testPauseHoldsStarts(t *testing.T) {
	shop, client := newMemShop(t)
	r := mustRunner(t, orders(t, 100, "1s", 100), RunnerOptions{Target: shop.URL, Client: client})
	r.Pause() // before Run: starts paused
	wait := runAsync(t, r)
	time.Sleep(5 * time.Second)
	if s := r.Snapshot(); s.State != StatePaused || s.Journeys.Started != 0 || s.Active != 0 {
		t.Fatalf("state %s, started %d, active %v while paused; want paused, 0, 0", s.State, s.Journeys.Started, s.Active)
	}
	r.Resume()
	time.Sleep(505 * time.Millisecond)
	r.Pause()
	r.Pause()
	atPause := r.Snapshot()
	if atPause.State != StatePaused || atPause.Journeys.Started != 50 {
		t.Fatalf("state %s, %d started after 505ms at 100/s; want paused, 50 (10ms to 500ms)", atPause.State, atPause.Journeys.Started)
	}
	time.Sleep(10 * time.Second)
	if n := r.Snapshot().Journeys.Started; n != atPause.Journeys.Started {
		t.Errorf("started %d after Pause returned with %d, want none", n, atPause.Journeys.Started)
	}
	r.Resume()
	r.Resume()
	res := wait()
	if res.Outcome != OutcomeCompleted || res.Journeys.Started != 99 || res.Active != time.Second {
		t.Errorf("outcome %s, %d started, active %v; want completed, 99, 1s", res.Outcome, res.Journeys.Started, res.Active)
	}
	if want := 15*time.Second + 505*time.Millisecond + 495*time.Millisecond; res.Elapsed != want {
		t.Errorf("elapsed %v, want %v (paused time included)", res.Elapsed, want)
	}
}

func TestRateIsClampedToCeiling(t *testing.T) {
	t.Parallel()
	sc := mustParse(t, `
name: capped
target: http://127.0.0.1:1
rate: {rate: 10}
duration: 1m
ceiling: 20
journeys: [{name: j, steps: [{name: s, path: /menu}]}]
`)
	tests := []struct {
		in, want float64
	}{
		{5, 5}, {20, 20}, {21, 20}, {1e12, 20}, {math.Inf(1), 20}, {0, 0}, {-3, 0}, {math.NaN(), 0},
	}
	r := mustRunner(t, sc, RunnerOptions{})
	for _, tt := range tests {
		if got := r.SetRate(tt.in); got != tt.want {
			t.Errorf("SetRate(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	over := mustRunner(t, sc, RunnerOptions{Rate: 500})
	if got := over.Snapshot().CurrentTarget; got != 20 {
		t.Errorf("RunnerOptions.Rate 500: target %v, want the ceiling 20", got)
	}
	noCeiling := mustParse(t, `
name: uncapped
target: http://127.0.0.1:1
rate: {rate: 10}
duration: 1m
journeys: [{name: j, steps: [{name: s, path: /menu}]}]
`)
	if got := mustRunner(t, noCeiling, RunnerOptions{}).SetRate(50); got != 10 {
		t.Errorf("no ceiling set: SetRate(50) = %v, want the scenario's own peak 10", got)
	}
}

// TestSetRateNeverExceedsCeiling counts starts: however hard the rate is
// pushed, starts stay within ceiling × active time (plus the one due at 0).
func TestSetRateNeverExceedsCeiling(t *testing.T) { bubble(t, testSetRateNeverExceedsCeiling) }

func testSetRateNeverExceedsCeiling(t *testing.T) {
	shop, client := newMemShop(t)
	sc := mustParse(t, `
name: capped
target: http://127.0.0.1:1
rate: {rate: 10}
duration: 1s
ceiling: 40
journeys: [{name: j, steps: [{name: s, path: /menu}]}]
`)
	r := mustRunner(t, sc, RunnerOptions{Target: shop.URL, Client: client})
	r.SetRate(1e9)
	res := runAsync(t, r)()
	if res.Journeys.Started != 39 || res.Active != time.Second {
		t.Errorf("started %d in %v active, want the ceiling's 39 in 1s (25ms to 975ms)", res.Journeys.Started, res.Active)
	}
}

func TestSnapshotIsBounded(t *testing.T) { bubble(t, testSnapshotIsBounded) }

func testSnapshotIsBounded(t *testing.T) {
	shop, client := newMemShop(t, func(f *fakeShop) { f.status = 500 })
	r := mustRunner(t, orders(t, 200, "300ms", 50), RunnerOptions{Target: shop.URL, Client: client})
	res := runAsync(t, r)()
	if len(res.Steps) != 3 {
		t.Fatalf("%d steps in the result, want 3", len(res.Steps))
	}
	for _, st := range res.Steps {
		if len(st.Exemplars) > maxExemplars {
			t.Errorf("%s: %d exemplars, want at most %d", st.Name(), len(st.Exemplars), maxExemplars)
		}
	}
	if res.Steps[0].Histogram == nil {
		t.Error("final result has no histogram for the first step")
	}
	if res.State != StateDone || r.Snapshot().State != StateDone {
		t.Errorf("state %s, want done", res.State)
	}
	if _, err := r.Run(t.Context()); err == nil {
		t.Error("second Run succeeded, want an error")
	}
}

func TestNewRunnerRejectsBadOptions(t *testing.T) {
	t.Parallel()
	sc := orders(t, 10, "1s", 5)
	tests := []struct {
		name string
		opts RunnerOptions
		want string
	}{
		{"negative rate", RunnerOptions{Rate: -1}, "Rate: want a rate"},
		{"NaN rate", RunnerOptions{Rate: math.NaN()}, "Rate: want a rate"},
		{"negative duration", RunnerOptions{Duration: -1}, "Duration: must not be negative"},
		{"bad target", RunnerOptions{Target: "localhost:80"}, "Target: want an http"},
	}
	for _, tt := range tests {
		_, err := NewRunner(sc, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
	if _, err := NewRunner(&Scenario{}, RunnerOptions{}); err == nil {
		t.Error("NewRunner with an empty scenario succeeded")
	}
}

// TestControlsOutsideRun: controls before Run shape the run (a kill before
// it ends it at once), and controls after Run returned neither block nor
// change the result.
func TestControlsOutsideRun(t *testing.T) { bubble(t, testControlsOutsideRun) }

func testControlsOutsideRun(t *testing.T) {
	shop, client := newMemShop(t)
	killed := mustRunner(t, orders(t, 100, "1m", 10), RunnerOptions{Target: shop.URL, Client: client})
	killed.Kill()
	killed.Stop()
	res := runAsync(t, killed)()
	if res.Outcome != OutcomeKilled || res.Journeys.Started != 0 || res.Elapsed != 0 {
		t.Errorf("killed before Run: outcome %s, %d started after %v; want killed, 0, at once", res.Outcome, res.Journeys.Started, res.Elapsed)
	}

	r := mustRunner(t, orders(t, 100, "100ms", 10), RunnerOptions{Target: shop.URL, Client: client})
	if got := r.SetRate(50); got != 50 {
		t.Fatalf("SetRate(50) before Run = %v", got)
	}
	res = runAsync(t, r)()
	if res.Journeys.Started != 4 || res.Outcome != OutcomeCompleted {
		t.Errorf("rate 50 set before Run: %d started, outcome %s; want 4 (20ms to 80ms), completed", res.Journeys.Started, res.Outcome)
	}
	r.Pause()
	r.Resume()
	r.SetRate(10)
	r.Stop()
	r.Kill()
	if s := r.Snapshot(); s.Outcome != OutcomeCompleted || s.State != StateDone || s.Journeys != res.Journeys {
		t.Errorf("after Run: %s, %s, %+v; want the result unchanged", s.State, s.Outcome, s.Journeys)
	}
}
