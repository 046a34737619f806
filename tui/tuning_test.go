package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/understudy-dev/understudy/internal/testio"
)

// tunedSnap returns a proxy's snapshot reporting percent as its sample
// share, with tuningFixture's routes.
func tunedSnap(percent float64) Snapshot {
	s := shadowAt(0)
	s.Tuning = tuningFixture()
	s.Tuning.SamplePercent = percent
	return Snapshot{Time: t0, Shadow: s}
}

// press sends one key to m and returns the dashboard and the command it
// asked for.
func press(m tea.Model, k tea.KeyMsg) (tea.Model, tea.Cmd) { return m.Update(k) }

// finish runs cmd (a Controller call) and hands its result back to m.
func finish(t *testing.T, m tea.Model, cmd tea.Cmd) tea.Model {
	t.Helper()
	msg, ok := cmd().(controlMsg)
	if !ok {
		t.Fatalf("the command did not call the controller")
	}
	m, _ = m.Update(msg)
	return m
}

func TestSampleKeysStepWithinBounds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		from   float64
		key    string
		want   []string // controller calls
		shown  string   // in the view as soon as the key is pressed
		status string   // once the call is done
	}{
		{"down from all", 100, "[", []string{"sample 90"}, "sample 90% by header:X-User-Id", "sample set to 90% (was 100%)"},
		{"up", 50, "]", []string{"sample 60"}, "sample 60%", "sample set to 60% (was 50%)"},
		{"up stops at 100", 95, "]", []string{"sample 100"}, "sample 100%", "sample set to 100% (was 95%)"},
		{"down stops at 0", 5, "[", []string{"sample 0"}, "sample 0% by header:X-User-Id (nothing mirrored)", "sample set to 0% (was 5%)"},
		{"a share set elsewhere keeps its decimals", 33.3, "]", []string{"sample 43.3"}, "sample 43.3%", "sample set to 43.3% (was 33.3%)"},
		{"up at 100 asks nothing", 100, "]", nil, "sample 100%", "sample already at 100%"},
		{"down at 0 asks nothing", 0, "[", nil, "sample 0%", "sample already at 0%"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &fakeController{}
			var m tea.Model = applied(t, Options{Controller: c}, tunedSnap(tc.from))
			m, cmd := press(m, runes(tc.key))
			if !contains(m.View(), tc.shown) {
				t.Errorf("right after %q the view does not show %q:\n%s", tc.key, tc.shown, m.View())
			}
			if cmd != nil {
				m = finish(t, m, cmd)
			}
			if got := c.Calls(); !slices.Equal(got, tc.want) {
				t.Errorf("controller calls = %q, want %q", got, tc.want)
			}
			if !contains(m.View(), tc.status) || !contains(m.View(), tc.shown) {
				t.Errorf("after the call the view lacks %q or %q:\n%s", tc.status, tc.shown, m.View())
			}
		})
	}
}

// A snapshot taken while a sample change is on its way still has the old
// share; the dashboard keeps showing the new one.
func TestSnapshotsDoNotUndoAPendingSample(t *testing.T) {
	t.Parallel()
	c := &fakeController{}
	var m tea.Model = applied(t, Options{Controller: c}, tunedSnap(50))
	m, cmd := press(m, runes("["))
	m, _ = m.Update(snapshotMsg{seq: 2, snap: tunedSnap(50)})
	if v := m.View(); !contains(v, "sample 40%") {
		t.Fatalf("a stale snapshot undid the pending sample:\n%s", v)
	}
	m = finish(t, m, cmd)
	m, _ = m.Update(snapshotMsg{seq: 3, snap: tunedSnap(40)})
	if v := m.View(); !contains(v, "sample 40%") || !contains(v, "sample set to 40% (was 50%)") {
		t.Fatalf("after the change and a fresh snapshot:\n%s", v)
	}
}

// A failed change says why and shows the proxy's share again.
func TestTuningErrorsRevert(t *testing.T) {
	t.Parallel()
	c := &fakeController{tuneErr: errors.New("admin POST http://127.0.0.1:9090/control: 500 Internal Server Error: boom")}
	var m tea.Model = applied(t, Options{Controller: c}, tunedSnap(50))
	m, cmd := press(m, runes("["))
	if !contains(m.View(), "sample 40%") {
		t.Fatalf("the new share is not shown at once:\n%s", m.View())
	}
	m = finish(t, m, cmd)
	v := m.View()
	if !contains(v, "set sample failed: admin POST http://127.0.0.1:9090/control: 500") {
		t.Errorf("status does not show the error:\n%s", v)
	}
	if !contains(v, "sample 50%") {
		t.Errorf("after a failed change the view does not show the proxy's share again:\n%s", v)
	}

	m, _ = press(m, runes("r"))
	m, cmd = press(m, keySpace) // create-order, on: switch it off
	if !contains(m.View(), "no (off) create-order") {
		t.Fatalf("the switch is not shown at once:\n%s", m.View())
	}
	m = finish(t, m, cmd)
	if v := m.View(); !contains(v, "switch route failed: admin POST") || !contains(v, "yes      create-order") {
		t.Errorf("after a failed switch:\n%s", v)
	}
}

func TestTuningRefusals(t *testing.T) {
	t.Parallel()
	untuned := Snapshot{Time: t0, Shadow: shadowAt(0)}
	noRoutes := tunedSnap(100)
	noRoutes.Shadow.Tuning.Routes = nil
	cases := []struct {
		name string
		ctl  Controller
		snap Snapshot
		keys []tea.KeyMsg
		want string
	}{
		{"read-only", nil, tunedSnap(50), []tea.KeyMsg{runes("[")}, "read-only: this dashboard has no controls"},
		{"no proxy", &fakeController{}, Snapshot{Time: t0, Synth: synthAt(0)}, []tea.KeyMsg{runes("]")}, "no sample to change: no proxy runs"},
		{"tuning not reported", &fakeController{}, untuned, []tea.KeyMsg{runes("[")}, "does not report its sample and routes"},
		{"routes not reported", &fakeController{}, untuned, []tea.KeyMsg{runes("r")}, "no routes to show: this proxy does not report them"},
		{"controller cannot tune", notTuner{&fakeController{}}, tunedSnap(50), []tea.KeyMsg{runes("[")}, "this dashboard cannot tune the proxy"},
		{"controller cannot switch", notTuner{&fakeController{}}, tunedSnap(50), []tea.KeyMsg{runes("r"), keySpace}, "this dashboard cannot tune the proxy"},
		{"no routes configured", &fakeController{}, noRoutes, []tea.KeyMsg{runes("r"), keySpace}, "no route to switch: none is configured"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var m tea.Model = applied(t, Options{Controller: tc.ctl}, tc.snap)
			var cmd tea.Cmd
			for _, k := range tc.keys {
				m, cmd = press(m, k)
				if cmd != nil {
					t.Fatalf("key %v asked for a control", k)
				}
			}
			if v := m.View(); !contains(v, tc.want) {
				t.Errorf("status does not say %q:\n%s", tc.want, v)
			}
			if v := m.View(); contains(v, "sample -10%") {
				t.Errorf("help offers the sample keys that do not work:\n%s", v)
			}
		})
	}
}

// startProxy runs the dashboard on p and returns once a snapshot has been
// applied.
func startProxy(t *testing.T, p *fakeProxy) *teatest.TestModel {
	t.Helper()
	tm := teatest.NewTestModel(t, New(p.source(), Options{Controller: p, Interval: testInterval}), teatest.WithInitialTermSize(100, 30))
	testio.Eventually(t, "the first snapshot", func() bool { return p.servedCount() >= 2 })
	t.Cleanup(func() {
		_ = tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(waitTimeout))
	})
	return tm
}

// Pressed faster than the proxy answers, the shares it is sent only go
// down, and it ends where the dashboard says.
func TestSamplePressesReachTheProxyInOrder(t *testing.T) {
	t.Parallel()
	p := &fakeProxy{tuning: Tuning{SamplePercent: 100}}
	tm := startProxy(t, p)
	for range 5 {
		tm.Send(runes("["))
	}
	testio.Eventually(t, "the share to reach 50", func() bool {
		c := p.Calls()
		return len(c) > 0 && c[len(c)-1] == "sample 50"
	})
	waitOutput(t, tm, "sample set to 50% (was ") // from whichever share was pressed before it
	last := 101.0
	for _, c := range p.Calls() {
		var v float64
		if _, err := fmt.Sscanf(c, "sample %g", &v); err != nil || v >= last {
			t.Fatalf("calls went %q: out of order", p.Calls())
		}
		last = v
	}
}

// The new share shows before a slow proxy has even been asked: the fake
// holds every call at its gate until the dashboard has drawn it.
func TestSampleShowsBeforeASlowProxyAnswers(t *testing.T) {
	t.Parallel()
	p := &fakeProxy{tuning: Tuning{SamplePercent: 100}, gate: make(chan struct{})}
	tm := startProxy(t, p)
	tm.Send(runes("["))
	waitOutput(t, tm, "sample 90%")
	if c := p.Calls(); len(c) != 0 {
		t.Fatalf("the proxy was asked before the gate opened: %q", c)
	}
	close(p.gate)
	waitOutput(t, tm, "sample set to 90% (was 100%)")
	if got, want := p.Calls(), []string{"sample 90"}; !slices.Equal(got, want) {
		t.Fatalf("calls = %q, want %q", got, want)
	}
}

func TestRouteSwitchesFromThePicker(t *testing.T) {
	t.Parallel()
	p := &fakeProxy{tuning: *tuningFixture()}
	tm := startProxy(t, p)
	tm.Send(runes("r"))
	waitOutput(t, tm, "MIRROR ROUTES")
	tm.Send(keyDown)  // cancel-order, off
	tm.Send(keySpace) // on again
	waitOutput(t, tm, "route cancel-order switched on: mirrored again")
	tm.Send(keyUp)
	tm.Send(keyEnter) // create-order off
	waitOutput(t, tm, "route create-order switched off: not mirrored")
	if got, want := p.Calls(), []string{"route cancel-order on", "route create-order off"}; !slices.Equal(got, want) {
		t.Fatalf("calls = %q, want %q", got, want)
	}
	tm.Send(keyEsc)
	waitOutput(t, tm, "route off: create-order") // the overview's sample line
}

func TestTuningLine(t *testing.T) {
	t.Parallel()
	two := tuningFixture()
	two.Routes[0].Disabled = true
	cases := []struct {
		name   string
		tuning *Tuning
		want   string // the line under the counters; "" for none
	}{
		{"not reported", nil, ""},
		{"all on", &Tuning{SamplePercent: 100, Routes: []MirrorRoute{{Name: "a"}, {Name: "b"}}}, "sample 100% · routes all on (2)"},
		{"no routes", &Tuning{SamplePercent: 12.5}, "sample 12.5%"},
		{"one off", tuningFixture(), "sample 50% by header:X-User-Id · route off: cancel-order"},
		{"two off", two, "sample 50% by header:X-User-Id · routes off: create-order, cancel-order"},
		{"none mirrored", &Tuning{}, "sample 0% (nothing mirrored)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := NewShadowView(DefaultStyles())
			v.SetSize(120, 30)
			s := shadowAt(0)
			s.Tuning = tc.tuning
			v.SetSnapshot(t0, *s)
			lines := strings.Split(v.View(), "\n")
			got := lines[2]
			if tc.want == "" {
				if !strings.HasPrefix(strings.TrimSpace(got), "METHOD") {
					t.Errorf("without tuning, line 3 is %q, want the table's header", got)
				}
				return
			}
			if got != tc.want {
				t.Errorf("line 3 = %q, want %q", got, tc.want)
			}
		})
	}
}
