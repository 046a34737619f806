package egress

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/exchange"
)

// TestPrimaryLikeDirectProxy proves the primary's side is transparent: for
// every kind of answer, the primary gets what a plain httputil.ReverseProxy
// in front of the same dependency gives, byte for byte, and the dependency
// sees the same request.
func TestPrimaryLikeDirectProxy(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789abcdef", 3<<16) // 3 MiB: over the recording limit
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`{"compressed":true}`))
	_ = zw.Close()
	dep := newDependency(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := w.Header()
		switch r.URL.Path {
		case "/json":
			h.Set("Content-Type", "application/json")
			h.Set("X-Echo", r.Header.Get("X-Forwarded-For")+"|"+r.Host)
			w.WriteHeader(201)
			fmt.Fprintf(w, `{"got":%q,"query":%q}`, body, r.URL.RawQuery)
		case "/empty":
			w.WriteHeader(204)
		case "/gzip":
			h.Set("Content-Encoding", "gzip")
			h.Set("Content-Type", "application/json")
			_, _ = w.Write(gz.Bytes())
		case "/big":
			_, _ = io.WriteString(w, big)
		case "/chunked":
			for i := range 5 {
				fmt.Fprintf(w, "chunk %d\n", i)
				w.(http.Flusher).Flush()
			}
		case "/hop":
			h.Set("Connection", "X-Hop")
			h.Set("X-Hop", "dropped")
			h.Set("Trailer", "X-Sum")
			_, _ = io.WriteString(w, "body")
			h.Set("X-Sum", "42")
		default:
			http.Error(w, "no such thing", 404)
		}
	})
	e := start(t, config(dep.URL))
	target, _ := url.Parse(dep.URL)
	plain := &http.Transport{DisableCompression: true}
	t.Cleanup(plain.CloseIdleConnections)
	direct := httptest.NewServer(&httputil.ReverseProxy{Transport: plain, Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
	}})
	t.Cleanup(direct.Close)
	c := client(t)
	tp, _ := newTrace()
	for _, tt := range []struct{ method, path, body string }{
		{"POST", "/json?a=1&b=2", `{"amount":10}`},
		{"GET", "/empty", ""},
		{"GET", "/gzip", ""},
		{"GET", "/big", ""},
		{"GET", "/chunked", ""},
		{"GET", "/hop", ""},
		{"DELETE", "/missing", ""},
	} {
		for _, withTrace := range []string{tp, ""} {
			via := sendWith(t, c, tt.method, e.URL("payments", exchange.Primary)+tt.path, withTrace, tt.body)
			want := sendWith(t, c, tt.method, direct.URL+tt.path, withTrace, tt.body)
			for _, a := range []*answer{&via, &want} {
				a.Header.Del("Date")
				if x := a.Header.Get("X-Echo"); x != "" {
					a.Header.Set("X-Echo", x[:strings.IndexByte(x, '|')]) // the Host is each proxy's own upstream's: equal
				}
			}
			if diff := cmp.Diff(want, via); diff != "" {
				t.Errorf("%s %s (trace %v): through egress differs from a plain ReverseProxy (-direct +egress):\n%s", tt.method, tt.path, withTrace != "", diff)
			}
		}
	}
	seen := dep.received()
	for i := 0; i+1 < len(seen); i += 2 {
		a, b := seen[i], seen[i+1]
		if a.Method != b.Method || a.URI != b.URI || a.Host != b.Host {
			t.Errorf("dependency saw %s %s Host %s through egress, %s %s Host %s direct", a.Method, a.URI, a.Host, b.Method, b.URI, b.Host)
		}
		a.Header.Del("X-Forwarded-For")
		b.Header.Del("X-Forwarded-For")
		if diff := cmp.Diff(b.Header, a.Header); diff != "" {
			t.Errorf("%s %s: request headers differ (-direct +egress):\n%s", a.Method, a.URI, diff)
		}
	}
	st := e.Stats()
	if st.Primary.Forwarded != 14 || st.Primary.Untraced != 7 || st.Primary.Recorded != 6 || st.Primary.NotRecorded != 1 {
		t.Errorf("primary stats = %+v, want 14 forwarded, 7 untraced, 6 recorded, 1 (the 3 MiB answer) not recorded", st.Primary)
	}
}

// sendWith is send without a side marker, as a plain client.
func sendWith(t testing.TB, c *http.Client, method, url, tp, body string) answer {
	t.Helper()
	a := send(t, c, exchange.Primary, method, url, tp, body)
	return a
}

// TestPrimaryAnswerStreamed proves the primary's answer is not held back
// for recording: the dependency sends its first chunk and waits until the
// primary has read it through egress before it sends the rest.
func TestPrimaryAnswerStreamed(t *testing.T) {
	t.Parallel()
	gotFirst := make(chan struct{})
	dep := newDependency(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-gotFirst:
		case <-r.Context().Done():
			return
		case <-time.After(wait):
		}
		_, _ = io.WriteString(w, "rest\n")
	})
	e := start(t, config(dep.URL))
	tp, _ := newTrace()
	req, _ := http.NewRequest("GET", e.URL("payments", exchange.Primary)+"/stream", nil)
	req.Header.Set("Traceparent", tp)
	resp, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make([]byte, 6)
	start := time.Now()
	if _, err := io.ReadFull(resp.Body, line); err != nil || string(line) != "first\n" {
		t.Fatalf("first chunk = %q, %v", line, err)
	}
	if time.Since(start) >= wait {
		t.Fatal("the first chunk arrived only after the dependency gave up waiting: egress held it back")
	}
	close(gotFirst)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "rest\n" {
		t.Errorf("rest = %q", rest)
	}
}

// TestCopiesAnsweredFromPrimary proves the secondary's and candidate's
// calls are answered with the primary's answer to the call with the same
// key, ordinal by ordinal, and never reach the dependency.
func TestCopiesAnsweredFromPrimary(t *testing.T) {
	t.Parallel()
	dep := newDependency(t, nil)
	e := start(t, config(dep.URL))
	c := client(t)
	tp, id := newTrace()
	var primary []answer
	for _, body := range []string{`1`, `2`} {
		primary = append(primary, send(t, c, exchange.Primary, "POST", e.URL("payments", exchange.Primary)+"/charges", childOf(tp), body))
	}
	for _, side := range []exchange.Side{exchange.Secondary, exchange.Candidate} {
		for i, body := range []string{`1`, `2.01`} {
			got := send(t, c, side, "POST", e.URL("payments", side)+"/charges", childOf(tp), body)
			for _, a := range []*answer{&got, &primary[i]} {
				a.Header.Del("Date")
			}
			if diff := cmp.Diff(primary[i], got); diff != "" {
				t.Errorf("%s call %d: answer differs from the primary's (-primary +%s):\n%s", side, i+1, side, diff)
			}
		}
	}
	if n := dep.calls.Load(); n != 2 {
		t.Errorf("dependency got %d calls, want the primary's 2", n)
	}
	calls := e.Take(id)
	var got []string
	for _, oc := range calls {
		got = append(got, fmt.Sprintf("%s %s %s #%d %s matched=%v status=%d", oc.Side, oc.Method, oc.URL, oc.Ordinal, oc.Body, oc.Matched, oc.Response.Status))
	}
	want := []string{
		"primary POST /charges #0 1 matched=false status=201",
		"primary POST /charges #1 2 matched=false status=201",
		"secondary POST /charges #0 1 matched=true status=201",
		"secondary POST /charges #1 2.01 matched=true status=201",
		"candidate POST /charges #0 1 matched=true status=201",
		"candidate POST /charges #1 2.01 matched=true status=201",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Take differs (-want +got):\n%s", diff)
	}
	if again := e.Take(id); again != nil {
		t.Errorf("second Take = %d calls, want nil", len(again))
	}
	st := e.Stats()
	if st.Candidate.Answered != 2 || st.Secondary.Answered != 2 || st.Traces != 0 || st.BytesHeld != 0 {
		t.Errorf("stats = %+v, want 2 answered per copy side and nothing held after Take", st)
	}
}

// TestCandidateWaitsForPrimary: the candidate's call may arrive before the
// primary's; it waits for it and gets its answer.
func TestCandidateWaitsForPrimary(t *testing.T) {
	t.Parallel()
	dep := newDependency(t, nil)
	cfg := config(dep.URL)
	cfg.Limits.MaxWait = wait
	e := start(t, cfg)
	c := client(t)
	tp, _ := newTrace()
	got := make(chan answer, 1)
	go func() {
		got <- send(t, c, exchange.Candidate, "POST", e.URL("payments", exchange.Candidate)+"/charges", childOf(tp), `7`)
	}()
	deadline := time.Now().Add(wait)
	for e.Stats().Candidate.Calls == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	prim := send(t, c, exchange.Primary, "POST", e.URL("payments", exchange.Primary)+"/charges", childOf(tp), `7`)
	cand := <-got
	if cand.Status != prim.Status || cand.Body != prim.Body {
		t.Errorf("candidate got %d %q, want the primary's %d %q", cand.Status, cand.Body, prim.Status, prim.Body)
	}
}

// TestCopiesRefused proves every call a copy side cannot answer from the
// primary's gets a 503 naming the reason, is counted, and never reaches
// the dependency (which fails the test on any copy call).
func TestCopiesRefused(t *testing.T) {
	t.Parallel()
	dep := newDependency(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			_, _ = io.WriteString(w, strings.Repeat("x", 4096))
			return
		}
		w.WriteHeader(201)
	})
	cfg := config(dep.URL)
	cfg.Limits = Limits{MaxWait: 20 * time.Millisecond, MaxBodyBytes: 1024, MaxCallsPerTrace: 2}
	e := start(t, cfg)
	c := client(t)
	primURL, candURL := e.URL("payments", exchange.Primary), e.URL("payments", exchange.Candidate)
	tpBig, _ := newTrace()
	send(t, c, exchange.Primary, "GET", primURL+"/big", childOf(tpBig), "")
	tpMany, _ := newTrace()
	for range 2 {
		send(t, c, exchange.Primary, "POST", primURL+"/charges", childOf(tpMany), "1")
		send(t, c, exchange.Candidate, "POST", candURL+"/charges", childOf(tpMany), "1")
	}
	tpNone, _ := newTrace()
	tests := []struct {
		name, method, path, tp string
		header                 string
		want                   Reason
		wantBody               string
	}{
		{"no traceparent", "POST", "/charges", "", "", RefusedNoTrace, "no valid W3C traceparent"},
		{"invalid traceparent", "POST", "/charges", "00-ABC-01", "", RefusedNoTrace, "no valid W3C traceparent"},
		{"no primary call", "POST", "/charges", childOf(tpNone), "", RefusedNoMatch, "the primary made no call POST payments /charges (call 1 to it in trace"},
		{"other method", "PUT", "/big", childOf(tpBig), "", RefusedNoMatch, "no call PUT payments /big"},
		{"one call more than the primary", "POST", "/big", childOf(tpMany), "", RefusedOverLimit, "max_calls_per_trace (2)"},
		{"answer too large to record", "GET", "/big", childOf(tpBig), "", RefusedIncomplete, "not recorded whole"},
		{"upgrade", "GET", "/ws", childOf(tpBig), "websocket", RefusedUnsupported, "protocol upgrade"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, candURL+tt.path, strings.NewReader("1"))
		req.Header.Set(sideHeader, "candidate")
		if tt.tp != "" {
			req.Header.Set("Traceparent", tt.tp)
		}
		if tt.header != "" {
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", tt.header)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || Reason(resp.Header.Get(RefusedHeader)) != tt.want || !strings.Contains(string(body), tt.wantBody) {
			t.Errorf("%s: got %d %s=%q %q; want 503 %s and a body saying %q", tt.name, resp.StatusCode, RefusedHeader, resp.Header.Get(RefusedHeader), body, tt.want, tt.wantBody)
		}
		if !strings.Contains(string(body), "never reach the real dependency") {
			t.Errorf("%s: body %q does not say the call never reaches the dependency", tt.name, body)
		}
	}
	want := map[Reason]int64{RefusedNoTrace: 2, RefusedNoMatch: 2, RefusedOverLimit: 1, RefusedIncomplete: 1, RefusedUnsupported: 1}
	if got := e.Stats().Candidate.Refused; !cmp.Equal(got, want) {
		t.Errorf("candidate refusals = %v, want %v", got, want)
	}
	if n := dep.calls.Load(); n != 3 {
		t.Errorf("dependency got %d calls, want the primary's 3", n)
	}
}

// TestNothingLeaksUnderLoad sends, concurrently, traced primary calls with
// their secondary and candidate copies (each side at its own pace, as the
// mirror proxy's copies are), copies with no trace, and copies past the
// per-trace limit. The dependency counts calls and fails the test on any
// that came from a copy side.
func TestNothingLeaksUnderLoad(t *testing.T) {
	t.Parallel()
	dep := newDependency(t, nil)
	cfg := config(dep.URL)
	cfg.Limits.MaxWait = wait // never reached by a correct run: every copy has its primary call
	cfg.Limits.MaxCallsPerTrace = 1
	e := start(t, cfg)
	c := client(t)
	const traces = 100
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range traces {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			tp, _ := newTrace()
			body := fmt.Sprint(i)
			var inner sync.WaitGroup
			for _, side := range []exchange.Side{exchange.Primary, exchange.Secondary, exchange.Candidate} {
				inner.Add(1)
				go func() {
					defer inner.Done()
					a := send(t, c, side, "POST", e.URL("payments", side)+"/charges", childOf(tp), body)
					if a.Status != 201 || !strings.Contains(a.Body, body) {
						t.Errorf("%s call in trace %d: %d %s", side, i, a.Status, a.Body)
					}
				}()
			}
			inner.Wait()
			for _, tp := range []string{"", childOf(tp)} {
				a := send(t, c, exchange.Candidate, "POST", e.URL("payments", exchange.Candidate)+"/charges", tp, body)
				if a.Status != 503 {
					t.Errorf("unmatched candidate call answered %d %s, want 503", a.Status, a.Body)
				}
			}
		}()
	}
	wg.Wait()
	if n := dep.calls.Load(); n != traces {
		t.Errorf("dependency got %d calls, want exactly the primary's %d", n, traces)
	}
	st := e.Stats()
	if st.Candidate.Answered != traces || st.Secondary.Answered != traces {
		t.Errorf("answered: candidate %d, secondary %d; want %d each", st.Candidate.Answered, st.Secondary.Answered, traces)
	}
	if got, want := st.Candidate.Refused, (map[Reason]int64{RefusedNoTrace: traces, RefusedOverLimit: traces}); !cmp.Equal(got, want) {
		t.Errorf("candidate refusals = %v, want %v", got, want)
	}
}

// TestPrimaryUnaffectedByDeadDependency: when the dependency cannot be
// reached the primary gets a 502 from egress, and the copies get that same
// 502: it is what the primary's call got.
func TestDeadDependency(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	e := start(t, config(dead.URL))
	c := client(t)
	tp, _ := newTrace()
	prim := send(t, c, exchange.Primary, "POST", e.URL("payments", exchange.Primary)+"/charges", childOf(tp), "1")
	cand := send(t, c, exchange.Candidate, "POST", e.URL("payments", exchange.Candidate)+"/charges", childOf(tp), "1")
	if prim.Status != 502 || !strings.Contains(prim.Body, "dependency payments did not answer") {
		t.Errorf("primary got %d %q, want a 502 naming the dependency", prim.Status, prim.Body)
	}
	if cand.Status != prim.Status || cand.Body != prim.Body {
		t.Errorf("candidate got %d %q, want the primary's %d %q", cand.Status, cand.Body, prim.Status, prim.Body)
	}
	if st := e.Stats(); st.Primary.Failed != 1 {
		t.Errorf("Failed = %d, want 1", st.Primary.Failed)
	}
}

// TestTakeRedacts proves what Take returns holds no credential: the
// always-redacted headers and secret-named JSON fields of the calls and of
// the answers.
func TestTakeRedacts(t *testing.T) {
	t.Parallel()
	const secret = "4111111111111111"
	dep := newDependency(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"ch_1","card_number":%q}`, secret)
	})
	e := start(t, config(dep.URL))
	c := client(t)
	tp, id := newTrace()
	for _, side := range []exchange.Side{exchange.Primary, exchange.Candidate} {
		req, _ := http.NewRequest("POST", e.URL("payments", side)+"/charges", strings.NewReader(`{"card_number":"`+secret+`","amount":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer sk_live_abcdefghijklmnop")
		req.Header.Set("Traceparent", childOf(tp))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), secret) {
			t.Errorf("%s got %q: the live answer must not be redacted", side, body)
		}
	}
	calls := e.Take(id)
	if len(calls) != 2 {
		t.Fatalf("Take = %d calls, want 2", len(calls))
	}
	for _, oc := range calls {
		dump := fmt.Sprintf("%v %s %v %s", oc.Header, oc.Body, oc.Response.Header, oc.Response.Body)
		if strings.Contains(dump, secret) || strings.Contains(dump, "sk_live") {
			t.Errorf("%s call holds a credential after Take: %s", oc.Side, dump)
		}
	}
}

// TestTTLEvicts: a trace older than RecordTTL is dropped when new traces
// arrive, counted, and its late copies are refused.
func TestTTLEvicts(t *testing.T) {
	t.Parallel()
	dep := newDependency(t, nil)
	cfg := config(dep.URL)
	cfg.Limits.RecordTTL = time.Millisecond
	cfg.Limits.MaxWait = 20 * time.Millisecond
	e := start(t, cfg)
	c := client(t)
	old, oldID := newTrace()
	send(t, c, exchange.Primary, "POST", e.URL("payments", exchange.Primary)+"/charges", childOf(old), "1")
	time.Sleep(5 * time.Millisecond) // past the TTL; the store holds no clock of its own
	fresh, _ := newTrace()
	send(t, c, exchange.Primary, "POST", e.URL("payments", exchange.Primary)+"/charges", childOf(fresh), "1")
	if st := e.Stats(); st.EvictedTTL < 1 {
		t.Errorf("EvictedTTL = %d, want the old trace evicted", st.EvictedTTL)
	}
	if got := e.Take(oldID); got != nil {
		t.Errorf("Take(old trace) = %d calls, want none: it expired", len(got))
	}
}

// TestMemoryBounded proves the bytes held stay within MaxMemoryBytes when
// the primary's calls are huge and slow and many are in flight at once:
// bodies are cut at MaxBodyBytes, the oldest traces are evicted (counted),
// and the primary still gets every byte.
func TestMemoryBounded(t *testing.T) {
	t.Parallel()
	const answerBytes = 1 << 20
	chunk := strings.Repeat("y", 16<<10)
	dep := newDependency(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for range answerBytes / len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush() // slow: the answer arrives piece by piece
		}
	})
	cfg := config(dep.URL)
	cfg.Limits = Limits{MaxBodyBytes: 64 << 10, MaxMemoryBytes: 256 << 10, MaxWait: 20 * time.Millisecond}
	e := start(t, cfg)
	c := client(t)
	const calls = 24
	var wg sync.WaitGroup
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tp, _ := newTrace()
			a := send(t, c, exchange.Primary, "POST", e.URL("payments", exchange.Primary)+"/upload", childOf(tp), strings.Repeat("z", 100<<10))
			if len(a.Body) != answerBytes {
				t.Errorf("primary got %d bytes, want all %d", len(a.Body), answerBytes)
			}
		}()
	}
	wg.Wait()
	st := e.Stats()
	if st.PeakBytes > cfg.Limits.MaxMemoryBytes || st.BytesHeld > cfg.Limits.MaxMemoryBytes {
		t.Errorf("bytes held peaked at %d (now %d), over the budget of %d", st.PeakBytes, st.BytesHeld, cfg.Limits.MaxMemoryBytes)
	}
	if st.EvictedMemory+st.OverBudget == 0 {
		t.Errorf("stats = %+v: %d calls of 64 KiB records in a 256 KiB budget evicted nothing", st, calls)
	}
	if st.Primary.Forwarded != calls || st.Primary.Recorded != 0 {
		t.Errorf("primary stats = %+v: want %d forwarded, none recorded whole (every answer is over max_body_bytes)", st.Primary, calls)
	}
}

// TestRunCloseAndListenErrors covers the lifecycle: Listen names the key
// of an address that is taken, Close is safe twice and before Run, and Run
// after Close fails.
func TestRunCloseAndListenErrors(t *testing.T) {
	t.Parallel()
	dep := newDependency(t, nil)
	taken := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(taken.Close)
	cfg := config(dep.URL)
	cfg.Dependencies[0].CandidateListen = taken.Listener.Addr().String()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = e.Listen()
	if err == nil || !strings.Contains(err.Error(), "egress[0].candidate_listen") {
		t.Errorf("Listen on a taken port = %v, want an error naming egress[0].candidate_listen", err)
	}
	if e.Addr("payments", exchange.Primary) != nil {
		t.Error("a failed Listen left the primary listener bound")
	}
	for range 2 {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if err := e.Run(t.Context()); err == nil {
		t.Error("Run after Close = nil, want an error")
	}

	e2 := start(t, config(dep.URL))
	addr := e2.Addr("payments", exchange.Candidate).String()
	if err := e2.Close(); err != nil {
		t.Errorf("Close while running: %v", err)
	}
	if _, err := client(t).Get("http://" + addr + "/"); err == nil {
		t.Error("candidate listener still answers after Close")
	}
	if !slices.Contains([]string{""}, e2.URL("nope", exchange.Primary)) {
		t.Error("URL of an unknown dependency is not empty")
	}
}

// TestShutdownRefusesWaitingCopies: a copy waiting for the primary's call
// is refused at once when egress shuts down, so shutdown never waits out
// MaxWait.
func TestShutdownRefusesWaitingCopies(t *testing.T) {
	t.Parallel()
	dep := newDependency(t, nil)
	cfg := config(dep.URL)
	cfg.Limits.MaxWait = time.Hour
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	tp, _ := newTrace()
	got := make(chan answer, 1)
	c := client(t)
	go func() {
		got <- send(t, c, exchange.Candidate, "POST", e.URL("payments", exchange.Candidate)+"/charges", childOf(tp), "1")
	}()
	deadline := time.Now().Add(wait)
	for e.Stats().Candidate.Calls == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case a := <-got:
		if a.Status != 503 || a.Header.Get(RefusedHeader) != string(RefusedShutdown) {
			t.Errorf("waiting copy got %d %s=%q, want 503 %s", a.Status, RefusedHeader, a.Header.Get(RefusedHeader), RefusedShutdown)
		}
	case <-time.After(wait):
		t.Fatal("a waiting copy was not refused on shutdown")
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestCopyOfSlowPrimaryCall: a copy whose primary call is still in flight
// after MaxWait is refused saying so; the primary's call is unaffected.
func TestCopyOfSlowPrimaryCall(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	dep := newDependency(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(wait):
		}
		_, _ = io.WriteString(w, "late")
	})
	cfg := config(dep.URL)
	cfg.Limits.MaxWait = 20 * time.Millisecond
	e := start(t, cfg)
	c := client(t)
	tp, _ := newTrace()
	prim := make(chan answer, 1)
	go func() {
		prim <- send(t, c, exchange.Primary, "GET", e.URL("payments", exchange.Primary)+"/slow", childOf(tp), "")
	}()
	deadline := time.Now().Add(wait)
	for dep.calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cand := send(t, c, exchange.Candidate, "GET", e.URL("payments", exchange.Candidate)+"/slow", childOf(tp), "")
	if cand.Status != 503 || !strings.Contains(cand.Body, "still in flight") {
		t.Errorf("candidate got %d %q, want 503 saying the primary's call is still in flight", cand.Status, cand.Body)
	}
	close(release)
	if p := <-prim; p.Status != 200 || p.Body != "late" {
		t.Errorf("primary got %d %q, want its answer", p.Status, p.Body)
	}
}
