package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/understudy-dev/understudy/internal/testio"
)

// TestGoldenFrames drives the dashboard with teatest through scripted
// snapshots and keys, and compares its last frame with
// testdata/TestGoldenFrames/<view>/<size>.golden (go test -update rewrites
// them).
func TestGoldenFrames(t *testing.T) {
	t.Parallel()
	tripped := synthScript(30)
	last := *tripped[len(tripped)-1].Synth
	last.Guardrail = Guardrail{State: GuardrailTripped, Reason: "error rate 9.4% > 5% over 30s"}
	last.Result, last.Done = "aborted", true
	tripped = append(tripped, Snapshot{Time: tripped[len(tripped)-1].Time.Add(1e9), Synth: &last})

	justStarted := []Snapshot{{
		Time:   t0,
		Shadow: &ShadowSnapshot{Primary: "http://127.0.0.1:8081", Candidate: "http://127.0.0.1:8082", Started: t0},
		Synth:  &SynthSnapshot{Scenario: "checkout", RunID: "run-1", Target: "http://127.0.0.1:8081", TargetRate: 5, Ceiling: 50},
	}}
	cases := []struct {
		name   string
		script []Snapshot
		keys   []tea.KeyMsg
		opts   Options
		// demo, when set, steers the load and the mirroring apart (and
		// the snapshots show what it paused), as in shadow demo; wait is
		// what the frame shows once the keys have taken effect.
		demo bool
		wait string
	}{
		{name: "shadow_overview", script: shadowScript(30)},
		{name: "shadow_sorted_by_pairs", script: shadowScript(30), keys: []tea.KeyMsg{runes("s"), keyDown}},
		{name: "endpoint_fields", script: shadowScript(30), keys: []tea.KeyMsg{keyEnter}},
		{name: "exemplar_diff", script: shadowScript(30), keys: []tea.KeyMsg{keyEnter, keyEnter}},
		{name: "exemplar_scrolled", script: shadowScript(30), keys: []tea.KeyMsg{keyEnter, keyEnter, keyPgDn}},
		{name: "exemplar_back", script: shadowScript(30), keys: []tea.KeyMsg{keyEnter, keyEnter, keyEsc}},
		{name: "synth", script: synthScript(30)},
		{name: "synth_tripped", script: tripped},
		{name: "both_tabs", script: bothScript(30), demo: true},
		{name: "both_tabs_synth", script: bothScript(30), keys: []tea.KeyMsg{keyTab}, demo: true},
		{name: "full_help", script: bothScript(30), keys: []tea.KeyMsg{runes("?")}, demo: true},
		// Attached to shadow demo, the dashboard has the load's Controller
		// only: the shadow tab offers no pause or kill.
		{name: "full_help_attached_demo", script: bothScript(30), keys: []tea.KeyMsg{runes("?")}},
		{name: "just_started", script: justStarted, demo: true},
		{name: "just_started_synth", script: justStarted, keys: []tea.KeyMsg{keyTab}, demo: true},
		{name: "shadow_tuned", script: tunedScript(30)},
		{name: "mirror_routes", script: tunedScript(30), keys: []tea.KeyMsg{runes("r"), keyDown}},
		{name: "full_help_tuned", script: tunedScript(30), keys: []tea.KeyMsg{runes("?")}},
		{name: "read_only", script: synthScript(3), opts: Options{Title: "synth attach"}, keys: []tea.KeyMsg{runes("p")}},
		// p and k act on the tab shown: mirroring on the shadow tab, the
		// load on the synth tab; a pause and a resume leave the frame as
		// it was (both_tabs), but for the status line.
		{name: "pause_mirroring", script: bothScript(30), demo: true, keys: []tea.KeyMsg{runes("p")}, wait: "mirroring paused;"},
		{name: "pause_load", script: bothScript(30), demo: true, keys: []tea.KeyMsg{keyTab, runes("p")}, wait: "paused · updated"},
		{name: "pause_both", script: bothScript(30), demo: true, keys: []tea.KeyMsg{runes("p"), keyTab, runes("p")}, wait: "paused · updated"},
		{name: "pause_resume", script: bothScript(30), demo: true, keys: []tea.KeyMsg{runes("p"), runes("p")}, wait: "mirroring resumed"},
		{name: "stop_mirroring_prompt", script: bothScript(30), demo: true, keys: []tea.KeyMsg{runes("k")}, wait: "stop mirroring now?"},
		{name: "full_help_fields", script: shadowScript(30), keys: []tea.KeyMsg{keyEnter, runes("?")}},
		{name: "shadow_candidates", script: candidatesScript(30)},
	}
	for _, tc := range cases {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			t.Run(fmt.Sprintf("%s/%dx%d", tc.name, size[0], size[1]), func(t *testing.T) {
				t.Parallel()
				opts := tc.opts
				src := newFakeSource(tc.script...)
				switch {
				case tc.demo:
					demo := &fakeDemo{}
					src.overlay = demo.overlay
					opts.Controller = demo
				case opts.Title == "":
					opts.Controller = &fakeController{}
				}
				tm := startScripted(t, src, opts, size[0], size[1])
				for _, k := range tc.keys {
					tm.Send(k)
				}
				if tc.wait != "" {
					waitOutput(t, tm, tc.wait)
					// A snapshot taken after the controls took effect is
					// shown once the source has answered the call after.
					n := src.served()
					testio.Eventually(t, "a snapshot after the controls", func() bool { return src.served() >= n+2 })
				}
				got := finalView(t, tm)
				lines := strings.Split(got, "\n")
				if len(lines) != size[1] {
					t.Errorf("frame has %d lines, want %d", len(lines), size[1])
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > size[0] {
						t.Errorf("line %d is %d cells wide, want at most %d: %q", i+1, w, size[0], l)
					}
				}
				golden.RequireEqual(t, []byte(got))
			})
		}
	}
}

// A pause and a resume leave the frame as it was before them, line for
// line, but for the status line that tells what was done: no line shifts
// and none is left over.
func TestPauseAndResumeLeaveTheFrameAsItWas(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			t.Parallel()
			frame := func(keys ...tea.KeyMsg) []string {
				demo := &fakeDemo{}
				src := newFakeSource(bothScript(30)...)
				src.overlay = demo.overlay
				tm := startScripted(t, src, Options{Controller: demo}, size[0], size[1])
				for _, k := range keys {
					tm.Send(k)
				}
				if len(keys) > 0 {
					waitOutput(t, tm, "mirroring resumed")
					n := src.served()
					testio.Eventually(t, "a snapshot after the controls", func() bool { return src.served() >= n+2 })
				}
				return strings.Split(finalView(t, tm), "\n")
			}
			before, after := frame(), frame(runes("p"), runes("p"))
			if len(before) != size[1] || len(after) != size[1] {
				t.Fatalf("frames have %d and %d lines, want %d", len(before), len(after), size[1])
			}
			for i := range before {
				if strings.Contains(before[i], "updated ") {
					if !strings.HasPrefix(after[i], "mirroring resumed · updated ") {
						t.Errorf("line %d after = %q, want the status line saying mirroring resumed", i+1, after[i])
					}
					continue
				}
				if before[i] != after[i] {
					t.Errorf("line %d differs after a pause and a resume:\nbefore %q\nafter  %q", i+1, before[i], after[i])
				}
			}
		})
	}
}
