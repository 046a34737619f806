package replay

import (
	"context"
	"fmt"
	"io"
	"iter"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/understudy-dev/understudy/exchange"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// arrival is one request as the candidate saw it.
type arrival struct {
	method, uri, body string
	header            http.Header
}

// candidate is a loopback server that records what arrives and answers
// with handle (or a JSON echo of the path).
type candidate struct {
	*httptest.Server
	mu       sync.Mutex
	arrivals []arrival
}

func newCandidate(t *testing.T, handle http.HandlerFunc) *candidate {
	t.Helper()
	c := &candidate{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.arrivals = append(c.arrivals, arrival{r.Method, r.URL.RequestURI(), string(b), r.Header.Clone()})
		c.mu.Unlock()
		if handle != nil {
			handle(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "1")
		fmt.Fprintf(w, `{"path": %q}`, r.URL.Path)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *candidate) seen() []arrival {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.arrivals)
}

func recorded(method, uri, body string) *exchange.Exchange {
	return &exchange.Exchange{
		Request: exchange.Request{
			ID: "rec-" + uri, Method: method, URL: uri, Host: "shop.example",
			Header: http.Header{
				"Authorization": {"[REDACTED]"}, "X-Client": {"app"}, "Content-Length": {"999"},
				"Connection": {"X-Private"}, "X-Private": {"hop"}, "Keep-Alive": {"timeout=5"},
			},
			Body: []byte(body),
		},
		Route:     "r1",
		Primary:   exchange.Response{Side: exchange.Primary, Status: 200, Body: []byte(`{"recorded": "primary"}`)},
		Secondary: &exchange.Response{Side: exchange.Secondary, Status: 200, Body: []byte(`{"recorded": "secondary"}`)},
		Candidate: exchange.Response{Side: exchange.Candidate, Status: 500, Body: []byte(`old candidate`)},
	}
}

func seq(xs ...*exchange.Exchange) iter.Seq[*exchange.Exchange] { return slices.Values(xs) }

// collector gathers observed exchanges.
type collector struct {
	mu  sync.Mutex
	got []*exchange.Exchange
}

func (c *collector) observe(x *exchange.Exchange) {
	c.mu.Lock()
	c.got = append(c.got, x)
	c.mu.Unlock()
}

func (c *collector) byID() map[string]*exchange.Exchange {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]*exchange.Exchange{}
	for _, x := range c.got {
		m[x.Request.ID] = x
	}
	return m
}

func mustNew(t *testing.T, cfg Config) *Replayer {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// The candidate gets the recorded request with the marker and the
// configured headers, hop-by-hop headers gone; the observer gets the
// recorded primary (and secondary when kept) joined with the new answer.
func TestReplaySendsRecordedRequests(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep secondary %v", keep), func(t *testing.T) {
			t.Parallel()
			cand := newCandidate(t, nil)
			r := mustNew(t, Config{
				Candidate: cand.URL + "/", KeepSecondary: keep, MarkerHeader: "X-Replay", MarkerValue: "yes",
				SetHeaders: http.Header{"authorization": {"Bearer replay-token"}},
			})
			x := recorded("GET", "/orders/7?expand=items", "")
			abs := recorded("GET", "http://shop.example/menu", "")
			var c collector
			st, err := r.Run(t.Context(), seq(x, abs), c.observe)
			if err != nil {
				t.Fatal(err)
			}
			if want := (Stats{Read: 2, Sent: 2, Passes: 1}); st != want {
				t.Errorf("stats = %+v, want %+v", st, want)
			}
			arr := cand.seen()
			uris := []string{}
			for _, a := range arr {
				uris = append(uris, a.uri)
				h := a.header
				for name, want := range map[string]string{
					"X-Replay": "yes", "Authorization": "Bearer replay-token", "X-Client": "app",
					"X-Private": "", "Keep-Alive": "", "Accept-Encoding": "",
				} {
					if got := h.Get(name); got != want {
						t.Errorf("%s: header %s = %q, want %q", a.uri, name, got, want)
					}
				}
			}
			slices.Sort(uris)
			if want := []string{"/menu", "/orders/7?expand=items"}; !slices.Equal(uris, want) {
				t.Errorf("candidate saw %q, want %q", uris, want)
			}
			got := c.byID()["rec-/orders/7?expand=items"]
			if got == nil {
				t.Fatalf("exchange not observed; got %v", c.byID())
			}
			if string(got.Primary.Body) != `{"recorded": "primary"}` || got.Route != "r1" || got.Request.Host != "shop.example" {
				t.Errorf("observed %+v, want the recorded request, route and primary", got)
			}
			if (got.Secondary != nil) != keep {
				t.Errorf("secondary kept = %v, want %v", got.Secondary != nil, keep)
			}
			cd := got.Candidate
			if cd.Side != exchange.Candidate || cd.Status != 200 || string(cd.Body) != `{"path": "/orders/7"}` ||
				cd.Size != int64(len(cd.Body)) || cd.Latency <= 0 || cd.Error != "" || cd.Header.Get("X-Hop") != "" ||
				cd.Header.Get("Content-Type") != "application/json" {
				t.Errorf("candidate answer = %+v, want the new 200 JSON answer, hop headers removed", cd)
			}
			if x.Candidate.Status != 500 || x.Request.Header.Get("Authorization") != "[REDACTED]" {
				t.Errorf("the record was modified: %+v", x)
			}
		})
	}
}

// Unsafe methods are skipped and counted unless Unsafe is set; their
// bodies go out as recorded.
func TestReplayUnsafeMethods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		unsafe   bool
		want     Stats
		wantSeen []string
	}{
		{false, Stats{Read: 4, Skipped: 3, Sent: 1, Passes: 1}, []string{"GET /a "}},
		{true, Stats{Read: 4, Sent: 4, Passes: 1}, []string{"DELETE /d ", "GET /a ", "POST /b {\"qty\": 2}", "PUT /c x"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("unsafe ", tt.unsafe), func(t *testing.T) {
			t.Parallel()
			cand := newCandidate(t, nil)
			r := mustNew(t, Config{Candidate: cand.URL, Unsafe: tt.unsafe, Workers: 1})
			var c collector
			st, err := r.Run(t.Context(), seq(recorded("GET", "/a", ""), recorded("POST", "/b", `{"qty": 2}`),
				recorded("PUT", "/c", "x"), recorded("DELETE", "/d", "")), c.observe)
			if err != nil {
				t.Fatal(err)
			}
			if st != tt.want {
				t.Errorf("stats = %+v, want %+v", st, tt.want)
			}
			var got []string
			for _, a := range cand.seen() {
				got = append(got, a.method+" "+a.uri+" "+a.body)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.wantSeen) {
				t.Errorf("candidate saw %q, want %q", got, tt.wantSeen)
			}
		})
	}
}

// A candidate that fails still yields an exchange, with the error and
// the timeout said; a long answer is kept up to the limit and counted.
func TestReplayFailuresAndLimits(t *testing.T) {
	t.Parallel()
	cand := newCandidate(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			<-r.Context().Done() // until the replayer gives up
		case "/big":
			io.WriteString(w, strings.Repeat("x", 100))
		}
	})
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	tests := []struct {
		name, candidate, uri string
		check                func(*exchange.Response) bool
	}{
		{"timeout", cand.URL, "/slow", func(r *exchange.Response) bool { return r.Timeout && r.Error != "" && r.Status == 0 }},
		{"refused", deadURL, "/x", func(r *exchange.Response) bool { return !r.Timeout && r.Error != "" }},
		{"truncated", cand.URL, "/big", func(r *exchange.Response) bool {
			return r.OK() && r.Truncated && len(r.Body) == 10 && r.Size == 100
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := mustNew(t, Config{Candidate: tt.candidate, Timeout: 200 * time.Millisecond, MaxResponseBytes: 10})
			var c collector
			st, err := r.Run(t.Context(), seq(recorded("GET", tt.uri, "")), c.observe)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.got) != 1 || !tt.check(&c.got[0].Candidate) {
				t.Fatalf("observed %+v, want one exchange matching the %s check", c.got, tt.name)
			}
			wantFailed := int64(0)
			if !c.got[0].Candidate.OK() {
				wantFailed = 1
			}
			if st.Sent != 1 || st.Failed != wantFailed {
				t.Errorf("stats = %+v, want 1 sent, %d failed", st, wantFailed)
			}
		})
	}
}

// Ending the context stops the replay: no new request starts, those in
// flight are abandoned and not observed, and Run returns at once.
func TestReplayStopsWithContext(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 100)
	cand := newCandidate(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	})
	r := mustNew(t, Config{Candidate: cand.URL, Workers: 2, Timeout: time.Minute})
	xs := make([]*exchange.Exchange, 50)
	for i := range xs {
		xs[i] = recorded("GET", fmt.Sprintf("/o/%d", i), "")
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		<-arrived // both workers are busy
		cancel()
	}()
	var observed atomic.Int64
	done := make(chan struct{})
	var st Stats
	var err error
	go func() {
		defer close(done)
		st, err = r.Run(ctx, seq(xs...), func(*exchange.Exchange) { observed.Add(1) })
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the context ended")
	}
	if err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if observed.Load() != 0 || st.Sent != 0 || st.Abandoned < 2 {
		t.Errorf("stats = %+v, observed %d; want the 2 in flight abandoned, none observed", st, observed.Load())
	}
	if n := len(cand.seen()); n != 2 {
		t.Errorf("candidate saw %d requests, want only the 2 started before the end", n)
	}
}

// At most Workers requests are in flight, at any rate setting.
func TestReplayBoundsConcurrency(t *testing.T) {
	t.Parallel()
	for _, rate := range []int{0, 2000} {
		t.Run(fmt.Sprint("rate ", rate), func(t *testing.T) {
			t.Parallel()
			var inFlight, peak atomic.Int64
			cand := newCandidate(t, func(w http.ResponseWriter, r *http.Request) {
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(time.Millisecond)
				inFlight.Add(-1)
			})
			r := mustNew(t, Config{Candidate: cand.URL, Workers: 3, Rate: rate})
			xs := make([]*exchange.Exchange, 40)
			for i := range xs {
				xs[i] = recorded("GET", fmt.Sprintf("/o/%d", i), "")
			}
			var c collector
			st, err := r.Run(t.Context(), seq(xs...), c.observe)
			if err != nil {
				t.Fatal(err)
			}
			if st.Sent != 40 || len(c.got) != 40 {
				t.Errorf("stats = %+v, observed %d; want all 40", st, len(c.got))
			}
			if p := peak.Load(); p > 3 || p < 1 {
				t.Errorf("peak in flight = %d, want 1..3", p)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  Config
		want string // substring of the error; "" for valid
	}{
		{Config{Candidate: "http://127.0.0.1:1"}, ""},
		{Config{}, "Candidate is empty"},
		{Config{Candidate: "127.0.0.1:8080"}, "Candidate"},
		{Config{Candidate: "ftp://x"}, "Candidate"},
		{Config{Candidate: "http://x", Rate: -1}, "Rate"},
		{Config{Candidate: "http://x", Speed: 2, Loop: true, Duration: time.Minute, Count: 10}, ""},
		{Config{Candidate: "http://x", Speed: -1}, "Speed must be a finite number above 0"},
		{Config{Candidate: "http://x", Speed: math.NaN()}, "Speed"},
		{Config{Candidate: "http://x", Speed: math.Inf(1)}, "Speed"},
		{Config{Candidate: "http://x", Speed: 2, Rate: 10}, "Rate 10 and Speed 2 exclude each other"},
		{Config{Candidate: "http://x", Duration: -1}, "Duration"},
		{Config{Candidate: "http://x", Count: -1}, "Count"},
		{Config{Candidate: "http://x", Workers: -1}, "Workers"},
		{Config{Candidate: "http://x", Timeout: -1}, "Timeout"},
		{Config{Candidate: "http://x", MaxResponseBytes: -1}, "MaxResponseBytes"},
		{Config{Candidate: "http://x", MarkerHeader: "bad header"}, "MarkerHeader"},
		{Config{Candidate: "http://x", SetHeaders: http.Header{"a:b": {"1"}}}, "SetHeaders"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v, want nil", tt.cfg, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Validate(%+v) = %v, want an error naming %s", tt.cfg, err, tt.want)
		}
	}
}
