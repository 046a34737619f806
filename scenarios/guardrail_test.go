package scenarios

import (
	"strings"
	"testing"
	"time"
)

func TestGuardrailNeedsASustainedBreach(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	g := newGuardrail(Guardrails{MaxErrorRate: 0.1, MaxP99: 100 * time.Millisecond, Window: 2 * time.Second, MinSamples: 10})
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	// Five failures: above the rate, below the sample floor.
	for range 5 {
		g.record(at(0), time.Millisecond, true)
	}
	if got := g.check(at(100 * time.Millisecond)); got != "" || g.snapshot(t0).Breaching {
		t.Fatalf("below min_samples: %q, breaching %v; want nothing", got, g.snapshot(t0).Breaching)
	}
	for range 5 {
		g.record(at(200*time.Millisecond), time.Millisecond, true)
	}
	if got := g.check(at(300 * time.Millisecond)); got != "" || !g.snapshot(t0).Breaching {
		t.Fatalf("breach just began: %q, breaching %v; want breaching but no abort yet", got, g.snapshot(t0).Breaching)
	}
	if got := g.check(at(2 * time.Second)); got != "" {
		t.Fatalf("breach for 1.7s of a 2s window: %q, want no abort yet", got)
	}
	got := g.check(at(2300 * time.Millisecond))
	want := "guardrail: error rate 100.0% (10 of 10 requests in the last 2s) is above max_error_rate 10.0%, sustained for 2s"
	if got != want {
		t.Fatalf("after 2s of breach: %q, want %q", got, want)
	}
}

func TestGuardrailRecoveryResets(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	g := newGuardrail(Guardrails{MaxP99: 100 * time.Millisecond, Window: time.Second, MinSamples: 1})
	g.record(t0, time.Second, false)
	if g.check(t0); !g.snapshot(t0).Breaching {
		t.Fatal("a slow request did not breach max_p99")
	}
	// Two seconds on, the slow request has left the window: recovered.
	later := t0.Add(2 * time.Second)
	g.record(later, time.Millisecond, false)
	if got := g.check(later); got != "" || g.snapshot(t0).Breaching {
		t.Fatalf("after recovery: %q, breaching %v; want neither", got, g.snapshot(t0).Breaching)
	}
	g.record(later.Add(100*time.Millisecond), 2*time.Second, false)
	g.check(later.Add(200 * time.Millisecond))
	if got := g.check(later.Add(1300 * time.Millisecond)); !strings.Contains(got, "p99 latency") {
		t.Errorf("a new sustained breach: %q, want a p99 abort (the clock restarted at the new breach)", got)
	}
}

func TestGuardrailDisabled(t *testing.T) {
	t.Parallel()
	g := newGuardrail(Guardrails{})
	now := time.Unix(1_700_000_000, 0)
	for range 100 {
		g.record(now, time.Minute, true)
	}
	for i := range 30 {
		if got := g.check(now.Add(time.Duration(i) * time.Second / 2)); got != "" {
			t.Fatalf("disabled guardrail aborted: %q", got)
		}
	}
	st := g.snapshot(now.Add(time.Second))
	if st.Enabled {
		t.Error("zero Guardrails reports enabled")
	}
	// The window is still read, when a snapshot asks for it.
	if st.Window.Count != 100 || st.Window.Failures != 100 || st.Window.P99 < time.Minute || st.Window.P99 > 61*time.Second {
		t.Errorf("disabled guardrail's window = %+v, want the 100 failed requests of a minute", st.Window)
	}
}
