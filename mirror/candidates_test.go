package mirror

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/testio"
)

// Every eligible request reaches every candidate, and the secondary once;
// the exchange carries each candidate's answer under its name.
func TestSeveralCandidatesEachGetACopy(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"v":1}`) })
	v2 := newBackend(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"v":1}`) })
	v3 := newBackend(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"v":3}`) })
	secondary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"v":1}`) })
	obs := newCollector()
	f := startProxy(t, Config{
		Primary:   primary.URL,
		Secondary: secondary.URL,
		Candidates: []Candidate{
			{Name: "v2", URL: v2.URL},
			{Name: "v3", URL: v3.URL, Target: Target{SetHeaders: map[string]string{"X-Version": "3"}}},
		},
		Observer: obs,
	})
	_, body := f.get(t, "/orders/1?x=1")
	if string(body) != `{"v":1}` {
		t.Fatalf("client got %q, want the primary's answer", body)
	}
	x := obs.next(t)
	if x.Candidate.Name != "v2" || string(x.Candidate.Body) != `{"v":1}` || x.Candidate.NotSent != "" {
		t.Errorf("Candidate = %q %q (not sent %q), want v2's answer", x.Candidate.Name, x.Candidate.Body, x.Candidate.NotSent)
	}
	if len(x.OtherCandidates) != 1 {
		t.Fatalf("OtherCandidates = %d answers, want 1", len(x.OtherCandidates))
	}
	if o := x.OtherCandidates[0]; o.Name != "v3" || string(o.Body) != `{"v":3}` || o.Side != exchange.Candidate {
		t.Errorf("OtherCandidates[0] = %s %q %q, want v3's answer", o.Side, o.Name, o.Body)
	}
	if x.Secondary == nil || string(x.Secondary.Body) != `{"v":1}` {
		t.Errorf("Secondary = %+v, want its answer", x.Secondary)
	}
	for _, b := range []*backend{v2, v3, secondary} {
		s := b.next(t)
		if s.URI != "/orders/1?x=1" || s.Header.Get(DefaultMarkerHeader) != DefaultMarkerValue {
			t.Errorf("copy %s with marker %q, want /orders/1?x=1 marked", s.URI, s.Header.Get(DefaultMarkerHeader))
		}
		if got := s.Header.Get("X-Version"); (b == v3) != (got == "3") {
			t.Errorf("X-Version %q: only v3's entry sets it", got)
		}
	}
	primary.next(t)
	f.srv.Close()
	if _, err := f.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*backend{primary, v2, v3, secondary} {
		if n := len(b.got); n != 0 {
			t.Errorf("%s got %d more requests; want one each (the secondary asked once for both candidates)", b.URL, n)
		}
	}
	s := f.Stats()
	if len(s.Candidates) != 2 || s.Candidates[0].Name != "v2" || s.Candidates[1].Queued != 1 {
		t.Errorf("Stats.Candidates = %+v, want v2 and v3 with one copy each", s.Candidates)
	}
	if s.Mirrored != 1 || s.Completed != 1 {
		t.Errorf("Mirrored %d, Completed %d; want 1 and 1 (one request, one exchange)", s.Mirrored, s.Completed)
	}
}

// A candidate that never answers fills its own queue and workers only: the
// client gets every answer as a plain ReverseProxy gives it, the other
// candidate gets every copy, and the hung one's overflow is counted as
// dropped for it alone.
func TestHungCandidateCostsOthersNothing(t *testing.T) {
	var n atomic.Int64
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-N", "1")
		_, _ = io.WriteString(w, "answer "+r.URL.Path)
	})
	v2 := newBackend(t, func(w http.ResponseWriter, r *http.Request) { n.Add(1); _, _ = io.WriteString(w, "answer "+r.URL.Path) })
	hang := newGate()
	t.Cleanup(hang.open)
	v3 := newBackend(t, gated(hang, nil))
	obs := make(collector, 200)
	const workers, queue, requests = 2, 2, 40
	f := startProxy(t, Config{
		Primary:          primary.URL,
		Candidates:       []Candidate{{Name: "v2", URL: v2.URL}, {Name: "v3", URL: v3.URL}},
		Workers:          workers,
		QueueSize:        queue,
		CandidateTimeout: time.Hour, // v3 holds its workers until the test ends
		Observer:         obs,
	})
	pu, _ := url.Parse(primary.URL)
	plain := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(pu) }})
	t.Cleanup(plain.Close)

	for i := range requests {
		path := "/item/" + strings.Repeat("x", i%3+1)
		res, body := f.get(t, path)
		want, err := http.Get(plain.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		wantBody, _ := io.ReadAll(want.Body)
		want.Body.Close()
		if res.StatusCode != want.StatusCode || string(body) != string(wantBody) || res.Header.Get("X-N") != want.Header.Get("X-N") {
			t.Fatalf("request %d: shadow gave %d %q, a plain ReverseProxy %d %q", i, res.StatusCode, body, want.StatusCode, wantBody)
		}
		// Every copy to v2 is answered before the next request: v2's
		// workers are never taken by v3's.
		obsOrV2(t, &n, int64(i+1))
	}
	s := f.Stats()
	v2s, v3s := s.Candidates[0], s.Candidates[1]
	if v2s.Dropped != 0 || v2s.Queued != requests || v2s.Stale != 0 {
		t.Errorf("v2: %+v, want all %d copies queued, none dropped", v2s, requests)
	}
	// v3 holds `workers` copies and `queue` more wait; the rest are dropped.
	if want := uint64(requests - workers - queue); v3s.Dropped != want || v3s.Queued != workers+queue {
		t.Errorf("v3: queued %d, dropped %d; want %d and %d", v3s.Queued, v3s.Dropped, workers+queue, want)
	}
	if s.Dropped != 0 {
		t.Errorf("Stats.Dropped = %d, want 0: every request reached v2", s.Dropped)
	}
	// The copies v3 dropped are joined at once, marked as not sent to v3.
	for range requests - workers - queue {
		x := obs.next(t)
		if x.Candidate.Name != "v2" || !x.Candidate.OK() || x.OtherCandidates[0].NotSent != notSentQueueFull {
			t.Fatalf("exchange: v2 %q ok=%v, v3 not sent %q; want v2's answer and v3 queue_full",
				x.Candidate.Name, x.Candidate.OK(), x.OtherCandidates[0].NotSent)
		}
	}
	hang.open()
	for range workers + queue { // v3's held copies end too, with v3's answer
		x := obs.next(t)
		if o := x.OtherCandidates[0]; o.NotSent != "" || string(o.Body) != "late" {
			t.Errorf("held copy: v3 answered %q (not sent %q), want \"late\"", o.Body, o.NotSent)
		}
	}
}

// obsOrV2 waits until v2 has answered want copies.
func obsOrV2(t *testing.T, n *atomic.Int64, want int64) {
	t.Helper()
	testio.Eventually(t, fmt.Sprintf("v2 answering copy %d", want), func() bool { return n.Load() >= want })
}

// A candidate that refuses connections opens its own breaker only: the
// other candidate keeps getting every copy, and the requests are not
// counted as skipped for a down candidate.
func TestDeadCandidateBreakerIsPerCandidate(t *testing.T) {
	primary := newBackend(t, nil)
	var n atomic.Int64
	v2 := newBackend(t, func(w http.ResponseWriter, r *http.Request) { n.Add(1); _, _ = io.WriteString(w, "ok") })
	obs := make(collector, 200)
	f := startProxy(t, Config{
		Primary:    primary.URL,
		Candidates: []Candidate{{Name: "v2", URL: v2.URL}, {Name: "v3", URL: deadAddr(t)}},
		Observer:   obs,
	})
	const requests = 3 * breakerThreshold
	refused, down := 0, 0
	for i := range requests {
		f.get(t, "/")
		x := obs.next(t)
		if !x.Candidate.OK() {
			t.Fatalf("request %d: v2 failed: %s", i, x.Candidate.Error)
		}
		switch o := x.OtherCandidates[0]; {
		case o.NotSent == notSentDown:
			down++
		case o.ErrorKind == "refused":
			refused++
		default:
			t.Fatalf("request %d: v3 = %+v, want refused or not sent", i, o)
		}
	}
	if n.Load() != requests {
		t.Errorf("v2 got %d copies, want %d", n.Load(), requests)
	}
	// A loaded machine may take past breakerBackoff, when one probe more
	// is refused.
	if refused < breakerThreshold || down < 1 {
		t.Errorf("v3: %d refused, %d skipped as down; want %d refused, then skipped", refused, down, breakerThreshold)
	}
	s := f.Stats()
	if s.Skipped["candidate_down"] != 0 || s.Candidates[1].Down != uint64(down) {
		t.Errorf("skipped candidate_down %d, v3 down %d; want 0 and %d", s.Skipped["candidate_down"], s.Candidates[1].Down, down)
	}
	var named bool
	for _, fl := range s.Failures {
		if fl.Upstream == "candidate" && fl.Candidate == "v3" && fl.Kind == "refused" {
			named = true
		}
		if fl.Candidate == "v2" {
			t.Errorf("failure counted for v2: %+v", fl)
		}
	}
	if !named {
		t.Errorf("Failures = %+v, want v3's refusals under its name", s.Failures)
	}
}

// When every candidate is down, a request is not mirrored at all, as with
// one candidate.
func TestAllCandidatesDown(t *testing.T) {
	primary := newBackend(t, nil)
	obs := make(collector, 200)
	f := startProxy(t, Config{
		Primary:    primary.URL,
		Candidates: []Candidate{{Name: "a", URL: deadAddr(t)}, {Name: "b", URL: deadAddr(t)}},
		Observer:   obs,
	})
	for range breakerThreshold {
		f.get(t, "/")
		obs.next(t)
	}
	f.get(t, "/")
	if got := f.Stats().Skipped["candidate_down"]; got != 1 {
		t.Errorf("Skipped[candidate_down] = %d, want 1", got)
	}
}

func TestCandidatesConfigErrors(t *testing.T) {
	t.Parallel()
	const p = "http://127.0.0.1:1"
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"missing url and name", Config{Primary: p, Candidates: []Candidate{{}}},
			[]string{"candidates[0].name: required", "candidates[0].url: required"}},
		{"duplicate name", Config{Primary: p, Candidates: []Candidate{{Name: "v2", URL: "http://a"}, {Name: "v2", URL: "http://b"}}},
			[]string{`candidates[1].name: "v2" is also candidates[0]'s name`}},
		{"duplicate url", Config{Primary: p, Candidates: []Candidate{{Name: "v2", URL: "http://a"}, {Name: "v3", URL: "http://A/"}}},
			[]string{`candidates[1].url: "http://A/" is also candidates[0]'s url`}},
		{"the primary", Config{Primary: p, Candidates: []Candidate{{Name: "v2", URL: p}}},
			[]string{"candidates[0].url: \"" + p + "\" is the primary"}},
		{"the secondary", Config{Primary: p, Secondary: "http://s", Candidates: []Candidate{{Name: "v2", URL: "http://s"}}},
			[]string{"candidates[0].url: \"http://s\" is the secondary"}},
		{"bad name", Config{Primary: p, Candidates: []Candidate{{Name: "v 2", URL: "http://a"}}},
			[]string{`candidates[0].name: "v 2": want letters`}},
		{"with candidate", Config{Primary: p, Candidate: "http://c", Candidates: []Candidate{{Name: "v2", URL: "http://a"}}},
			[]string{`candidates: given with candidate "http://c"`}},
		{"with candidate_target", Config{Primary: p, CandidateTarget: Target{Host: "x"}, Candidates: []Candidate{{Name: "v2", URL: "http://a"}}},
			[]string{"candidate_target: given with candidates"}},
		{"per candidate target", Config{Primary: p, Candidates: []Candidate{{Name: "v2", URL: "http://a", Timeout: -1,
			Target: Target{Protocol: "h2", SetHeaders: map[string]string{"Host": "x"}}}}},
			[]string{"candidates[0].timeout: -1ns is negative", "candidates[0].set_headers: \"Host\" cannot be set", "candidates[0].protocol: "}},
		{"neither", Config{Primary: p}, []string{"candidate: required (or candidates, for several)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if err == nil {
				t.Fatal("Validate: nil error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate:\n%v\nwant it to say %q", err, w)
				}
			}
		})
	}
	ok := Config{Primary: p, Candidates: []Candidate{{Name: "v2", URL: "http://a"}, {Name: "v3.rc-1", URL: "https://b", Timeout: time.Second,
		Target: Target{Protocol: "h2"}}}}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate(good) = %v", err)
	}
	d := ok.WithDefaults()
	if d.Candidates[0].Timeout != DefaultCandidateTimeout || d.Candidates[1].Timeout != time.Second {
		t.Errorf("WithDefaults timeouts = %s, %s; want %s and 1s", d.Candidates[0].Timeout, d.Candidates[1].Timeout, DefaultCandidateTimeout)
	}
	if ok.Candidates[0].Timeout != 0 {
		t.Error("WithDefaults changed the Config it was called on")
	}
}
