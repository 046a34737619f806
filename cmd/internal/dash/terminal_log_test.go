package dash

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
	"github.com/understudy-dev/understudy/tui"
)

// The tests that hold log lines share the process's one terminal state,
// so they do not run in parallel with each other.
var screenTests sync.Mutex

func TestTerminalLogHoldsLinesWhileADashboardShows(t *testing.T) {
	screenTests.Lock()
	defer screenTests.Unlock()
	var out bytes.Buffer
	log := &termLog{w: &out}
	fmt.Fprint(log, "before\n")
	release := holdLogs()
	fmt.Fprint(log, "during 1\n")
	inner := holdLogs() // a second dashboard, gone first
	fmt.Fprint(log, "during 2\n")
	inner()
	inner() // twice is fine
	if got, want := out.String(), "before\n"; got != want {
		t.Fatalf("while dashboards show, the terminal got %q, want %q", got, want)
	}
	release()
	fmt.Fprint(log, "after\n")
	if got, want := out.String(), "before\nduring 1\nduring 2\nafter\n"; got != want {
		t.Errorf("the terminal got %q, want %q", got, want)
	}
}

// Held lines are bounded: the oldest go first, counted, and a line longer
// than the bound is cut.
func TestTerminalLogBoundsWhatItHolds(t *testing.T) {
	screenTests.Lock()
	defer screenTests.Unlock()
	var out bytes.Buffer
	log := &termLog{w: &out}
	release := holdLogs()
	line := strings.Repeat("x", 1023) + "\n"
	const n = 3 * maxHeldBytes / 1024
	for range n {
		fmt.Fprint(log, line)
	}
	screen.mu.Lock()
	held, dropped := log.bytes, log.dropped
	screen.mu.Unlock()
	if held > maxHeldBytes {
		t.Errorf("held %d bytes, want at most %d", held, maxHeldBytes)
	}
	if want := n - maxHeldBytes/1024; dropped != want {
		t.Errorf("dropped %d lines, want %d", dropped, want)
	}
	fmt.Fprint(log, strings.Repeat("y", 2*maxHeldBytes)+"\n")
	release()
	got := out.String()
	first, rest, _ := strings.Cut(got, "\n")
	if want := fmt.Sprintf("(%d earlier log lines were dropped while the dashboard was shown)", n); first != want {
		t.Errorf("first line = %q, want %q", first, want)
	}
	if len(rest) > maxHeldBytes+len("…\n") || !strings.HasSuffix(rest, "y…\n") {
		t.Errorf("after the count, %d bytes ending %q; want the long line alone, cut to %d bytes", len(rest), rest[max(len(rest)-8, 0):], maxHeldBytes)
	}
}

// Off a terminal (a file, a pipe), log lines are never held: nothing
// draws there.
func TestTerminalLogOffATerminalWritesThrough(t *testing.T) {
	var out bytes.Buffer
	if got := TerminalLog(&out); got != &out {
		t.Errorf("TerminalLog(buffer) = %T, want the buffer itself", got)
	}
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := TerminalLog(f); got != f {
		t.Errorf("TerminalLog(file) = %T, want the file itself", got)
	}
}

// tmuxChildEnv makes the test binary, started again inside tmux, run the
// dashboard of TestLoggingDoesNotScrollTheDashboard.
const tmuxChildEnv = "UNDERSTUDY_DASH_TMUX_CHILD"

// A pause logs a line, as the proxy does when its settings change: in a
// real terminal the dashboard stays in place (its header on the first
// line, no line left from the log) and the line shows once the dashboard
// is gone.
func TestLoggingDoesNotScrollTheDashboard(t *testing.T) {
	if os.Getenv(tmuxChildEnv) == "1" {
		runLoggingDashboard(t)
		return
	}
	if testing.Short() {
		t.Skip("runs the dashboard in tmux")
	}
	s := testio.StartTmux(t, 80, 24, "env "+tmuxChildEnv+"=1 "+os.Args[0]+" -test.run='^TestLoggingDoesNotScrollTheDashboard$'")

	before := s.WaitFor("updated ")
	s.Keys("p")
	after := s.WaitFor("mirroring paused;")
	for _, screen := range []string{before, after} {
		lines := strings.Split(screen, "\n")
		for i, want := range []string{"shadow shadow", "verdict pending", "req "} {
			if !strings.HasPrefix(lines[i], want) {
				t.Errorf("line %d does not start with %q: the dashboard moved:\n%s", i+1, want, screen)
			}
		}
	}
	if strings.Contains(after, "mirror setting changed") {
		t.Errorf("a log line shows in the dashboard:\n%s", after)
	}
	s.Keys("q")
	s.WaitFor("mirror setting changed")
}

// runLoggingDashboard is the program TestLoggingDoesNotScrollTheDashboard
// runs in tmux: a proxy's dashboard whose pause logs a line to stderr.
func runLoggingDashboard(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(TerminalLog(os.Stderr), nil))
	ctl := &loggingProxy{log: logger}
	src := tui.SourceFunc(func(context.Context) (tui.Snapshot, error) {
		return tui.Snapshot{Shadow: &tui.ShadowSnapshot{
			Primary: "http://127.0.0.1:1", Candidate: "http://127.0.0.1:2", Listen: "127.0.0.1:3", Paused: ctl.isPaused(),
		}}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := Display{Title: "shadow", Source: src, Controller: ctl, Out: os.Stdout}
	if err := d.Show(ctx); err != nil {
		t.Fatal(err)
	}
}

// loggingProxy logs its pauses and resumes, as mirror.Proxy does.
type loggingProxy struct {
	log    *slog.Logger
	mu     sync.Mutex
	paused bool
}

func (p *loggingProxy) set(paused bool) error {
	p.mu.Lock()
	old := p.paused
	p.paused = paused
	p.mu.Unlock()
	p.log.Info("mirror setting changed", "setting", "paused", "old", old, "new", paused)
	return nil
}

func (p *loggingProxy) isPaused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

func (p *loggingProxy) Pause() error                     { return p.set(true) }
func (p *loggingProxy) Resume() error                    { return p.set(false) }
func (p *loggingProxy) Kill() error                      { return p.set(true) }
func (p *loggingProxy) Stop() error                      { return nil }
func (p *loggingProxy) SetRate(float64) (float64, error) { return 0, nil }
