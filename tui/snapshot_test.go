package tui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/google/go-cmp/cmp"
)

// TestSnapshotJSON pins the wire format the admin endpoint serves and
// attach mode decodes (testdata/TestSnapshotJSON.golden), and proves it
// round-trips.
func TestSnapshotJSON(t *testing.T) {
	t.Parallel()
	s := bothScript(1)[0]
	s.Shadow.Endpoints = s.Shadow.Endpoints[:1]
	s.Synth.Steps = s.Synth.Steps[:1]
	s.Shadow.Tuning = tuningFixture()
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	golden.RequireEqual(t, append(out, '\n'))
	var back Snapshot
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if diff := cmp.Diff(s, back); diff != "" {
		t.Errorf("round trip changed the snapshot (-sent +decoded):\n%s", diff)
	}
}

// FuzzRenderSnapshot feeds the dashboard any snapshot a remote instance
// could send and checks every frame keeps its shape and carries no
// control sequence (the test profile has no colour, so any ESC would come
// from the data).
func FuzzRenderSnapshot(f *testing.F) {
	for _, s := range []Snapshot{bothScript(1)[0], {}, {Shadow: &ShadowSnapshot{}}, {Synth: &SynthSnapshot{}}} {
		b, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"time":"2025-03-14T12:00:00Z","synth":{"target_rate":1e308,"achieved_rate":-5,"progress":1e300,"elapsed":-9223372036854775808,"duration":9223372036854775807,"status_codes":{"\u001b[31m":1}}}`))
	f.Add([]byte(`{"shadow":{"endpoints":[{"method":"\u001b]0;pwned\u0007","route":"\u009b2J","diff_rate":-1e309,"primary_p99":-1,"exemplars":[{"url":"/\n\r\t","primary_body":"\u001b[2J","differences":[{"path":"\u001b","kind":"?"}]}]}]}}`))
	f.Add([]byte(`{"time":"0001-01-01T00:00:00Z","shadow":{"started":"9999-12-31T23:59:59Z","queue_size":-1}}`))
	f.Add([]byte(`{"shadow":{"tuning":{"sample_percent":-1e308,"sample_by":"\u001b[2J","routes":[{"name":"\u001b]0;x\u0007\n","disabled":true},{"name":""}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Snapshot
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		if s.Time.IsZero() {
			s.Time = t0
		}
		later := s
		later.Time = s.Time.Add(time.Second)
		for _, size := range [][2]int{{80, 24}, {30, 8}} {
			var m tea.Model = New(nil, Options{Controller: &fakeController{}})
			m, _ = m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			m, _ = m.Update(snapshotMsg{seq: 1, snap: s})
			m, _ = m.Update(snapshotMsg{seq: 2, snap: later})
			checkFrame(t, m.View(), size[0], size[1])
			for _, keys := range [][]tea.KeyMsg{
				{runes("s"), keyEnter, keyDown, keyEnter, keyPgDn, keyTab, runes("+")},
				{runes("r"), keyDown, keySpace, runes("["), runes("]"), keyEsc},
			} {
				m := m
				for _, k := range keys {
					m, _ = m.Update(k)
					checkFrame(t, m.View(), size[0], size[1])
				}
			}
		}
		if p := Plain(s); strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f }) {
			t.Errorf("Plain() carries control characters: %q", p)
		}
	})
}

// checkFrame fails the test unless frame is h lines of at most w cells
// with no escape character.
func checkFrame(t *testing.T, frame string, w, h int) {
	t.Helper()
	lines := strings.Split(frame, "\n")
	if len(lines) != h {
		t.Fatalf("frame has %d lines, want %d:\n%s", len(lines), h, frame)
	}
	for i, l := range lines {
		if cw := ansi.StringWidth(l); cw > w {
			t.Fatalf("line %d is %d cells wide, want at most %d: %q", i+1, cw, w, l)
		}
	}
	if strings.ContainsFunc(frame, func(r rune) bool { return r == 0x1b || r == 0x07 || r >= 0x80 && r <= 0x9f }) {
		t.Fatalf("frame carries a control sequence: %q", frame)
	}
}
