package tui

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// pressAll presses keys on m in order, running each control the dashboard
// asks for and handing its result back, as the program would.
func pressAll(t *testing.T, m tea.Model, keys ...tea.KeyMsg) tea.Model {
	t.Helper()
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = m.Update(k)
		for cmd != nil {
			msg, ok := cmd().(controlMsg)
			if !ok {
				break
			}
			m, cmd = m.Update(msg)
		}
	}
	return m
}

// callsOf returns the calls a test controller has seen.
func callsOf(c Controller) []string {
	switch c := c.(type) {
	case *fakeDemo:
		return c.Calls()
	case *fakeController:
		return c.Calls()
	}
	return nil
}

// p and k act on the tab shown: on the shadow tab the proxy's mirroring,
// on the synth tab the load. A dashboard whose Controller steers only the
// load (attached to shadow demo) refuses them on the shadow tab; one that
// shows only a proxy sends them to its Controller, the proxy's.
func TestPauseAndKillActOnTheTabShown(t *testing.T) {
	t.Parallel()
	y := runes("y")
	cases := []struct {
		name   string
		ctl    func() Controller
		snaps  []Snapshot
		keys   []tea.KeyMsg
		want   []string // controller calls
		shown  []string // in the frame afterwards
		absent []string // not in the frame afterwards
	}{
		{"demo: p on the shadow tab pauses mirroring", demoCtl, bothScript(2), keys("p"),
			[]string{"pause mirroring"}, []string{"MIRRORING PAUSED", "mirroring paused; the proxy keeps serving", "p resume mirroring"}, []string{"LOAD"}},
		{"demo: p twice resumes it", demoCtl, bothScript(2), keys("p", "p"),
			[]string{"pause mirroring", "resume mirroring"}, []string{"mirroring resumed", "p pause mirroring"}, []string{"PAUSED"}},
		{"demo: p on the synth tab pauses the load", demoCtl, bothScript(2), []tea.KeyMsg{keyTab, runes("p")},
			[]string{"pause"}, []string{"LOAD PAUSED"}, []string{"MIRRORING"}},
		{"demo: both paused", demoCtl, bothScript(2), []tea.KeyMsg{runes("p"), keyTab, runes("p")},
			[]string{"pause mirroring", "pause"}, []string{"LOAD & MIRRORING PAUSED"}, nil},
		{"demo: k on the shadow tab stops mirroring", demoCtl, bothScript(2), []tea.KeyMsg{runes("k"), y},
			[]string{"stop mirroring"}, []string{"MIRRORING PAUSED", "mirroring stopped; the proxy keeps serving (p resumes)"}, nil},
		{"demo: k on the synth tab kills the load", demoCtl, bothScript(2), []tea.KeyMsg{keyTab, runes("k"), y},
			[]string{"kill"}, []string{"kill sent"}, nil},
		{"demo: a cancelled stop does nothing", demoCtl, bothScript(2), []tea.KeyMsg{runes("k"), runes("n")},
			nil, []string{"stop cancelled: mirroring goes on"}, []string{"PAUSED"}},
		{"attached to a demo: the shadow tab cannot pause mirroring", plainCtl, bothScript(2), keys("p", "k"),
			nil, []string{"mirroring cannot be paused from here: p and k on the synth tab act on the load"}, []string{"PAUSED", "y/n"}},
		{"attached to a demo: the synth tab pauses the load", plainCtl, bothScript(2), []tea.KeyMsg{keyTab, runes("p")},
			[]string{"pause"}, []string{"LOAD PAUSED"}, nil},
		{"a proxy alone: p pauses its mirroring through the Controller", plainCtl, shadowScript(2), keys("p"),
			[]string{"pause"}, []string{"MIRRORING PAUSED", "mirroring paused"}, nil},
		{"a proxy alone: k stops its mirroring through the Controller", plainCtl, shadowScript(2), []tea.KeyMsg{runes("k"), y},
			[]string{"kill"}, []string{"mirroring stopped"}, nil},
		{"a runner alone: k kills it", plainCtl, synthScript(2), []tea.KeyMsg{runes("k"), y},
			[]string{"kill"}, []string{"kill sent"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctl := tc.ctl()
			m := pressAll(t, applied(t, Options{Controller: ctl}, tc.snaps...), tc.keys...)
			if got := callsOf(ctl); !slices.Equal(got, tc.want) {
				t.Errorf("controller calls = %q, want %q", got, tc.want)
			}
			v := m.View()
			for _, s := range tc.shown {
				if !strings.Contains(v, s) {
					t.Errorf("the frame lacks %q:\n%s", s, v)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(v, s) {
					t.Errorf("the frame shows %q:\n%s", s, v)
				}
			}
		})
	}
}

// The prompt of k says what it will stop: mirroring (the proxy keeps
// serving) on the shadow tab, the run on the synth tab.
func TestKillPromptNamesWhatStops(t *testing.T) {
	t.Parallel()
	m := applied(t, Options{Controller: &fakeDemo{}}, bothScript(2)...)
	if v := pressAll(t, m, runes("k")).View(); !strings.Contains(v, "stop mirroring now? y/n (the proxy keeps serving)") {
		t.Errorf("k on the shadow tab does not ask to stop mirroring:\n%s", v)
	}
	if v := pressAll(t, m, keyTab, runes("k")).View(); !strings.Contains(v, "kill the run now? y/n") {
		t.Errorf("k on the synth tab does not ask to kill the run:\n%s", v)
	}
}

// The rate keys change the load from the synth tab; the sample keys the
// proxy from the shadow tab. Pressed on the other tab, they say where to
// go and ask nothing.
func TestTabKeysStayOnTheirTab(t *testing.T) {
	t.Parallel()
	snap := bothScript(1)[0]
	snap.Shadow.Tuning = tuningFixture()
	cases := []struct {
		keys []tea.KeyMsg
		want string
	}{
		{keys("+"), "the rate is the synthetic load's: press tab for the synth view to change it"},
		{[]tea.KeyMsg{keyTab, runes("]")}, "the sample is the proxy's: press tab for the shadow view to change it"},
	}
	for _, tc := range cases {
		c := &fakeDemo{}
		m := pressAll(t, applied(t, Options{Controller: c}, snap), tc.keys...)
		if got := c.Calls(); len(got) != 0 {
			t.Errorf("keys %v: controller calls = %q, want none", tc.keys, got)
		}
		if v := m.View(); !strings.Contains(v, tc.want) {
			t.Errorf("keys %v: the status does not say %q:\n%s", tc.keys, tc.want, v)
		}
	}
}

// - returns to the rate the run started at, whatever + did, with the
// demo's figures (20/s, ceiling 500/s: a step of 50/s).
func TestRateKeysReturnToTheStartingRate(t *testing.T) {
	t.Parallel()
	inst := &fakeInstance{rate: 20, ceiling: 500}
	tm := startInstance(t, inst, Options{})
	for i, k := range []string{"+", "+", "-", "-", "-"} {
		tm.Send(runes(k))
		waitCalls(t, inst, i+1) // one at a time: queued rates would merge
	}
	got := inst.Calls()
	if want := []string{"rate 70", "rate 120", "rate 70", "rate 20", "rate 20"}; !slices.Equal(got, want) {
		t.Fatalf("controller calls = %q, want %q", got, want)
	}
}

func demoCtl() Controller  { return &fakeDemo{} }
func plainCtl() Controller { return &fakeController{} }

// keys returns the presses of typing each of ss.
func keys(ss ...string) []tea.KeyMsg {
	out := make([]tea.KeyMsg, len(ss))
	for i, s := range ss {
		out[i] = runes(s)
	}
	return out
}
