package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession is a terminal a test types into and reads, as a person would.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func (s tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// screen is what the pane shows now, with its scrollback.
func (s tmuxSession) screen() string { return s.run("capture-pane", "-p", "-S", "-", "-t", "demo") }

// waitFor types nothing and waits until the pane shows want.
func (s tmuxSession) waitFor(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		screen := s.screen()
		if strings.Contains(screen, want) {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen never showed %q; it shows:\n%s", want, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The demo as a newcomer meets it: the dashboard in a real terminal,
// driven by keys, and the findings printed after quitting.
func TestDemoInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it in tmux")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "shadow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	s := tmuxSession{t: t, socket: filepath.Join(dir, "tmux.sock")}
	s.run("new-session", "-d", "-s", "demo", "-x", "100", "-y", "30",
		bin+" demo --seed 1 --rate 10 --admin ''")
	t.Cleanup(func() { exec.Command("tmux", "-S", s.socket, "kill-server").Run() })
	s.run("set-option", "-t", "demo", "remain-on-exit", "on")

	s.waitFor("P99 CAND")
	// Type once the verdict so far is in: enough pairs were compared.
	t.Logf("shadow view:\n%s", s.waitFor("FAIL "))
	s.run("send-keys", "-t", "demo", "Enter")
	t.Logf("endpoint fields:\n%s", s.waitFor("PATH / REQUEST"))
	s.run("send-keys", "-t", "demo", "Escape")
	// A person sees the table come back before pressing on; Escape and Tab
	// read together would be one alt+tab.
	s.waitFor("P99 CAND")
	s.run("send-keys", "-t", "demo", "Tab")
	t.Logf("synth view:\n%s", s.waitFor("JOURNEY"))
	s.run("send-keys", "-t", "demo", "-l", "+")
	s.waitFor("rate set to 60.0/s") // 10/s plus a tenth of the 500/s ceiling
	s.run("send-keys", "-t", "demo", "p")
	s.waitFor("PAUSED")
	s.run("send-keys", "-t", "demo", "k")
	s.waitFor("kill the run now? y/n")
	s.run("send-keys", "-t", "demo", "n")
	s.waitFor("kill cancelled")
	s.run("send-keys", "-t", "demo", "q")

	final := s.waitFor("Full report:")
	for _, want := range []string{"verdict fail", "What v2 changed", "$.currency", "Noise learned from the secondary"} {
		if !strings.Contains(final, want) {
			t.Errorf("after quitting, the terminal lacks %q:\n%s", want, final)
		}
	}
	if dead := strings.TrimSpace(s.run("display-message", "-p", "-t", "demo", "#{pane_dead}")); dead != "1" {
		t.Errorf("shadow demo still runs after q (pane_dead=%s)", dead)
	}
}
