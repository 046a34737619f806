package egress

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// k is the key of a test call to POST payments /charges in trace id.
func k(id string) key {
	return key{trace: id, ep: endpointKey{dep: "payments", method: "POST", template: "/charges"}}
}

// beginT registers a test call and fails the test on a refusal.
func beginT(t *testing.T, s *store, side exchange.Side, id string) (*call, *slot) {
	t.Helper()
	c, sl, reason := s.begin(side, k(id), httptest.NewRequest("POST", "/charges", nil), "/charges", time.Now())
	if reason != "" {
		t.Fatalf("begin %s in %s: refused %s", side, id, reason)
	}
	return c, sl
}

// TestAwaitGetsThePrimarysCall: a copy waiting for the primary's call gets
// it as soon as it is published, with no time passing on the clock.
func TestAwaitGetsThePrimarysCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore(Limits{MaxWait: time.Minute})
		_, sl := beginT(t, s, exchange.Candidate, "t1")
		type result struct {
			c      *call
			reason Reason
		}
		got := make(chan result, 1)
		start := time.Now()
		go func() {
			c, r := s.await(context.Background(), sl)
			got <- result{c, r}
		}()
		synctest.Wait() // the copy is waiting
		prim, psl := beginT(t, s, exchange.Primary, "t1")
		if psl != sl {
			t.Fatal("the primary's call and the candidate's with the same key have different slots")
		}
		psl.publish(prim, "")
		r := <-got
		if r.c != prim || r.reason != "" {
			t.Errorf("await = %v, %q; want the primary's call", r.c, r.reason)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("await took %v on the bubble's clock, want 0", waited)
		}
	})
}

// TestAwaitGivesUpAfterMaxWait: with no primary call, the copy is refused
// exactly when MaxWait has passed.
func TestAwaitGivesUpAfterMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore(Limits{MaxWait: 3 * time.Second})
		_, sl := beginT(t, s, exchange.Candidate, "t1")
		start := time.Now()
		_, reason := s.await(context.Background(), sl)
		if reason != RefusedNoMatch || time.Since(start) != 3*time.Second {
			t.Errorf("await = %q after %v, want %q after 3s", reason, time.Since(start), RefusedNoMatch)
		}
	})
}

// TestOrdinals: each side numbers its calls to an endpoint on its own, and
// call n of a copy waits on call n of the primary.
func TestOrdinals(t *testing.T) {
	t.Parallel()
	s := newStore(Limits{})
	var prim []*slot
	for range 3 {
		_, sl := beginT(t, s, exchange.Primary, "t1")
		prim = append(prim, sl)
	}
	for i := range 3 {
		c, sl := beginT(t, s, exchange.Candidate, "t1")
		if sl != prim[i] || c.oc.Ordinal != i {
			t.Errorf("candidate call %d: ordinal %d, same slot as primary call %d: %v", i, c.oc.Ordinal, i, sl == prim[i])
		}
	}
	c, sl := beginT(t, s, exchange.Secondary, "t2")
	if c.oc.Ordinal != 0 || sl == prim[0] {
		t.Error("a call in another trace shares the first trace's slot")
	}
}

// TestTTLSweep: a trace is evicted once it is older than RecordTTL and a
// new trace arrives, and a copy waiting in it is refused as evicted.
func TestTTLSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore(Limits{RecordTTL: 10 * time.Second, MaxWait: time.Hour})
		_, sl := beginT(t, s, exchange.Candidate, "old")
		got := make(chan Reason, 1)
		go func() {
			_, r := s.await(context.Background(), sl)
			got <- r
		}()
		time.Sleep(9 * time.Second)
		beginT(t, s, exchange.Primary, "young")
		if st := s.stats(); st.Traces != 2 || st.EvictedTTL != 0 {
			t.Fatalf("after 9s: %d traces, %d evicted; want 2, 0", st.Traces, st.EvictedTTL)
		}
		time.Sleep(time.Second)
		beginT(t, s, exchange.Primary, "new")
		if r := <-got; r != RefusedEvicted {
			t.Errorf("waiting copy = %q, want %q", r, RefusedEvicted)
		}
		if st := s.stats(); st.Traces != 2 || st.EvictedTTL != 1 {
			t.Errorf("after 10s: %d traces, %d evicted; want 2, 1", st.Traces, st.EvictedTTL)
		}
		if s.take("old") != nil {
			t.Error("the evicted trace can still be taken")
		}
	})
}

// TestBudget: bodies are charged to the budget, the oldest other traces
// make room, the bytes held never exceed it, and what cannot fit is cut
// and counted.
func TestBudget(t *testing.T) {
	t.Parallel()
	const budget = 64 << 10
	s := newStore(Limits{MaxBodyBytes: 16 << 10, MaxMemoryBytes: budget})
	chunk := []byte(strings.Repeat("x", 4<<10))
	var last *call
	for i := range 20 {
		c, _ := beginT(t, s, exchange.Primary, string(rune('a'+i)))
		for range 4 {
			if !s.appendBody(c, true, chunk) {
				t.Fatalf("trace %d: a 16 KiB answer did not fit a 64 KiB budget with older traces to evict", i)
			}
		}
		if s.appendBody(c, true, chunk) { // a fifth chunk is past MaxBodyBytes
			t.Fatalf("trace %d: kept more than MaxBodyBytes", i)
		}
		if st := s.stats(); st.BytesHeld > budget || st.PeakBytes > budget {
			t.Fatalf("trace %d: %d bytes held (peak %d), over the %d budget", i, st.BytesHeld, st.PeakBytes, budget)
		}
		last = c
	}
	st := s.stats()
	if st.EvictedMemory == 0 || st.Traces >= 20 {
		t.Errorf("stats = %+v: want older traces evicted to make room", st)
	}
	if len(last.oc.Response.Body) != 16<<10 || last.oc.Response.Size != 20<<10 || !last.oc.Response.Truncated {
		t.Errorf("last answer: kept %d of %d bytes, truncated %v; want 16 KiB of 20 KiB, truncated", len(last.oc.Response.Body), last.oc.Response.Size, last.oc.Response.Truncated)
	}

	// One trace alone cannot take more than the budget: nothing else to evict.
	s = newStore(Limits{MaxBodyBytes: 1 << 20, MaxMemoryBytes: 2 << 20, MaxCallsPerTrace: 10})
	big := []byte(strings.Repeat("y", 1<<20))
	cut := 0
	for range 4 {
		c, _ := beginT(t, s, exchange.Primary, "one")
		if !s.appendBody(c, true, big) {
			cut++
		}
	}
	if st := s.stats(); st.BytesHeld > 2<<20 || cut < 2 || st.OverBudget < 2 {
		t.Errorf("one trace of 4 MiB in a 2 MiB budget: %d bytes held, %d answers cut, %d over budget; want at most 2 MiB, at least 2 cut and counted", st.BytesHeld, cut, st.OverBudget)
	}
	s.take("one")
	if st := s.stats(); st.BytesHeld != 0 {
		t.Errorf("after Take: %d bytes held, want 0", st.BytesHeld)
	}
}

// TestEvictedTraceStaysGone: once a trace is evicted, its later calls are
// refused as evicted, on every side, for RecordTTL, instead of starting a
// new record of the same id in which a copy's call would wait for a
// primary call that is gone (and be reported as one the primary never
// made) or pair with a later primary call by a restarted ordinal. A taken
// trace's id may be used again. The ids remembered are bounded.
func TestEvictedTraceStaysGone(t *testing.T) {
	t.Parallel()
	s := newStore(Limits{MaxBodyBytes: 16 << 10, MaxMemoryBytes: 64 << 10, RecordTTL: time.Hour})
	c, _ := beginT(t, s, exchange.Primary, "old")
	s.appendBody(c, true, []byte(strings.Repeat("x", 16<<10)))
	for i := range 8 { // newer traces push "old" out of the budget
		c, _ := beginT(t, s, exchange.Primary, "new"+string(rune('a'+i)))
		s.appendBody(c, true, []byte(strings.Repeat("y", 16<<10)))
	}
	if s.stats().EvictedMemory == 0 {
		t.Fatal("nothing evicted: the test proves nothing")
	}
	for _, side := range []exchange.Side{exchange.Candidate, exchange.Primary, exchange.Secondary} {
		if _, _, reason := s.begin(side, k("old"), httptest.NewRequest("POST", "/charges", nil), "/charges", time.Now()); reason != RefusedEvicted {
			t.Errorf("%s call in the evicted trace: reason %q, want %q", side, reason, RefusedEvicted)
		}
	}
	if _, _, reason := s.begin(exchange.Candidate, k("old"), httptest.NewRequest("POST", "/charges", nil), "/charges", time.Now().Add(2*time.Hour)); reason != "" {
		t.Errorf("a call after RecordTTL: refused %q, want a new record", reason)
	}
	beginT(t, s, exchange.Primary, "taken")
	s.take("taken")
	beginT(t, s, exchange.Primary, "taken") // a client's trace id, used again

	for i := range maxEvictedIDs + 10 {
		s.mu.Lock()
		s.rememberEvictedLocked("id"+strconv.Itoa(i), time.Now())
		s.mu.Unlock()
	}
	if len(s.evicted) != maxEvictedIDs || len(s.evictedIDs) != maxEvictedIDs {
		t.Errorf("%d evicted ids remembered (%d in the ring), want at most %d", len(s.evicted), len(s.evictedIDs), maxEvictedIDs)
	}
}
