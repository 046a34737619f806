package mirror

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/testio"
)

// TestPrimaryDown checks the 502 and its clear body, the counter, and that
// the copy still goes out and is joined with the primary's error.
func TestPrimaryDown(t *testing.T) {
	t.Parallel()
	candidate := newBackend(t, nil)
	obs := newCollector()
	f := startProxy(t, Config{Primary: deadAddr(t), Candidate: candidate.URL, Observer: obs})

	resp, got := f.get(t, "/down")
	if resp.StatusCode != http.StatusBadGateway || string(got) != primaryUnavailable {
		t.Errorf("client got %d %q, want 502 %q", resp.StatusCode, got, primaryUnavailable)
	}
	x := obs.next(t)
	if x.Primary.Status != 0 || !strings.Contains(x.Primary.Error, "connection refused") {
		t.Errorf("exchange primary: status %d error %q, want 0 and connection refused", x.Primary.Status, x.Primary.Error)
	}
	if !x.Candidate.OK() || string(x.Candidate.Body) != "ok" {
		t.Errorf("exchange candidate: body %q error %q, want ok", x.Candidate.Body, x.Candidate.Error)
	}
	if s := f.Stats(); s.PrimaryErrors != 1 {
		t.Errorf("primary errors %d, want 1", s.PrimaryErrors)
	}
}

// TestPrimaryCutsAnswerShort checks that a primary dying mid-body aborts the
// client's answer (as ReverseProxy does) and is recorded and counted.
func TestPrimaryCutsAnswerShort(t *testing.T) {
	t.Parallel()
	primary := rawServer(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
	})
	candidate := newBackend(t, nil)
	obs := newCollector()
	f := startProxy(t, Config{Primary: primary, Candidate: candidate.URL, Observer: obs})

	resp, err := f.client.Get(f.srv.URL + "/short")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("client read a complete answer; want the cut to reach it")
	}
	x := obs.next(t)
	if x.Primary.Status != http.StatusOK || x.Primary.Size != 10 || !strings.Contains(x.Primary.Error, "read primary answer") {
		t.Errorf("exchange primary: status %d size %d error %q, want 200, 10 bytes, a read error",
			x.Primary.Status, x.Primary.Size, x.Primary.Error)
	}
	if s := f.Stats(); s.PrimaryErrors != 1 {
		t.Errorf("primary errors %d, want 1", s.PrimaryErrors)
	}
}

// TestClientGoesAway checks that a client leaving (before the answer, or in
// the middle of it) is recorded on the primary's side, is not counted as a
// primary error, and does not cancel the copy: the candidate answers only
// after the primary has seen the client leave, and its answer still
// arrives.
func TestClientGoesAway(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		firstPart bool // the primary sends part of its answer first
		wantError string
	}{
		{name: "before the answer", wantError: "client went away before the primary answered"},
		{name: "mid answer", firstPart: true, wantError: "client went away before the primary's answer was delivered in full"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			primaryCancelled := make(chan struct{})
			primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.firstPart {
					_, _ = io.WriteString(w, "part\n")
					w.(http.Flusher).Flush()
				}
				<-r.Context().Done() // the proxy passes the client's leaving on
				close(primaryCancelled)
			})
			g := newGate()
			arrived := make(chan struct{}, 1)
			candidate := newBackend(t, gated(g, arrived))
			t.Cleanup(g.open)
			obs := newCollector()
			f := startProxy(t, Config{Primary: primary.URL, Candidate: candidate.URL, Observer: obs})

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/leave", nil)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				resp, err := f.client.Do(req)
				if err == nil {
					buf := make([]byte, 5)
					_, err = io.ReadFull(resp.Body, buf)
					if err == nil {
						cancel() // read the first part, then leave
						_, err = io.ReadAll(resp.Body)
					}
					resp.Body.Close()
				}
				done <- err
			}()
			waitFor(t, arrived, "candidate request")
			primary.next(t) // the primary is handling the request
			if !tc.firstPart {
				cancel()
			}
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("client: %v, want it cancelled", err)
			}
			waitFor(t, primaryCancelled, "the primary to see the client leave")
			g.open()

			x := obs.next(t)
			if !strings.Contains(x.Primary.Error, tc.wantError) {
				t.Errorf("exchange primary error %q, want %q", x.Primary.Error, tc.wantError)
			}
			if !x.Candidate.OK() || string(x.Candidate.Body) != "late" {
				t.Errorf("candidate: body %q error %q, want its answer despite the client leaving", x.Candidate.Body, x.Candidate.Error)
			}
			if s := f.Stats(); s.PrimaryErrors != 0 {
				t.Errorf("primary errors %d, want 0: the client left", s.PrimaryErrors)
			}
		})
	}
}

// TestPrimarySlowerThanCopyTimeout checks that the worker stops waiting for
// the primary at CandidateTimeout and records it, while the client, whose
// answer is not the worker's business, still gets it whole afterwards.
func TestPrimarySlowerThanCopyTimeout(t *testing.T) {
	t.Parallel()
	g := newGate()
	primary := newBackend(t, gated(g, nil))
	candidate := newBackend(t, nil)
	t.Cleanup(g.open)
	obs := newCollector()
	f := startProxy(t, Config{Primary: primary.URL, Candidate: candidate.URL, Observer: obs, CandidateTimeout: 200 * time.Millisecond})

	type result struct {
		body string
		err  error
	}
	client := make(chan result, 1)
	go func() {
		resp, err := f.client.Get(f.srv.URL + "/slow")
		if err != nil {
			client <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		client <- result{string(b), err}
	}()
	x := obs.next(t) // observed while the primary still holds the client
	if !x.Primary.Timeout || !strings.Contains(x.Primary.Error, "not finished within 200ms") {
		t.Errorf("exchange primary: timeout %v error %q, want a timeout", x.Primary.Timeout, x.Primary.Error)
	}
	if !x.Candidate.OK() {
		t.Errorf("candidate error %q", x.Candidate.Error)
	}
	g.open()
	select {
	case r := <-client:
		if r.err != nil || r.body != "late" {
			t.Errorf("client got %q, %v; want the primary's late answer", r.body, r.err)
		}
	case <-time.After(wait):
		t.Fatal("client got no answer")
	}
}

// TestObserverPanicIsContained checks that a panicking observer neither
// crashes the proxy nor stops its worker.
func TestObserverPanicIsContained(t *testing.T) {
	t.Parallel()
	primary, candidate := newBackend(t, nil), newBackend(t, nil)
	var calls atomic.Int32
	obs := newCollector()
	f := startProxy(t, Config{
		Primary: primary.URL, Candidate: candidate.URL, Workers: 1,
		Observer: ObserverFunc(func(x *exchange.Exchange) {
			if calls.Add(1) == 1 {
				panic("observer bug")
			}
			obs.Observe(x)
		}),
	})
	f.get(t, "/one")
	testio.Eventually(t, "the first exchange", func() bool { return calls.Load() == 1 })
	f.get(t, "/two")
	if x := obs.next(t); x.Request.URL != "/two" {
		t.Errorf("observed %q, want /two", x.Request.URL)
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
	}
}
