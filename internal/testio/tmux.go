package testio

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tmux is a real terminal a test types into and reads, as a person
// would: a tmux server of the test's own (its socket in the test's
// temporary directory) with one session, killed when the test ends.
type Tmux struct {
	// Scrollback makes Screen include the lines scrolled off the top.
	Scrollback bool

	t       testing.TB
	socket  string
	session string
}

// StartTmux runs command (a shell command line) in a new width×height
// terminal. The session stays once command exits, so that its last
// screen can be read. It skips the test, saying so, only when tmux is not
// installed (apt-get install tmux; .ci/run does).
func StartTmux(t testing.TB, width, height int, command string) *Tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux; .ci/run installs it)")
	}
	s := &Tmux{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock"), session: "test"}
	s.Run("new-session", "-d", "-s", s.session, "-x", strconv.Itoa(width), "-y", strconv.Itoa(height), command)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", s.socket, "kill-server").Run() })
	s.Run("set-option", "-t", s.session, "remain-on-exit", "on")
	return s
}

// Run runs a tmux command on the test's server and returns its output.
func (s *Tmux) Run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// Keys types keys into the terminal, as tmux send-keys reads them
// ("Enter", "Escape", "q"; "-l", "+" for a literal).
func (s *Tmux) Keys(keys ...string) {
	s.t.Helper()
	s.Run(append([]string{"send-keys", "-t", s.session}, keys...)...)
}

// Screen is what the terminal shows now.
func (s *Tmux) Screen() string {
	s.t.Helper()
	args := []string{"capture-pane", "-p", "-t", s.session}
	if s.Scrollback {
		args = append(args, "-S", "-")
	}
	return s.Run(args...)
}

// WaitFor waits until the terminal shows want, and returns what it shows;
// when it does not within WaitTimeout, it fails the test showing the
// screen.
func (s *Tmux) WaitFor(want string) string {
	s.t.Helper()
	var screen string
	if !poll(func() bool { screen = s.Screen(); return strings.Contains(screen, want) }, 20*time.Millisecond) {
		s.t.Fatalf("the screen never showed %q; it shows:\n%s", want, screen)
	}
	return screen
}

// Exited reports whether the command has exited.
func (s *Tmux) Exited() bool {
	s.t.Helper()
	return strings.TrimSpace(s.Run("display-message", "-p", "-t", s.session, "#{pane_dead}")) == "1"
}
