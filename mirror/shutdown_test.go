package mirror

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// stuckProxy starts a proxy with one worker whose candidate holds every
// copy until the gate opens, and gives it two copies: one in flight, one
// queued.
func stuckProxy(t *testing.T) (*front, *gate, collector) {
	t.Helper()
	primary := newBackend(t, nil)
	g := newGate()
	arrived := make(chan struct{}, 10)
	candidate := newBackend(t, gated(g, arrived))
	t.Cleanup(g.open)
	obs := newCollector()
	f := startProxy(t, Config{Primary: primary.URL, Candidate: candidate.URL, Observer: obs, Workers: 1, QueueSize: 4})
	f.get(t, "/in-flight")
	waitFor(t, arrived, "the first copy to reach the candidate")
	f.get(t, "/queued")
	if d := f.Stats().QueueDepth; d != 1 {
		t.Fatalf("queue depth %d, want 1", d)
	}
	return f, g, obs
}

// TestShutdownDrains checks that Shutdown stops taking copies at once but
// lets the queued and in-flight ones finish, and that clients are still
// served meanwhile.
func TestShutdownDrains(t *testing.T) {
	t.Parallel()
	f, g, obs := stuckProxy(t)

	type result struct {
		abandoned int
		err       error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		n, err := f.Shutdown(ctx)
		done <- result{n, err}
	}()
	testio.Eventually(t, "Shutdown to begin", f.closing.Load)
	if resp, body := f.get(t, "/during"); resp.StatusCode != 200 || string(body) != "ok" {
		t.Errorf("during shutdown the client got %d %q, want the primary's answer", resp.StatusCode, body)
	}
	if n := f.Stats().Skipped["shutdown"]; n != 1 {
		t.Errorf("skipped for shutdown %d, want 1", n)
	}
	select {
	case <-done:
		t.Fatal("Shutdown returned while a copy was still in flight")
	default:
	}
	g.open()
	select {
	case r := <-done:
		if r.abandoned != 0 || r.err != nil {
			t.Errorf("Shutdown = %d, %v; want 0, nil", r.abandoned, r.err)
		}
	case <-time.After(wait):
		t.Fatal("Shutdown did not return")
	}
	got := map[string]bool{obs.next(t).Request.URL: true, obs.next(t).Request.URL: true}
	if !got["/in-flight"] || !got["/queued"] {
		t.Errorf("observed %v, want both copies", got)
	}
	if s := f.Stats(); s.Completed != 2 || s.Abandoned != 0 {
		t.Errorf("completed %d abandoned %d, want 2 0", s.Completed, s.Abandoned)
	}
}

// TestShutdownAbandons checks that when ctx ends first, the copy in flight
// and the queued one are cancelled, counted, and never observed.
func TestShutdownAbandons(t *testing.T) {
	t.Parallel()
	f, _, obs := stuckProxy(t)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := f.Shutdown(ctx)
	if n != 2 || !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %d, %v; want 2 abandoned, context.Canceled", n, err)
	}
	obs.none(t)
	if s := f.Stats(); s.Abandoned != 2 || s.Completed != 0 {
		t.Errorf("abandoned %d completed %d, want 2 0", s.Abandoned, s.Completed)
	}

	// Safe to call again, in any form: the same answer, nothing blocks.
	if n, err := f.Shutdown(context.Background()); n != 2 || err != nil {
		t.Errorf("second Shutdown = %d, %v; want 2, nil", n, err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close after Shutdown: %v", err)
	}
}

// TestCloseIdleProxy checks that an unused proxy closes cleanly, twice.
func TestCloseIdleProxy(t *testing.T) {
	t.Parallel()
	p := newIdleProxy(t, Config{Workers: 3})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Shutdown(context.Background()); n != 0 || err != nil {
		t.Errorf("Shutdown after Close = %d, %v; want 0, nil", n, err)
	}
}
