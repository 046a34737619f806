package egress

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/traceparent"
)

// wait bounds every wait in the tests: generous, so a slow shared machine
// never fails a correct test, and finite, so a broken one fails instead
// of hanging.
const wait = 10 * time.Second

// sideHeader is how a test's service marks the side a call comes from, so
// the fake dependency can fail the test on any call that leaked from a
// copy side.
const sideHeader = "X-Test-Side"

// fakeDep is a loopback HTTP server playing a dependency: it counts the
// calls that reach it, keeps them, fails the test on any call marked as
// coming from the secondary or candidate side, and answers with handler
// (201 with a JSON echo of the body when nil).
type fakeDep struct {
	*httptest.Server
	t       testing.TB
	calls   atomic.Int64
	mu      sync.Mutex
	seen    []seenCall
	handler http.HandlerFunc
}

// seenCall is one call as the dependency received it.
type seenCall struct {
	Method, URI, Host string
	Header            http.Header
	Body              string
}

func newDependency(t testing.TB, handler http.HandlerFunc) *fakeDep {
	t.Helper()
	d := &fakeDep{t: t, handler: handler}
	d.Server = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(func() {
		d.CloseClientConnections()
		d.Close()
	})
	return d
}

func (d *fakeDep) serve(w http.ResponseWriter, r *http.Request) {
	d.calls.Add(1)
	if s := r.Header.Get(sideHeader); s != "" && s != string(exchange.Primary) {
		d.t.Errorf("a %s call reached the real dependency: %s %s", s, r.Method, r.RequestURI)
	}
	if d.handler != nil {
		d.keep(r, "")
		d.handler(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	d.keep(r, string(body))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Charge", "ch_"+r.URL.Path[1:])
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"charged":`+string(body)+`}`)
}

func (d *fakeDep) keep(r *http.Request, body string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen = append(d.seen, seenCall{Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header.Clone(), Body: body})
}

func (d *fakeDep) received() []seenCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]seenCall(nil), d.seen...)
}

// config returns a Config with one dependency "payments" in front of
// upstream, every side listening on a free loopback port.
func config(upstream string) Config {
	return Config{Dependencies: []Dependency{{
		Name:     "payments",
		Upstream: upstream,
		Listeners: Listeners{
			PrimaryListen:   "127.0.0.1:0",
			SecondaryListen: "127.0.0.1:0",
			CandidateListen: "127.0.0.1:0",
		},
	}}}
}

// start builds and runs an Egress until the end of the test, and checks
// that Run returns cleanly. Without a logger of its own, its warnings and
// the panics its servers recover go to the test's log.
func start(t testing.TB, cfg Config) *Egress {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := e.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(wait):
			t.Errorf("Run did not return within %v of its context ending", wait)
		}
	})
	return e
}

// testLog writes to the test's log.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// client is an HTTP client for one test, closed at its end.
func client(t testing.TB) *http.Client {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: wait}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// answer is one answer as a test's service got it.
type answer struct {
	Status int
	Header http.Header
	Body   string
}

// send makes one call as a service of side would, with the given
// traceparent ("" for none) and body ("" for none).
func send(t testing.TB, c *http.Client, side exchange.Side, method, url, tp, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tp != "" {
		req.Header.Set(traceparent.Header, tp)
	}
	req.Header.Set(sideHeader, string(side))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
}

// newTrace returns a fresh traceparent value and its trace id.
func newTrace() (string, string) {
	tp := traceparent.New()
	return tp.String(), tp.TraceIDString()
}

// childOf returns the traceparent a service would send on its outbound
// call while serving a request with traceparent tp.
func childOf(tp string) string {
	p, _ := traceparent.Parse(tp)
	return p.Child().String()
}
