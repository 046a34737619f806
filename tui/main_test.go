package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
	"github.com/understudy-dev/understudy/internal/testio"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Stable goldens: no colour, whatever the terminal running the tests.
	lipgloss.SetColorProfile(termenv.Ascii)
	goleak.VerifyTestMain(m,
		// teatest waits for a SIGINT that never comes in a goroutine it
		// never stops.
		goleak.IgnoreAnyFunction("github.com/charmbracelet/x/exp/teatest.NewTestModel.func2"),
	)
}

// testInterval polls fast so a script plays out quickly; the frames do not
// depend on it because repeated snapshots change nothing.
const testInterval = 2 * time.Millisecond

// waitTimeout bounds every wait; reaching it fails the test.
const waitTimeout = 10 * time.Second

// startScripted runs the dashboard on src at w×h and returns once it has
// shown the script's last snapshot: calls are made one at a time, so a
// call after the last scripted one means that one has been applied.
func startScripted(t *testing.T, src *fakeSource, opts Options, w, h int) *teatest.TestModel {
	t.Helper()
	if opts.Interval == 0 {
		opts.Interval = testInterval
	}
	tm := teatest.NewTestModel(t, New(src, opts), teatest.WithInitialTermSize(w, h))
	n := len(src.script)
	testio.Eventually(t, "the script to play out", func() bool { return src.served() > n })
	return tm
}

// finalView quits the program and returns its last frame.
func finalView(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatalf("quit: %v", err)
	}
	return tm.FinalModel(t, teatest.WithFinalTimeout(waitTimeout)).View()
}

// Key presses for tests.
var (
	keyEnter = tea.KeyMsg{Type: tea.KeyEnter}
	keyEsc   = tea.KeyMsg{Type: tea.KeyEsc}
	keyTab   = tea.KeyMsg{Type: tea.KeyTab}
	keyDown  = tea.KeyMsg{Type: tea.KeyDown}
	keyUp    = tea.KeyMsg{Type: tea.KeyUp}
	keyPgDn  = tea.KeyMsg{Type: tea.KeyPgDown}
	keyCtrlC = tea.KeyMsg{Type: tea.KeyCtrlC}
	keySpace = tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
)

// runes returns the key press of typing s.
func runes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

// applied returns a dashboard (80x24, no program) that has applied snaps in
// order through Update, as the program would.
func applied(t testing.TB, opts Options, snaps ...Snapshot) Model {
	t.Helper()
	var m tea.Model = New(nil, opts)
	m, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	for i, s := range snaps {
		m, _ = m.Update(snapshotMsg{seq: uint64(i + 1), snap: s})
	}
	return m.(Model)
}

// contains reports whether s holds sub.
func contains(s, sub string) bool { return strings.Contains(s, sub) }
