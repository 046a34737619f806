package mirror

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"
)

func TestConnectFailed(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"no error", nil, false},
		{"refused", refused, true},
		{"refused, wrapped", &url.Error{Op: "Get", URL: "http://x", Err: fmt.Errorf("send: %w", refused)}, true},
		{"dial timeout", &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}, true},
		{"reset while reading", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, false},
		{"slow answer", context.DeadlineExceeded, false},
		{"other", errors.New("malformed HTTP response"), false},
	}
	for _, tt := range tests {
		if got := connectFailed(tt.err); got != tt.want {
			t.Errorf("%s: connectFailed(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// TestBreakerStates walks the breaker through its states; the backoff's
// end is simulated by moving openUntil into the past, never by waiting.
func TestBreakerStates(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	var b breaker
	pass := func() { b.openUntil.Store(time.Now().Add(-time.Millisecond).UnixNano()) }
	steps := []struct {
		name string
		do   func()
		want []bool // allow() results, in order
	}{
		{"closed", func() {}, []bool{true, true}},
		{"failures below the threshold", func() {
			for range breakerThreshold - 1 {
				b.record(refused)
			}
		}, []bool{true}},
		{"an answer resets the count", func() {
			b.record(nil)
			for range breakerThreshold - 1 {
				b.record(refused)
			}
		}, []bool{true}},
		{"threshold reached: open", func() { b.record(refused) }, []bool{false, false}},
		{"backoff over: one probe", pass, []bool{true, false, false}},
		{"probe refused: open again", func() { b.record(refused) }, []bool{false}},
		{"probe never sent: another probe", pass, []bool{true, false}},
		{"probe answered: closed", func() { b.record(nil) }, []bool{true, true}},
		{"a slow or failing answer is no connection failure", func() {
			for range 2 * breakerThreshold {
				b.record(context.DeadlineExceeded)
			}
		}, []bool{true}},
	}
	for _, s := range steps {
		s.do()
		for i, want := range s.want {
			if got := b.allow(); got != want {
				t.Errorf("%s: allow() #%d = %v, want %v", s.name, i+1, got, want)
			}
		}
	}
}

// TestDeadCandidateIsSkipped proves the wiring: once the candidate refused
// breakerThreshold copies, the next requests are skipped as
// "candidate_down" (no dial), and clients still get the primary's answer.
func TestDeadCandidateIsSkipped(t *testing.T) {
	t.Parallel()
	primary := newBackend(t, nil)
	obs := newCollector()
	f := startProxy(t, Config{Primary: primary.URL, Candidate: deadAddr(t), Observer: obs})
	get := func() {
		t.Helper()
		res, body := f.get(t, "/orders/1")
		if res.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("client got %d %q, want 200 \"ok\"", res.StatusCode, body)
		}
		primary.next(t)
	}
	for i := range breakerThreshold {
		get()
		if x := obs.next(t); x.Candidate.Error == "" {
			t.Fatalf("copy %d: candidate error empty, want connection refused", i+1)
		}
	}
	const more = 3
	for range more {
		get()
	}
	s := f.Stats()
	if got, want := s.Skipped["candidate_down"], uint64(more); got != want {
		t.Errorf("skipped as candidate_down = %d, want %d", got, want)
	}
	if got, want := s.Mirrored, uint64(breakerThreshold); got != want {
		t.Errorf("mirrored = %d, want %d", got, want)
	}
	if got, want := s.CandidateErrors, uint64(breakerThreshold); got != want {
		t.Errorf("candidate errors = %d, want %d", got, want)
	}
}
