package tui

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/understudy-dev/understudy/internal/testio"
)

// startInstance runs the dashboard on inst and returns once a snapshot has
// been applied (the second call is only made after the first answer).
func startInstance(t *testing.T, inst *fakeInstance, opts Options) *teatest.TestModel {
	t.Helper()
	opts.Controller = inst
	if opts.Interval == 0 {
		opts.Interval = testInterval
	}
	tm := teatest.NewTestModel(t, New(inst.source(), opts), teatest.WithInitialTermSize(80, 24))
	testio.Eventually(t, "the first snapshot", func() bool { return inst.servedCount() >= 2 })
	t.Cleanup(func() {
		_ = tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(waitTimeout))
	})
	return tm
}

// waitCalls waits until the controller has seen n calls and returns them.
func waitCalls(t *testing.T, inst *fakeInstance, n int) []string {
	t.Helper()
	testio.Eventually(t, fmt.Sprintf("%d controller calls", n), func() bool { return len(inst.Calls()) >= n })
	return inst.Calls()
}

// waitOutput waits until the program has drawn s.
func waitOutput(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
		teatest.WithDuration(waitTimeout), teatest.WithCheckInterval(time.Millisecond))
}

func TestPauseTogglesWithTheInstanceState(t *testing.T) {
	t.Parallel()
	inst := &fakeInstance{rate: 50, ceiling: 60}
	tm := startInstance(t, inst, Options{})
	tm.Send(runes("p"))
	waitCalls(t, inst, 1)
	waitOutput(t, tm, "PAUSED")
	tm.Send(runes("p"))
	got := waitCalls(t, inst, 2)
	want := []string{"pause", "resume"}
	if !slices.Equal(got, want) {
		t.Fatalf("controller calls = %q, want %q", got, want)
	}
}

func TestRateKeysClampToTheCeiling(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		rate    float64
		ceiling float64
		step    float64
		keys    string
		want    []string
	}{
		{name: "up by a tenth of the ceiling", rate: 50, ceiling: 60, keys: "+", want: []string{"rate 56"}},
		{name: "up stops at the ceiling", rate: 56, ceiling: 60, keys: "+", want: []string{"rate 60"}},
		{name: "up at the ceiling stays there", rate: 60, ceiling: 60, keys: "+", want: []string{"rate 60"}},

		{name: "configured step", rate: 50, ceiling: 60, step: 25, keys: "+", want: []string{"rate 60"}},
		{name: "down", rate: 50, ceiling: 60, keys: "-", want: []string{"rate 44"}},
		{name: "down never reaches zero", rate: 6, ceiling: 60, keys: "-", want: []string{"rate 6"}},
		{name: "above a lowered ceiling, up clamps down to it", rate: 80, ceiling: 60, keys: "=", want: []string{"rate 60"}},
		{name: "no ceiling: a tenth of the rate", rate: 50, keys: "+", want: []string{"rate 55"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inst := &fakeInstance{rate: tc.rate, ceiling: tc.ceiling}
			tm := startInstance(t, inst, Options{RateStep: tc.step})
			for _, r := range tc.keys {
				tm.Send(runes(string(r)))
			}
			got := waitCalls(t, inst, len(tc.want))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("controller calls = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRatePressesReachTheInstanceInOrder presses + faster than the
// instance answers: the rates it sees never go down, never pass the
// ceiling, and end where the dashboard says (a rate queued behind another
// may be replaced by the newer one).
func TestRatePressesReachTheInstanceInOrder(t *testing.T) {
	t.Parallel()
	inst := &fakeInstance{rate: 20, ceiling: 60}
	tm := startInstance(t, inst, Options{})
	for range 10 {
		tm.Send(runes("+"))
	}
	t.Cleanup(func() { t.Log(inst.Calls()) })
	testio.Eventually(t, "the rate to reach the ceiling", func() bool {
		c := inst.Calls()
		return len(c) > 0 && c[len(c)-1] == "rate 60"
	})
	waitOutput(t, tm, "at ceiling")
	calls := inst.Calls()
	last := 0.0
	for _, c := range calls {
		var r float64
		if _, err := fmt.Sscanf(c, "rate %g", &r); err != nil {
			t.Fatalf("unexpected call %q", c)
		}
		if r < last || r > 60 {
			t.Fatalf("rates went %q: out of order or above the ceiling", calls)
		}
		last = r
	}
}

func TestRateShowsTheAppliedRate(t *testing.T) {
	t.Parallel()
	inst := &fakeInstance{rate: 50, ceiling: 60, applyCap: 55}
	tm := startInstance(t, inst, Options{})
	tm.Send(runes("+"))
	waitOutput(t, tm, "rate set to 55.0/s (asked 56.0/s)")
}

func TestKillNeedsConfirmation(t *testing.T) {
	t.Parallel()
	inst := &fakeInstance{rate: 50, ceiling: 60}
	tm := startInstance(t, inst, Options{})
	tm.Send(runes("k"))
	waitOutput(t, tm, "kill the run now? y/n")
	tm.Send(runes("p")) // ignored while the prompt waits
	tm.Send(runes("n"))
	waitOutput(t, tm, "kill cancelled")
	tm.Send(runes("k"))
	tm.Send(runes("y"))
	got := waitCalls(t, inst, 1)
	waitOutput(t, tm, "kill sent")
	// Controls run in order of the keys; a kill or pause from the
	// cancelled prompt would show up before or with this one.
	if want := []string{"kill"}; !slices.Equal(got, want) {
		t.Fatalf("controller calls = %q, want %q", got, want)
	}
}

// Keys that reach the program in one read arrive as one message with
// several runes; each must still act as its own key press.
func TestKeysArrivingTogether(t *testing.T) {
	t.Parallel()
	inst := &fakeInstance{rate: 50, ceiling: 60}
	tm := startInstance(t, inst, Options{})
	tm.Send(runes("k"))
	waitOutput(t, tm, "kill the run now? y/n")
	tm.Send(runes("np")) // cancel, then pause
	if got, want := waitCalls(t, inst, 1), []string{"pause"}; !slices.Equal(got, want) {
		t.Fatalf("controller calls = %q, want %q", got, want)
	}
	tm.Send(runes("pq")) // resume, then quit
	tm.WaitFinished(t, teatest.WithFinalTimeout(waitTimeout))
	if got, want := inst.Calls(), []string{"pause", "resume"}; !slices.Equal(got, want) {
		t.Errorf("controller calls = %q, want %q", got, want)
	}
}

func TestQuitKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		keys []tea.KeyMsg
	}{
		{"q", []tea.KeyMsg{runes("q")}},
		{"ctrl+c", []tea.KeyMsg{keyCtrlC}},
		{"ctrl+c at the kill prompt", []tea.KeyMsg{runes("k"), keyCtrlC}},
		{"q in a drill-down", []tea.KeyMsg{keyEnter, keyEnter, runes("q")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := newFakeSource(bothScript(2)...)
			tm := startScripted(t, src, Options{Controller: &fakeController{}}, 80, 24)
			for _, k := range tc.keys {
				tm.Send(k)
			}
			tm.WaitFinished(t, teatest.WithFinalTimeout(waitTimeout))
		})
	}
}

func TestReadOnlyRefusesControls(t *testing.T) {
	t.Parallel()
	m := applied(t, Options{}, synthScript(1)...)
	for _, k := range []string{"p", "+", "-", "k"} {
		next, cmd := m.Update(runes(k))
		if cmd != nil {
			t.Errorf("key %q returned a command; a read-only dashboard must not act", k)
		}
		v := next.(Model).View()
		if !contains(v, "read-only: this dashboard has no controls") {
			t.Errorf("key %q: status does not say read-only:\n%s", k, v)
		}
		if contains(v, "y/n") {
			t.Errorf("key %q: read-only dashboard prompts:\n%s", k, v)
		}
	}
}

func TestRateKeysWithoutARunner(t *testing.T) {
	t.Parallel()
	c := &fakeController{}
	m := applied(t, Options{Controller: c}, shadowScript(1)...)
	next, cmd := m.Update(runes("+"))
	if cmd != nil {
		t.Fatal("+ returned a command with no runner to change")
	}
	if v := next.(Model).View(); !contains(v, "no rate to change") {
		t.Fatalf("status does not explain:\n%s", v)
	}
}

func TestControlErrorsShowInTheStatusBar(t *testing.T) {
	t.Parallel()
	c := &fakeController{rateErr: fmt.Errorf("admin: 409 rate above ceiling")}
	m := applied(t, Options{Controller: c}, synthScript(1)...)
	next, cmd := m.Update(runes("+"))
	if cmd == nil {
		t.Fatal("+ returned no command")
	}
	next, _ = next.Update(cmd())
	v := next.(Model).View()
	if !contains(v, "set rate failed: admin: 409 rate above ceiling") {
		t.Fatalf("status does not show the error:\n%s", v)
	}
	if got := next.(Model).rate; got != synthAt(0).TargetRate {
		t.Fatalf("rate after a failed set = %v, want the snapshot's %v", got, synthAt(0).TargetRate)
	}
}
