package compare

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/exchange"
)

func f64(v float64) *float64 { return &v }

// timed is a pair whose answers took p and c.
func timed(url string, p, c time.Duration) *exchange.Exchange {
	x := pairOf("GET", url, answer(200, `{}`), answer(200, `{}`))
	x.Primary.Latency, x.Candidate.Latency = p, c
	return x
}

func TestLatencyGate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rule     LatencyRule
		pairs    int
		cand     time.Duration
		want     string // report verdict
		failed   bool
		judged   bool
		wantNote string
	}{
		{"80ms slower fails", LatencyRule{MinPairs: 30}, 30, 100 * time.Millisecond, Fail, true, true, ""},
		{"within the ratio passes", LatencyRule{MinPairs: 30}, 30, 22 * time.Millisecond, Pass, false, true, ""},
		// 2× slower, but by 1 ms: below min_delta, not a regression.
		{"a small absolute delta passes", LatencyRule{MinPairs: 30, MinDelta: 5 * time.Millisecond}, 30, 21 * time.Millisecond, Pass, false, true, ""},
		{"too few pairs is not judged", LatencyRule{}, 30, 100 * time.Millisecond, Pass, false, false, "latency not judged on 1 endpoint with fewer than 100 pairs"},
		{"off", LatencyRule{Off: true, MinPairs: 30}, 30, 100 * time.Millisecond, Pass, false, false, "the latency gate is off"},
		{"zero ratios turn it off", LatencyRule{P50: f64(0), P99: f64(0), MinPairs: 30}, 30, 100 * time.Millisecond, Pass, false, false, "the latency gate is off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustEngine(t, Config{Verdict: VerdictRule{Latency: tt.rule}})
			for range tt.pairs {
				e.Observe(timed("/a", 20*time.Millisecond, tt.cand))
			}
			r := e.Report()
			ep := r.Endpoints[0]
			if r.Verdict != tt.want || ep.Latency.Failed != tt.failed || ep.Latency.Judged != tt.judged {
				t.Fatalf("verdict %s, latency %+v; want %s, failed %v, judged %v (reasons %q)", r.Verdict, ep.Latency, tt.want, tt.failed, tt.judged, r.Reasons)
			}
			if tt.failed && (!strings.Contains(r.Headline, "candidate slower: p50") || len(r.FailedOn) != 1 || r.FailedOn[0] != FailLatency) {
				t.Errorf("headline %q, failed on %v; want the latency named", r.Headline, r.FailedOn)
			}
			if tt.wantNote != "" && !strings.Contains(strings.Join(r.Reasons, "\n"), tt.wantNote) {
				t.Errorf("reasons %q lack %q", r.Reasons, tt.wantNote)
			}
		})
	}
}

func TestRouteOverrides(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{Verdict: VerdictRule{Routes: []RouteRule{
		{Route: "GET /search", MaxDiffRate: f64(0.5)},
		{Route: "/slow", Latency: &LatencyRule{Off: true}},
	}}})
	for i := range 40 {
		c := `{"n":1}`
		if i%5 == 0 {
			c = `{"n":2}` // 20% differ
		}
		e.Observe(pairOf("GET", "/search", answer(200, `{"n":1}`), answer(200, c)))
		e.Observe(pairOf("GET", "/list", answer(200, `{"n":1}`), answer(200, c)))
	}
	for range 120 {
		e.Observe(timed("/slow", 10*time.Millisecond, 200*time.Millisecond))
	}
	r := e.Report()
	got := map[string]string{}
	over := map[string]string{}
	for _, ep := range r.Endpoints {
		got[ep.Route] = ep.Verdict
		over[ep.Route] = ep.RuleOverride
	}
	if diff := cmp.Diff(map[string]string{"/search": Pass, "/list": Fail, "/slow": Pass}, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if over["/search"] != "max_diff_rate 50%" || over["/slow"] != "latency gate off" || over["/list"] != "" {
		t.Errorf("overrides %q", over)
	}
	if err := (Config{Verdict: VerdictRule{Routes: []RouteRule{{Route: "search"}}}}).Validate(); err == nil ||
		!strings.Contains(err.Error(), "verdict.routes[0].route") {
		t.Errorf("a route without a leading slash: %v", err)
	}
}

// The headline names the worst endpoint by diff rate and counts the other
// failing ones.
func TestHeadlineNamesWorstEndpoint(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{})
	for i := range 40 {
		for k, route := range []string{"/a", "/b", "/c"} {
			c := `{"n":1}`
			if i%(k+2) == 0 { // /a 50%, /b 35%, /c 25%
				c = `{"n":2}`
			}
			e.Observe(pairOf("GET", route, answer(200, `{"n":1}`), answer(200, c)))
		}
	}
	r := e.Report()
	if want := "fail: GET /a: 50% of 40 pairs differ (max 1%); 2 other endpoints fail"; r.Headline != want {
		t.Errorf("headline %q, want %q", r.Headline, want)
	}
}

// A candidate that refuses most copies is inconclusive, not failed: the
// run tells nothing about it.
func TestUnreachableCandidateIsInconclusive(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{})
	for i := range 40 {
		c := answer(200, `{}`)
		if i%10 != 0 {
			c = failed("dial tcp: connection refused", false)
			c.ErrorKind = "refused"
		}
		e.Observe(pairOf("GET", "/a", answer(200, `{}`), c))
	}
	r := e.Report()
	if r.Verdict != Inconclusive || !strings.Contains(r.Headline, "unreachable for 36 of 40 copies (refused 36)") {
		t.Errorf("verdict %s, headline %q", r.Verdict, r.Headline)
	}
	if !strings.Contains(strings.Join(r.Reasons, "\n"), "(not decisive while the candidate is unreachable)") {
		t.Errorf("reasons %q do not keep the error-rate failure as a note", r.Reasons)
	}
}

// What the proxy set differently on each side, echoed back, is class
// proxy: listed, never counted; a difference it does not explain counts.
func TestProxyClass(t *testing.T) {
	t.Parallel()
	echo := func(host string, marker bool, extra string) string {
		h := `{"Accept":["*/*"]`
		if marker {
			h += `,"X-Shadow-Request":["1"]`
		}
		return fmt.Sprintf(`{"host":%q,"self":"http://%s/orders/1","headers":%s}%s}`, host, host, h, extra)
	}
	x := pairOf("GET", "/echo", answer(200, echo("primary:80", false, "")), answer(200, echo("candidate:81", true, "")))
	x.Primary.Injected = map[string]string{"Host": "primary:80", "X-Forwarded-For": "10.0.0.1"}
	x.Candidate.Injected = map[string]string{"Host": "candidate:81", "X-Forwarded-For": "10.0.0.1", "X-Shadow-Request": "1"}
	e := mustEngine(t, Config{Verdict: VerdictRule{MinPairs: 1}})
	res := e.Record(x)
	if res.Differs {
		t.Fatalf("differs: %+v", res.Body)
	}
	var proxy []string
	for _, d := range res.Body {
		if !d.Proxy {
			t.Errorf("%s not class proxy", d.Path)
		}
		proxy = append(proxy, d.Path)
	}
	if want := []string{"$.headers[\"X-Shadow-Request\"]", "$.host", "$.self"}; !cmp.Equal(proxy, want) {
		t.Errorf("proxy differences %q, want %q", proxy, want)
	}
	r := e.Report()
	if r.Verdict != Pass || r.Totals.Diffs != 0 || r.Totals.ProxyOnly != 1 {
		t.Errorf("verdict %s, %d diffs, %d proxy-only; want pass, 0, 1", r.Verdict, r.Totals.Diffs, r.Totals.ProxyOnly)
	}

	// Not the proxy's: a value that is not what it sent, a field that
	// does not name the header, and the same as before with no injections.
	for name, c := range map[string]string{
		"other host":   echo("elsewhere:81", true, ""),
		"added field":  strings.TrimSuffix(echo("candidate:81", true, ""), "}") + `,"flag":"1"}`,
		"marker value": strings.Replace(echo("candidate:81", true, ""), `["1"]`, `["2"]`, 1),
	} {
		y := pairOf("GET", "/echo", answer(200, echo("primary:80", false, "")), answer(200, c))
		y.Primary.Injected, y.Candidate.Injected = x.Primary.Injected, x.Candidate.Injected
		if res := e.Compare(y); !res.Differs {
			t.Errorf("%s: not counted: %+v", name, res.Body)
		}
	}
	y := pairOf("GET", "/echo", answer(200, echo("primary:80", false, "")), answer(200, echo("candidate:81", true, "")))
	if res := e.Compare(y); !res.Differs {
		t.Error("without injections recorded (a 1.0 capture), the echo still counts")
	}
}

// A service that prints its request as text: the lines the proxy made
// differ are class proxy; any other changed line counts.
func TestProxyClassText(t *testing.T) {
	t.Parallel()
	text := func(host string, marker bool, extra string) exchange.Response {
		b := "GET /echo\nHost: " + host + "\nAccept: */*\n"
		if marker {
			b += "X-Shadow-Request: 1\n"
		}
		return textAnswer("text/plain", b+extra)
	}
	inj := func(x *exchange.Exchange) *exchange.Exchange {
		x.Primary.Injected = map[string]string{"Host": "primary:80"}
		x.Candidate.Injected = map[string]string{"Host": "candidate:81", "X-Shadow-Request": "1"}
		return x
	}
	e := mustEngine(t, Config{})
	res := e.Compare(inj(pairOf("GET", "/echo", text("primary:80", false, ""), text("candidate:81", true, ""))))
	if res.Differs || len(res.Body) != 1 || !res.Body[0].Proxy {
		t.Errorf("echoed text: differs %v, body %+v; want one proxy difference", res.Differs, res.Body)
	}
	res = e.Compare(inj(pairOf("GET", "/echo", text("primary:80", false, "total: 1\n"), text("candidate:81", true, "total: 2\n"))))
	if !res.Differs || res.Body[0].Proxy {
		t.Errorf("a changed line beside the proxy's: differs %v, body %+v; want counted", res.Differs, res.Body)
	}
}
