package main

import (
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/internal/testio"
)

// The demo as a newcomer meets it: the dashboard in a real terminal,
// driven by keys, and the findings printed after quitting.
func TestDemoInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it in tmux")
	}
	s := testio.StartTmux(t, 100, 30, testio.Binary(t, "shadow")+" demo --seed 1 --rate 10 --admin ''")
	s.Scrollback = true

	s.WaitFor("P99 CAND")
	// Type once the verdict so far is in: enough pairs were compared.
	t.Logf("shadow view:\n%s", s.WaitFor("FAIL "))
	// The cursor stays on the endpoint it was on when others arrived: the
	// synth pre-flight's HEAD /, when that was all the first frame showed.
	// Home puts it on the worst endpoint, the table's first row.
	s.Keys("Home", "Enter")
	t.Logf("endpoint fields:\n%s", s.WaitFor("PATH / REQUEST"))
	s.Keys("Escape")
	// A person sees the table come back before pressing on; Escape and Tab
	// read together would be one alt+tab.
	s.WaitFor("P99 CAND")
	s.Keys("Tab")
	t.Logf("synth view:\n%s", s.WaitFor("JOURNEY"))
	s.Keys("-l", "+")
	s.WaitFor("rate set to 60.0/s") // 10/s plus a tenth of the 500/s ceiling
	s.Keys("p")
	s.WaitFor("PAUSED")
	s.Keys("k")
	s.WaitFor("kill the run now? y/n")
	s.Keys("n")
	s.WaitFor("kill cancelled")
	s.Keys("q")

	final := s.WaitFor("Full report:")
	for _, want := range []string{"verdict fail", "What v2 changed", "$.currency", "Noise learned from the secondary"} {
		if !strings.Contains(final, want) {
			t.Errorf("after quitting, the terminal lacks %q:\n%s", want, final)
		}
	}
	// The findings are the last thing printed; shutting down egress and
	// the services may take a moment after.
	testio.Eventually(t, "shadow demo to exit after q", s.Exited)
}
