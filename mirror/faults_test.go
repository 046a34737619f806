package mirror

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// primaryPayload is what the primary answers in the fault tests; the client
// must get exactly this whatever the candidate does.
const primaryPayload = "the primary's answer, byte for byte"

func payloadPrimary(t *testing.T) *backend {
	return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Version", "v1")
		_, _ = io.WriteString(w, primaryPayload)
	})
}

// writeBig writes n bytes of 'x' through a small buffer.
func writeBig(w io.Writer, n int64) {
	buf := bytes.Repeat([]byte{'x'}, 64<<10)
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := w.Write(buf[:k]); err != nil {
			return
		}
		n -= k
	}
}

const hundredMiB = 100 << 20

// TestCandidateFaults proves rule 1: whatever the candidate (and the
// secondary, here the same faulty server) does, the client gets the
// primary's answer unchanged and first. Each fault happens only once the
// gate opens, and the test opens it only after the client has its whole
// answer, so a proxy that waited for the copy would deadlock here (and
// fail after the bounded wait).
func TestCandidateFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		start        func(t *testing.T, g *gate) string // returns the faulty server's URL
		timeout      time.Duration
		check        func(t *testing.T, r *exchange.Response)
		wantErrors   uint64 // per side
		wantTimeouts uint64 // per side
	}{
		{
			name: "slow",
			start: func(t *testing.T, g *gate) string {
				return newBackend(t, gated(g, nil)).URL
			},
			check: func(t *testing.T, r *exchange.Response) {
				if !r.OK() || string(r.Body) != "late" {
					t.Errorf("%s: body %q error %q, want the late answer", r.Side, r.Body, r.Error)
				}
			},
		},
		{
			name: "hung past the timeout",
			start: func(t *testing.T, g *gate) string {
				return newBackend(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }).URL
			},
			timeout: 300 * time.Millisecond,
			check: func(t *testing.T, r *exchange.Response) {
				if !r.Timeout || !strings.Contains(r.Error, "within 300ms") {
					t.Errorf("%s: timeout %v error %q, want a timeout", r.Side, r.Timeout, r.Error)
				}
			},
			wantTimeouts: 1,
		},
		{
			name:  "dead",
			start: func(t *testing.T, g *gate) string { return deadAddr(t) },
			check: func(t *testing.T, r *exchange.Response) {
				if r.Timeout || !strings.Contains(r.Error, "connection refused") || r.Status != 0 {
					t.Errorf("%s: status %d error %q, want connection refused", r.Side, r.Status, r.Error)
				}
			},
			wantErrors: 1,
		},
		{
			name: "resets the connection",
			start: func(t *testing.T, g *gate) string {
				return rawServer(t, func(c net.Conn) {
					<-g.ch
					_ = c.(*net.TCPConn).SetLinger(0) // close sends RST
				})
			},
			check: func(t *testing.T, r *exchange.Response) {
				if r.Timeout || r.Error == "" || r.Status != 0 {
					t.Errorf("%s: status %d error %q, want a failed send", r.Side, r.Status, r.Error)
				}
			},
			wantErrors: 1,
		},
		{
			name: "speaks garbage",
			start: func(t *testing.T, g *gate) string {
				return rawServer(t, func(c net.Conn) {
					<-g.ch
					_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02 not http\r\n\r\n")
				})
			},
			check: func(t *testing.T, r *exchange.Response) {
				if r.Timeout || !strings.Contains(r.Error, "malformed HTTP") {
					t.Errorf("%s: error %q, want a malformed answer", r.Side, r.Error)
				}
			},
			wantErrors: 1,
		},
		{
			name: "100 MiB body",
			start: func(t *testing.T, g *gate) string {
				return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
					<-g.ch
					writeBig(w, hundredMiB)
				}).URL
			},
			timeout: time.Minute,
			check: func(t *testing.T, r *exchange.Response) {
				if !r.OK() || r.Size != hundredMiB || !r.Truncated || len(r.Body) != DefaultMaxResponseBytes {
					t.Errorf("%s: kept %d of %d bytes (truncated %v, error %q), want %d of %d",
						r.Side, len(r.Body), r.Size, r.Truncated, r.Error, DefaultMaxResponseBytes, hundredMiB)
				}
			},
		},
		{
			name: "100 MiB body with a length",
			start: func(t *testing.T, g *gate) string {
				return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
					<-g.ch
					w.Header().Set("Content-Length", strconv.Itoa(hundredMiB))
					writeBig(w, hundredMiB)
				}).URL
			},
			timeout: time.Minute,
			check: func(t *testing.T, r *exchange.Response) {
				if !r.OK() || r.Size != hundredMiB || !r.Truncated || len(r.Body) != DefaultMaxResponseBytes {
					t.Errorf("%s: kept %d of %d bytes (truncated %v, error %q), want %d of %d",
						r.Side, len(r.Body), r.Size, r.Truncated, r.Error, DefaultMaxResponseBytes, hundredMiB)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			primary := payloadPrimary(t)
			g := newGate()
			faulty := tc.start(t, g)
			t.Cleanup(g.open) // after the proxy is closed, before the servers are
			obs := newCollector()
			timeout := tc.timeout
			if timeout == 0 {
				timeout = wait
			}
			f := startProxy(t, Config{
				Primary: primary.URL, Candidate: faulty, Secondary: faulty,
				Observer: obs, CandidateTimeout: timeout,
			})

			resp, got := f.get(t, "/fault")
			if resp.StatusCode != http.StatusOK || string(got) != primaryPayload || resp.Header.Get("X-Version") != "v1" {
				t.Fatalf("client got %d %q, want 200 %q", resp.StatusCode, got, primaryPayload)
			}
			g.open() // only now may the candidate misbehave

			x := obs.next(t)
			if !x.Primary.OK() || string(x.Primary.Body) != primaryPayload {
				t.Errorf("exchange primary: body %q error %q, want the payload", x.Primary.Body, x.Primary.Error)
			}
			tc.check(t, &x.Candidate)
			if x.Secondary == nil {
				t.Fatal("no secondary answer")
			}
			tc.check(t, x.Secondary)
			s := f.Stats()
			got4 := [4]uint64{s.CandidateErrors, s.CandidateTimeouts, s.SecondaryErrors, s.SecondaryTimeouts}
			want4 := [4]uint64{tc.wantErrors, tc.wantTimeouts, tc.wantErrors, tc.wantTimeouts}
			if got4 != want4 {
				t.Errorf("candidate errors, timeouts, secondary errors, timeouts = %v, want %v", got4, want4)
			}
			if s.Completed != 1 || s.PrimaryErrors != 0 {
				t.Errorf("completed %d, primary errors %d; want 1 and 0", s.Completed, s.PrimaryErrors)
			}
		})
	}
}

// TestHugeCandidateIsNotHeld checks that a 100 MiB candidate answer costs
// about MaxResponseBytes of memory, not 100 MiB. It is not parallel, so the
// allocation count is this test's alone.
func TestHugeCandidateIsNotHeld(t *testing.T) {
	primary := payloadPrimary(t)
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) { writeBig(w, hundredMiB) })
	obs := newCollector()
	f := startProxy(t, Config{Primary: primary.URL, Candidate: candidate.URL, Observer: obs, CandidateTimeout: time.Minute})

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f.get(t, "/big")
	x := obs.next(t)
	runtime.ReadMemStats(&after)
	if x.Candidate.Size != hundredMiB {
		t.Fatalf("candidate size %d, want %d", x.Candidate.Size, hundredMiB)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 25<<20 {
		t.Errorf("allocated %d MiB to mirror a 100 MiB answer; want a few MiB (the kept 1 MiB and buffers)", alloc>>20)
	}
}

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
	eventually(t, "the first exchange", func() bool { return calls.Load() == 1 })
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
