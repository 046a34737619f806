package scenarios

import (
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var traceparentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-01$`)

// TestTraceContext: every request carries a W3C traceparent; the requests
// of one journey share its trace id, every request has a span id of its
// own, and the results record both.
func TestTraceContext(t *testing.T) { bubble(t, testTraceContext) }

func testTraceContext(t *testing.T) {
	shop, client := newMemShop(t)
	var mu sync.Mutex
	var results []StepResult
	r := mustRunner(t, orders(t, 100, "200ms", 50), RunnerOptions{Target: shop.URL, Client: client,
		OnResult: func(sr StepResult) { mu.Lock(); results = append(results, sr); mu.Unlock() }})
	res := runAsync(t, r)()
	traces := map[string]string{} // journey -> trace id
	spans := map[string]bool{}
	for _, req := range shop.seenRequests() {
		m := traceparentRE.FindStringSubmatch(req.Header.Get("Traceparent"))
		if m == nil {
			t.Fatalf("%s %s: traceparent %q, want 00-<trace>-<span>-01", req.Method, req.Path, req.Header.Get("Traceparent"))
		}
		j := req.Header.Get("X-Synthetic-Journey")
		if tr, ok := traces[j]; ok && tr != m[1] {
			t.Errorf("journey %s has traces %s and %s, want one", j, tr, m[1])
		}
		traces[j] = m[1]
		if spans[m[2]] {
			t.Errorf("span id %s sent twice", m[2])
		}
		spans[m[2]] = true
	}
	distinct := map[string]bool{}
	for _, tr := range traces {
		distinct[tr] = true
	}
	if int64(len(traces)) != res.Journeys.Started || len(distinct) != len(traces) {
		t.Errorf("%d journeys with %d distinct traces, want %d", len(traces), len(distinct), res.Journeys.Started)
	}
	if len(results) != len(spans) {
		t.Fatalf("%d results for %d requests", len(results), len(spans))
	}
	for _, sr := range results {
		if sr.TraceID != traces[sr.JourneyID] || !spans[sr.SpanID] ||
			sr.Tags["Traceparent"] != "00-"+sr.TraceID+"-"+sr.SpanID+"-01" {
			t.Errorf("result %s/%s of %s: trace %s span %s tag %q; want what was sent", sr.Journey, sr.Step, sr.JourneyID,
				sr.TraceID, sr.SpanID, sr.Tags["Traceparent"])
		}
	}
}

// TestPreflight: one tagged HEAD / reaches the target before any journey;
// with NoPreflight, none does.
func TestPreflight(t *testing.T) { bubble(t, testPreflight) }

func testPreflight(t *testing.T) {
	for _, skip := range []bool{false, true} {
		shop, client := newMemShop(t)
		r := mustRunner(t, orders(t, 100, "100ms", 50), RunnerOptions{Target: shop.URL, Client: client, RunID: "pf", NoPreflight: skip})
		res := runAsync(t, r)()
		shop.mu.Lock()
		pre, reqs := shop.preflights, shop.requests
		shop.mu.Unlock()
		if skip {
			if len(pre) != 0 || res.Journeys.Started == 0 {
				t.Errorf("NoPreflight: %d pre-flights, %d journeys; want 0 and some", len(pre), res.Journeys.Started)
			}
			continue
		}
		if len(pre) != 1 || len(reqs) == 0 || pre[0].Seq > reqs[0].Seq {
			t.Fatalf("%d pre-flights, first at %d, first journey request at %v; want one, before the journeys", len(pre), pre[0].Seq, reqs)
		}
		h := pre[0].Header
		if h.Get("X-Synthetic") != "true" || h.Get("X-Synthetic-Journey") != "pf-preflight" || !traceparentRE.MatchString(h.Get("Traceparent")) {
			t.Errorf("pre-flight headers %v: want the synthetic tags and a traceparent", h)
		}
		if res.Outcome != OutcomeCompleted || res.Journeys.Started != 9 {
			t.Errorf("outcome %s with %d journeys; want completed with 9 (the pre-flight costs no active time)", res.Outcome, res.Journeys.Started)
		}
	}
}

// TestPreflightDeadTarget: a target that refuses connections aborts the
// run before any journey starts.
func TestPreflightDeadTarget(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	r := mustRunner(t, orders(t, 100, "1m", 50), RunnerOptions{Target: dead})
	res := runAsync(t, r)()
	if res.Outcome != OutcomeAborted || res.Journeys.Started != 0 ||
		!strings.Contains(res.Reason, "pre-flight: target "+dead+" does not answer (connection_refused)") {
		t.Errorf("outcome %s (%s), %d journeys; want aborted by the pre-flight, none started", res.Outcome, res.Reason, res.Journeys.Started)
	}
	if res.Passed() {
		t.Error("a run whose target is dead passed")
	}
}

// TestThinkTime: on the bubble's clock the pause between steps is exactly
// the think time, random ones stay within their bounds, and none of it
// counts in a step's latency.
func TestThinkTime(t *testing.T) { bubble(t, testThinkTime) }

func testThinkTime(t *testing.T) {
	shop, client := newMemShop(t, func(f *fakeShop) { f.delay = 10 * time.Millisecond })
	sc := mustParse(t, `
name: browse
target: http://127.0.0.1:1
rate: {rate: 20}
duration: 1s
journeys:
  - name: j
    think: 500ms
    steps:
      - {name: a, path: /menu}
      - {name: b, path: /menu, think: {min: 1s, max: 2s}}
      - {name: c, path: /menu}
`)
	var mu sync.Mutex
	byJourney := map[string][]StepResult{}
	r := mustRunner(t, sc, RunnerOptions{Target: shop.URL, Client: client,
		OnResult: func(sr StepResult) {
			mu.Lock()
			byJourney[sr.JourneyID] = append(byJourney[sr.JourneyID], sr)
			mu.Unlock()
		}})
	res := runAsync(t, r)()
	if res.Journeys.Succeeded != 19 || len(byJourney) != 19 {
		t.Fatalf("journeys %+v, %d recorded; want 19 succeeded", res.Journeys, len(byJourney))
	}
	for id, srs := range byJourney {
		if len(srs) != 3 {
			t.Fatalf("journey %s: %d requests, want 3", id, len(srs))
		}
		for _, sr := range srs {
			if sr.Latency != 10*time.Millisecond {
				t.Errorf("journey %s step %s: latency %v, want the shop's 10ms (think time is not latency)", id, sr.Step, sr.Latency)
			}
		}
		if gap := srs[1].Start.Sub(srs[0].Start.Add(srs[0].Latency)); gap != 500*time.Millisecond {
			t.Errorf("journey %s: %v between a and b, want the journey's think 500ms", id, gap)
		}
		if gap := srs[2].Start.Sub(srs[1].Start.Add(srs[1].Latency)); gap < time.Second || gap > 2*time.Second {
			t.Errorf("journey %s: %v between b and c, want b's think, 1s to 2s", id, gap)
		}
	}
}

// TestKillCutsThinkShort: a kill during a long think ends the journey at
// once, interrupted.
func TestKillCutsThinkShort(t *testing.T) { bubble(t, testKillCutsThinkShort) }

func testKillCutsThinkShort(t *testing.T) {
	shop, client := newMemShop(t)
	sc := mustParse(t, `
name: slowpoke
target: http://127.0.0.1:1
rate: {rate: 10}
duration: 1m
journeys: [{name: j, think: 5m, steps: [{name: a, path: /menu}, {name: b, path: /menu}]}]
`)
	r := mustRunner(t, sc, RunnerOptions{Target: shop.URL, Client: client})
	wait := runAsync(t, r)
	time.Sleep(2 * time.Second)
	r.Kill()
	res := wait()
	if res.Elapsed != 2*time.Second || res.Journeys.Interrupted != res.Journeys.Started || res.Steps[1].Requests != 0 {
		t.Errorf("elapsed %v, journeys %+v, step b sent %d; want the kill at 2s to end every thinking journey then",
			res.Elapsed, res.Journeys, res.Steps[1].Requests)
	}
}
