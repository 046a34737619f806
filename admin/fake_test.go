package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// fakeController records what it was asked and clamps rates to a ceiling.
// Actions listed in unsupported return ErrUnsupported; fail makes every
// action return that error.
type fakeController struct {
	ceiling     float64
	unsupported map[Action]bool
	fail        error

	mu    sync.Mutex
	calls []Command
}

func (f *fakeController) record(a Action, rate float64) error {
	return f.recordCommand(Command{Action: a, Rate: rate})
}

func (f *fakeController) recordCommand(c Command) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unsupported[c.Action] {
		return ErrUnsupported
	}
	if f.fail != nil {
		return f.fail
	}
	f.calls = append(f.calls, c)
	return nil
}

// fakeTuner is a fakeController that can also be tuned. It knows the
// routes in routes; any other name is an error.
type fakeTuner struct {
	*fakeController
	routes []string
}

var _ Tuner = fakeTuner{}

func (f fakeTuner) SetSamplePercent(percent float64) error {
	return f.recordCommand(Command{Action: ActionSample, Percent: percent})
}

func (f fakeTuner) SetRouteDisabled(name string, disabled bool) error {
	if !slices.Contains(f.routes, name) {
		return fmt.Errorf("set route %q disabled: no such route; routes: %q", name, f.routes)
	}
	return f.recordCommand(Command{Action: ActionRoute, Route: name, Disabled: disabled})
}

func (f *fakeController) Pause() error  { return f.record(ActionPause, 0) }
func (f *fakeController) Resume() error { return f.record(ActionResume, 0) }
func (f *fakeController) Stop() error   { return f.record(ActionStop, 0) }
func (f *fakeController) Kill() error   { return f.record(ActionKill, 0) }

func (f *fakeController) SetRate(perSecond float64) (float64, error) {
	if err := f.record(ActionRate, perSecond); err != nil {
		return 0, err
	}
	return min(perSecond, f.ceiling), nil
}

func (f *fakeController) Calls() []Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Command(nil), f.calls...)
}

// fakeState is a snapshot source whose Seq grows by one per call, so a test
// can tell two snapshots apart.
type fakeState struct {
	seq atomic.Int64
}

type stateSnapshot struct {
	Seq       int64              `json:"seq"`
	Name      string             `json:"name"`
	Endpoints map[string]float64 `json:"endpoints"`
	Started   time.Time          `json:"started"`
	Tags      []string           `json:"tags"`
}

var started = time.Date(2025, 11, 23, 11, 0, 0, 0, time.UTC)

func (f *fakeState) Snapshot() any {
	return stateSnapshot{
		Seq:       f.seq.Add(1),
		Name:      "orders <v2> & co", // characters JSON may escape
		Endpoints: map[string]float64{"GET /orders/{id}": 0.25, "POST /orders": 1},
		Started:   started,
		Tags:      []string{"synthetic", "ünïcode"},
	}
}

// syncBuffer is output a test reads while a command or server writes it.
type syncBuffer = testio.Buffer

func testLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// running is a Server serving on 127.0.0.1 for one test.
type running struct {
	srv    *Server
	url    string
	client *Client
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // what Run returned, once done is closed
	// checked is set once the test has looked at Run's result itself.
	checked bool
}

// wait bounds every wait of the tests: long enough for a loaded CI machine,
// short enough that a hang fails instead of stalling the suite.
const wait = 10 * time.Second

// start runs a server with cfg on 127.0.0.1:0 (unless cfg.Addr says
// otherwise) until the test ends, and gives a Client for it with its own
// transport, closed at the end so no connection goroutine outlives the test.
func start(t *testing.T, cfg Config) *running {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	logs := &syncBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(logs)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: srv, url: "http://" + srv.Addr().String(), logs: logs, cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = srv.Run(ctx)
		close(r.done)
	}()
	transport := &http.Transport{}
	r.client = &Client{BaseURL: r.url, Token: cfg.Token, HTTP: &http.Client{Transport: transport}, Timeout: wait}
	t.Cleanup(func() {
		checked := r.checked
		if err := r.stop(t); err != nil && !checked {
			t.Errorf("Run: %v", err)
		}
		transport.CloseIdleConnections()
	})
	return r
}

// stop cancels Run and returns its result; calling it twice is fine.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
		r.checked = true
		return r.err
	case <-time.After(wait):
		t.Fatalf("Run did not return within %v of its context being cancelled", wait)
		return nil
	}
}

// get sends a GET with optional headers through the test's client
// transport, with RequestHeader unless header says otherwise.
func (r *running) get(t *testing.T, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	return r.do(t, http.MethodGet, path, header, nil)
}

func (r *running) do(t *testing.T, method, path string, header http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, r.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(RequestHeader, "1") // as Client does; header may override it
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := r.client.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, b.Bytes()
}

var errBoom = errors.New("boom: queue is wedged")
