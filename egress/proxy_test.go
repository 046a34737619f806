package egress

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/exchange"
)

// proxyClient is an HTTP client whose calls go through the forward proxy
// at proxyURL, as a service with HTTP_PROXY set sends them.
func proxyClient(t *testing.T, proxyURL string) *http.Client {
	t.Helper()
	u, err := url.Parse(proxyURL)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(u)}, Timeout: wait}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// TestForwardProxy proves the forward-proxy mode: the primary's calls to a
// configured dependency are forwarded and recorded, the candidate's are
// answered from them, and calls for any other host reach nothing.
func TestForwardProxy(t *testing.T) {
	t.Parallel()
	dep := newDependency(t, nil)
	other := newDependency(t, nil) // up, but no dependency: must never be called
	e := start(t, Config{
		Dependencies: []Dependency{{Name: "payments", Upstream: dep.URL}},
		Proxy:        Listeners{PrimaryListen: "127.0.0.1:0", SecondaryListen: "127.0.0.1:0", CandidateListen: "127.0.0.1:0"},
	})
	if e.Addr("payments", exchange.Primary) != nil {
		t.Error("a dependency without listeners of its own has a primary listener")
	}
	prim := proxyClient(t, e.URL("", exchange.Primary))
	cand := proxyClient(t, e.URL("", exchange.Candidate))
	tp, id := newTrace()

	p := send(t, prim, exchange.Primary, "POST", dep.URL+"/charges", childOf(tp), "5")
	c := send(t, cand, exchange.Candidate, "POST", dep.URL+"/charges", childOf(tp), "5")
	if p.Status != 201 || c.Status != p.Status || c.Body != p.Body {
		t.Errorf("primary %d %q, candidate %d %q: want the candidate answered with the primary's 201", p.Status, p.Body, c.Status, c.Body)
	}
	if got := e.Take(id); len(got) != 2 || got[1].Side != exchange.Candidate || !got[1].Matched || got[0].URL != "/charges" {
		t.Errorf("Take = %+v, want the primary's call and the candidate's matched one, URL /charges", got)
	}

	if a := send(t, prim, exchange.Primary, "GET", other.URL+"/x", childOf(tp), ""); a.Status != http.StatusBadGateway || !strings.Contains(a.Body, "not a configured dependency") {
		t.Errorf("primary call for another host = %d %q, want 502 not a configured dependency", a.Status, a.Body)
	}
	if a := send(t, cand, exchange.Candidate, "GET", other.URL+"/x", childOf(tp), ""); a.Status != 503 || a.Header.Get(RefusedHeader) != string(RefusedUnknownDependency) {
		t.Errorf("candidate call for another host = %d %q, want 503 %s", a.Status, a.Body, RefusedUnknownDependency)
	}
	// Origin form on the proxy listener: a service that took it for a base URL.
	if a := send(t, client(t), exchange.Primary, "GET", e.URL("", exchange.Primary)+"/charges", childOf(tp), ""); a.Status != http.StatusBadRequest || !strings.Contains(a.Body, "absolute form") {
		t.Errorf("origin-form call = %d %q, want 400 about absolute form", a.Status, a.Body)
	}
	// https through the proxy is a CONNECT tunnel: refused on every side.
	for _, side := range []exchange.Side{exchange.Primary, exchange.Candidate} {
		if _, err := proxyClient(t, e.URL("", side)).Get("https://" + strings.TrimPrefix(dep.URL, "http://") + "/x"); err == nil {
			t.Errorf("%s: an https call through the proxy succeeded, want the CONNECT refused", side)
		}
	}
	if n := other.calls.Load(); n != 0 {
		t.Errorf("a host that is no dependency got %d calls, want 0", n)
	}
	if n := dep.calls.Load(); n != 1 {
		t.Errorf("dependency got %d calls, want the primary's 1", n)
	}
	st := e.Stats()
	if st.Primary.Refused != 3 || st.Candidate.Refused[RefusedUnknownDependency] != 1 || st.Candidate.Refused[RefusedUnsupported] != 1 {
		t.Errorf("stats = %+v, want 3 primary refusals (host, origin form, CONNECT), candidate 1 unknown dependency and 1 unsupported", st)
	}
}
