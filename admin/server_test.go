package admin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/understudy-dev/understudy/internal/testio"
)

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		ready      func() error
		path       string
		wantStatus int
		wantBody   string
	}{
		{"healthz", nil, "/healthz", 200, "ok\n"},
		{"healthz while not ready", func() error { return errBoom }, "/healthz", 200, "ok\n"},
		{"readyz without Ready", nil, "/readyz", 200, "ok\n"},
		{"readyz ready", func() error { return nil }, "/readyz", 200, "ok\n"},
		{"readyz failing", func() error { return errBoom }, "/readyz", 503, "not ready: boom: queue is wedged\n"},
		{"index", nil, "/", 200, indexText},
		{"unknown path", nil, "/nope", 404, "404 page not found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, Config{Ready: tt.ready})
			resp, body := r.get(t, tt.path, nil)
			if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	r := start(t, Config{})
	served := prometheus.NewCounter(prometheus.CounterOpts{Name: "understudy_test_served_total", Help: "Requests the test counted."})
	r.srv.Registry().MustRegister(served)
	served.Add(3)

	resp, body := r.get(t, "/metrics", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d: %s", resp.StatusCode, body)
	}
	for _, want := range []string{
		"\ngo_goroutines ",                 // Go runtime collector
		"\nprocess_start_time_seconds ",    // process collector
		"\nunderstudy_test_served_total 3", // the test's own counter
	} {
		if !strings.Contains("\n"+string(body), want) {
			t.Errorf("GET /metrics lacks %q", strings.TrimSpace(want))
		}
	}
}

func TestMetricsOwnRegistryServedAsIs(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "understudy_test_queue_depth", Help: "Depth."})
	reg.MustRegister(g)
	g.Set(7)
	r := start(t, Config{Registry: reg})
	if r.srv.Registry() != reg {
		t.Fatal("Registry() is not the configured registry")
	}
	_, body := r.get(t, "/metrics", nil)
	if !strings.Contains(string(body), "understudy_test_queue_depth 7") {
		t.Errorf("GET /metrics lacks the registry's gauge:\n%s", body)
	}
	if strings.Contains(string(body), "go_goroutines") {
		t.Error("GET /metrics has go_goroutines: a configured registry must be served as is")
	}
}

// TestRunStopsOnCancel proves Run returns nil once its context is done and
// leaves the port closed.
func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	r := start(t, Config{})
	addr := r.srv.Addr().String()
	if resp, _ := r.get(t, "/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("healthz before cancel = %d", resp.StatusCode)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	r.client.HTTP.CloseIdleConnections()
	conn, err := net.DialTimeout("tcp", addr, wait)
	if err == nil {
		conn.Close()
		t.Fatalf("dial %s after Run returned: connected, want the port closed", addr)
	}
}

func TestRunListensByItself(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{Addr: "127.0.0.1:0", Logger: testLogger(&syncBuffer{})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	// Addr appears once Run has bound the port.
	testio.Eventually(t, "Run to listen (Addr not nil)", func() bool { return srv.Addr() != nil })
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: wait}).Get("http://" + srv.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

func TestLifecycleErrors(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{Addr: "127.0.0.1:0", Logger: testLogger(&syncBuffer{})})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Addr() != nil {
		t.Errorf("Addr before Listen = %v, want nil", srv.Addr())
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err == nil || !strings.Contains(err.Error(), "already listening") {
		t.Errorf("second Listen = %v, want already listening", err)
	}
	// The port is taken now: another server on it must fail with the address.
	other, _ := New(Config{Addr: srv.Addr().String()})
	if err := other.Run(context.Background()); err == nil || !strings.Contains(err.Error(), srv.Addr().String()) {
		t.Errorf("Run on a taken port = %v, want an error naming %s", err, srv.Addr())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	if err := srv.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after Close = %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return after Close")
	}
	if err := srv.Run(ctx); err == nil {
		t.Error("second Run = nil, want an error")
	}
	if err := srv.Listen(); !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Listen after Close = %v, want http.ErrServerClosed", err)
	}
}

// TestShutdownCutsOffSlowRequests proves that Run does not wait past
// ShutdownTimeout for a request that never finishes, and says so.
func TestShutdownCutsOffSlowRequests(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	r := start(t, Config{
		ShutdownTimeout: 50 * time.Millisecond,
		Ready: func() error {
			close(entered)
			<-release
			return nil
		},
	})
	go func() {
		req, _ := http.NewRequest(http.MethodGet, r.url+"/readyz", nil)
		if resp, err := r.client.HTTP.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("readyz never called Ready")
	}
	err := r.stop(t)
	if err == nil || !strings.Contains(err.Error(), "cut off") {
		t.Errorf("Run = %v, want an error saying requests were cut off", err)
	}
}

// TestShutdownDoesNotWaitForIdleConnections proves that a client that
// opened a connection and sent nothing does not hold up shutdown: Go's
// http.Server counts such a connection as busy for five seconds, longer
// than this ShutdownTimeout.
func TestShutdownDoesNotWaitForIdleConnections(t *testing.T) {
	t.Parallel()
	r := start(t, Config{ShutdownTimeout: 2 * time.Second})
	conn, err := net.DialTimeout("tcp", r.srv.Addr().String(), wait)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A request on a second connection proves the server accepted conns.
	if resp, _ := r.get(t, "/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("healthz = %d", resp.StatusCode)
	}
	if err := r.stop(t); err != nil {
		t.Errorf("Run = %v, want nil: a connection without a request has nothing to finish", err)
	}
}

func TestHandlerWithHTTPTest(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{Snapshot: (&fakeState{}).Snapshot})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	c := &Client{BaseURL: ts.URL, HTTP: ts.Client()}
	var got stateSnapshot
	if err := c.Snapshot(context.Background(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Seq != 1 {
		t.Errorf("Seq = %d, want 1", got.Seq)
	}
}

// TestDefaultServeMuxUntouched proves the package registers nothing on
// http.DefaultServeMux: importing net/http/pprof would.
func TestDefaultServeMuxUntouched(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/metrics", "/snapshot"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if _, pattern := http.DefaultServeMux.Handler(req); pattern != "" {
			t.Errorf("http.DefaultServeMux serves %s (pattern %q)", path, pattern)
		}
	}
}
