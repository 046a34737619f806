package scenarios

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// gatedServer answers every request only once the gate of its wave is
// open, and counts the connections clients open to it.
type gatedServer struct {
	*httptest.Server
	arrived chan struct{} // one token per request

	mu    sync.Mutex
	gate  chan struct{} // the current wave's gate
	conns int
}

func newGatedServer(t *testing.T) *gatedServer {
	t.Helper()
	g := &gatedServer{arrived: make(chan struct{}, 1<<12), gate: make(chan struct{})}
	g.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		gate := g.gate
		g.mu.Unlock()
		g.arrived <- struct{}{}
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	g.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			g.mu.Lock()
			g.conns++
			g.mu.Unlock()
		}
	}
	g.Start()
	t.Cleanup(func() {
		g.open()
		g.Close()
	})
	return g
}

// open lets the current wave through and makes the next wave wait.
func (g *gatedServer) open() {
	g.mu.Lock()
	close(g.gate)
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedServer) connections() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.conns
}

// await takes n arrival tokens, failing the test after a generous wait.
func (g *gatedServer) await(t *testing.T, n int64) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for range n {
		select {
		case <-g.arrived:
		case <-timeout:
			t.Fatalf("requests did not arrive at the server")
		}
	}
}

// TestConnectionsAreKeptBetweenBursts proves that the runner's own client
// keeps a connection for every journey that ran at once, not only
// net/http's default 100: a second burst of more than 100 journeys at once
// opens no connection while the first burst's are idle. (Dropping the
// extra ones made every burst dial again, which at high rates fed on
// itself until the runner fell far behind its rate.)
func TestConnectionsAreKeptBetweenBursts(t *testing.T) {
	t.Parallel()
	srv := newGatedServer(t)
	sc := mustParse(t, `
name: bursts
target: http://127.0.0.1:1
rate: {rate: 2000}
duration: 1m
max_in_flight: 400
journeys: [{name: j, steps: [{name: ping, path: /ping}]}]
`)
	r := mustRunner(t, sc, RunnerOptions{Target: srv.URL, NoPreflight: true})
	done := make(chan *Result, 1)
	go func() {
		res, err := r.Run(t.Context())
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	defer func() {
		r.Kill()
		<-done
	}()

	// burst lets at least min journeys reach the server at once, holds
	// further starts, and returns how many started.
	started := int64(0)
	burst := func(min int64) int64 {
		srv.await(t, min)
		r.Pause()
		n := r.Snapshot().Journeys.Started - started
		srv.await(t, n-min) // every started journey is waiting at the gate
		started += n
		return n
	}
	settle := func() {
		srv.open()
		testio.Eventually(t, "the journeys to finish", func() bool { return r.Snapshot().InFlight == 0 })
	}

	first := burst(150)
	settle()
	if got := srv.connections(); got != int(first) {
		t.Fatalf("first burst of %d journeys opened %d connections, want one each", first, got)
	}
	r.Resume()
	second := burst(120)
	got := srv.connections() - int(first)
	want := max(0, int(second-first)) // only what the first burst had not opened
	if got > want {
		t.Errorf("second burst of %d journeys opened %d new connections, want at most %d (the first burst left %d)", second, got, want, first)
	}
	settle()
	r.Stop()
	if res := <-done; res.Journeys.Succeeded != started {
		t.Errorf("succeeded %d of %d journeys, want all", res.Journeys.Succeeded, started)
	}
	done <- nil // for the deferred Kill
}
