package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
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
	}{
		{name: "shadow_overview", script: shadowScript(30)},
		{name: "shadow_sorted_by_pairs", script: shadowScript(30), keys: []tea.KeyMsg{runes("s"), keyDown}},
		{name: "endpoint_fields", script: shadowScript(30), keys: []tea.KeyMsg{keyEnter}},
		{name: "exemplar_diff", script: shadowScript(30), keys: []tea.KeyMsg{keyEnter, keyEnter}},
		{name: "exemplar_scrolled", script: shadowScript(30), keys: []tea.KeyMsg{keyEnter, keyEnter, keyPgDn}},
		{name: "exemplar_back", script: shadowScript(30), keys: []tea.KeyMsg{keyEnter, keyEnter, keyEsc}},
		{name: "synth", script: synthScript(30)},
		{name: "synth_tripped", script: tripped},
		{name: "both_tabs", script: bothScript(30)},
		{name: "both_tabs_synth", script: bothScript(30), keys: []tea.KeyMsg{keyTab}},
		{name: "full_help", script: bothScript(30), keys: []tea.KeyMsg{runes("?")}},
		{name: "just_started", script: justStarted},
		{name: "just_started_synth", script: justStarted, keys: []tea.KeyMsg{keyTab}},
		{name: "shadow_tuned", script: tunedScript(30)},
		{name: "mirror_routes", script: tunedScript(30), keys: []tea.KeyMsg{runes("r"), keyDown}},
		{name: "full_help_tuned", script: tunedScript(30), keys: []tea.KeyMsg{runes("?")}},
		{name: "read_only", script: synthScript(3), opts: Options{Title: "synth attach"}, keys: []tea.KeyMsg{runes("p")}},
	}
	for _, tc := range cases {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			t.Run(fmt.Sprintf("%s/%dx%d", tc.name, size[0], size[1]), func(t *testing.T) {
				t.Parallel()
				opts := tc.opts
				if opts.Title == "" {
					opts.Controller = &fakeController{}
				}
				tm := startScripted(t, newFakeSource(tc.script...), opts, size[0], size[1])
				for _, k := range tc.keys {
					tm.Send(k)
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
