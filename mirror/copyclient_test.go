package mirror

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/wire"
)

// The copies' differential test: the scripted, hostile upstreams of
// differential_test.go as the candidate, asked the same requests once
// through the copyClient and once through http.Transport. What the judge
// is given of each answer must be the same.

// copyView is what the judge is given of a copy's answer.
type copyView struct {
	Status           int
	Header, Trailer  http.Header
	Body             string
	Size             int64
	Truncated, OK    bool
	Timeout          bool
	Kind             string
	ConnectionsAfter int // the upstream's connections opened so far
}

// copies sends s's requests as copies to a fresh copy of the scripted
// upstream, through the copy client named.
func (s script) copies(t *testing.T, client string) []copyView {
	r := newRun(s)
	var (
		seen  sync.Map // *upConn: the upstream's connections
		conns atomic.Int32
	)
	addr := startUpstream(t, func(c *upConn, req *http.Request) bool {
		if _, old := seen.LoadOrStore(c, true); !old {
			conns.Add(1)
		}
		return r.serve(c, req)
	})
	p := newTestProxy(t, Config{Primary: newBackend(t, nil).URL, Candidate: addr, CopyClient: client})
	out := make([]copyView, len(s.Steps))
	for i, st := range s.Steps {
		var body []byte
		if st.Method == http.MethodPost {
			body = []byte("data")
		}
		req := httptest.NewRequest(st.Method, "/s/"+strconv.Itoa(i), strings.NewReader(string(body)))
		j := p.newJob(req, nil, body, 0, time.Now())
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		res, _ := p.send(ctx, j, p.copyHeader(j), p.candidate, exchange.Candidate)
		cancel()
		out[i] = copyView{Status: res.Status, Header: res.Header, Trailer: res.Trailer, Body: string(res.Body),
			Size: res.Size, Truncated: res.Truncated, OK: res.OK(), Timeout: res.Timeout, Kind: res.ErrorKind}
		// The upstream misbehaves once this copy has its answer, and waits
		// for its connection to be given up; the copyClient looks only
		// when it takes the connection again, so the wait is cut short.
		close(r.got[i])
		if r.waits[i].Load() {
			select {
			case <-r.settled[i]:
			case <-time.After(100 * time.Millisecond):
			}
		}
		out[i].ConnectionsAfter = int(conns.Load())
	}
	return out
}

// copyDifferential checks that the copyClient makes of every answer of s
// what http.Transport makes of it, on no more connections.
func copyDifferential(t *testing.T, s script) {
	std := s.copies(t, CopyClientTransport)
	lean := s.copies(t, CopyClientLean)
	for i := range std {
		a, b := std[i], lean[i]
		if b.ConnectionsAfter > a.ConnectionsAfter {
			t.Errorf("copy %d: the copyClient had opened %d connections, http.Transport %d", i, b.ConnectionsAfter, a.ConnectionsAfter)
		}
		a.ConnectionsAfter, b.ConnectionsAfter = 0, 0
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("copy %d (%+v): the copyClient's answer differs from http.Transport's (-transport +copyClient):\n%s", i, s.Steps[i], diff)
		}
	}
}

// TestCopyDifferential runs the differential test's seed scripts: the
// deterministic half of FuzzCopyDifferential.
func TestCopyDifferential(t *testing.T) {
	t.Parallel()
	for _, tc := range differentialSeeds {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			copyDifferential(t, tc.s)
		})
	}
}

// FuzzCopyDifferential runs scripts decoded from the fuzz input:
//
//	go test -run '^$' -fuzz FuzzCopyDifferential -fuzztime 2m ./mirror/
func FuzzCopyDifferential(f *testing.F) {
	for _, tc := range differentialSeeds {
		f.Add(tc.s.encode())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if s := decodeScript(data); len(s.Steps) > 0 {
			copyDifferential(t, s)
		}
	})
}

// TestCopyClientPool: connections are kept alive and reused, at most
// maxIdle of them idle; one the upstream closed while idle is not used.
func TestCopyClientPool(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer closeServer(srv)
	c := newCopyClient(srv.Listener.Addr().String(), 2, http.DefaultTransport)
	defer c.CloseIdleConnections()
	get := func() {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		res, err := c.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err != nil || string(b) != "ok" {
			t.Fatalf("body %q, %v", b, err)
		}
	}
	for range 20 {
		get()
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("20 requests one after another took %d connections, want 1", n)
	}

	// Five at once: five connections, two kept.
	var held []*http.Response
	for range 5 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		res, err := c.RoundTrip(req) // answers not read yet: each holds its connection
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, res)
	}
	for _, res := range held {
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}
	c.mu.Lock()
	idle := len(c.idle)
	c.mu.Unlock()
	if idle != 2 {
		t.Errorf("%d idle connections kept, want maxIdle (2)", idle)
	}

	// The server closes its idle connections: the next request must not
	// fail on one of them.
	srv.CloseClientConnections()
	time.Sleep(20 * time.Millisecond) // the FIN reaches the client's socket
	before := conns.Load()
	get()
	if conns.Load() != before+1 {
		t.Errorf("after the server closed the idle connections, a request took %d new ones, want 1", conns.Load()-before)
	}
}

// TestCopyClientLimits: an answer's head is bounded; a hung answer ends
// with its context; a request it is not made for goes to the fallback.
func TestCopyClientLimits(t *testing.T) {
	t.Parallel()
	var sent atomic.Int64
	huge := rawServer(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		line := "X-Big: " + strings.Repeat("a", 1<<10) + "\r\n"
		for {
			n, err := io.WriteString(c, line)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	c := newCopyClient(strings.TrimPrefix(huge, "http://"), 2, nil)
	req, _ := http.NewRequest(http.MethodGet, huge+"/", nil)
	_, err := c.RoundTrip(req)
	if err == nil || !strings.Contains(err.Error(), "exceeded") {
		t.Errorf("endless head: err %v, want the head limit", err)
	}
	if n := sent.Load(); n > copyMaxHeaderBytes+(16<<20) {
		t.Errorf("the server wrote %d MiB of head before the client gave up, want about %d MiB", n>>20, copyMaxHeaderBytes>>20)
	}
	tr := newTransport(2)
	defer tr.CloseIdleConnections()
	req, _ = http.NewRequest(http.MethodGet, huge+"/", nil)
	if _, terr := tr.RoundTrip(req); wire.ErrorKind(terr) != wire.ErrorKind(err) {
		t.Errorf("endless head: the copyClient's failure is of kind %q (%v), http.Transport's %q (%v)", wire.ErrorKind(err), err, wire.ErrorKind(terr), terr)
	}

	hung := rawServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	c = newCopyClient(strings.TrimPrefix(hung, "http://"), 2, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, hung+"/", nil)
	start := time.Now()
	if _, err := c.RoundTrip(req); err == nil || time.Since(start) > wait {
		t.Errorf("hung upstream: err %v after %s, want a timeout at 100ms", err, time.Since(start))
	}

	var fellBack atomic.Int32
	fallback := roundTripFunc(func(*http.Request) (*http.Response, error) {
		fellBack.Add(1)
		return nil, fmt.Errorf("fallback")
	})
	c = newCopyClient(strings.TrimPrefix(hung, "http://"), 2, fallback)
	for _, r := range []func() *http.Request{
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, hung+"/", strings.NewReader(strings.Repeat("x", copyMaxBody+1)))
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, hung+"/", io.NopCloser(strings.NewReader("x"))) // no GetBody
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, hung+"/", strings.NewReader("x"))
			r.Header.Set("Expect", "100-continue")
			return r
		},
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, hung+"/", nil)
			r.Header.Set("Upgrade", "websocket")
			return r
		},
	} {
		_, _ = c.RoundTrip(r())
	}
	if n := fellBack.Load(); n != 4 {
		t.Errorf("%d of 4 requests the copyClient is not made for went to the fallback", n)
	}
}

// roundTripFunc is a function as an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BenchmarkCopyClient compares a copy's round trip through the copyClient
// and through http.Transport, to the same loopback server.
func BenchmarkCopyClient(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":1,"name":"x","items":[1,2,3]}`)
	}))
	defer closeServer(srv)
	for _, tc := range []struct {
		name string
		rt   func() http.RoundTripper
	}{
		{"transport", func() http.RoundTripper { return newTransport(8) }},
		{"lean", func() http.RoundTripper { return newCopyClient(srv.Listener.Addr().String(), 8, nil) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			rt := tc.rt()
			defer closeIdle(rt)
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/x", nil)
				res, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
			}
		})
	}
}

// TestCopyClientDialsDefaultPort: a candidate URL without a port is
// dialled on 80, as http.Transport dials it; IPv6 literals keep their
// brackets and other names are dialled in ASCII.
func TestCopyClientDialsDefaultPort(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"http://candidate.svc":        "candidate.svc:80",
		"http://candidate.svc:8080/x": "candidate.svc:8080",
		"http://[::1]":                "[::1]:80",
		"http://[::1]:9000":           "[::1]:9000",
		"http://bücher.example":       "xn--bcher-kva.example:80",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		up, err := newUpstream(exchange.Candidate, Target{}, u, 2, nil, true)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := up.h1.(*copyClient)
		if !ok {
			t.Fatalf("%s: HTTP/1.1 copies go through %T, want the copy client", raw, up.h1)
		}
		if c.addr != want {
			t.Errorf("%s: the copy client dials %q, want %q", raw, c.addr, want)
		}
		up.closeIdle()
	}
}
