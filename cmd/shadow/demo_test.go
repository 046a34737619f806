package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
)

// The demo is the first command a newcomer runs: it must start, carry
// load through the proxy to all three services, and stop cleanly.
func TestDemoRunsEndToEnd(t *testing.T) {
	var out, errOut bytes.Buffer
	code := execute(context.Background(), []string{
		"demo", "--duration", "3s", "--summary-interval", "1s", "--seed", "1", "--rate", "40", "--no-tui",
	}, &out, &errOut)
	// v2 regresses: the demo exits with the verdict's code, fail.
	if code != cli.ExitFail {
		t.Fatalf("exit code %d, want %d (verdict fail); stderr:\n%s\nstdout:\n%s", code, cli.ExitFail, errOut.String(), out.String())
	}
	if !bytes.Contains(errOut.Bytes(), []byte("verdict fail (exit 1): the candidate differs beyond the configured rule")) {
		t.Errorf("stderr does not name the fail and its code:\n%s", errOut.String())
	}
	m := regexp.MustCompile(`compared ([\d,]+) · .* diffs ([\d,]+)/`).FindAllStringSubmatch(out.String(), -1)
	if len(m) == 0 {
		t.Fatalf("no summary line in output:\n%s", out.String())
	}
	final := m[len(m)-1]
	if final[1] == "0" {
		t.Errorf("final summary %q: nothing compared\n%s", final[0], out.String())
	}
	// v2's documented regressions must show up in the report: the extra
	// field and the renamed one.
	for _, want := range []string{"copies abandoned at shutdown", "verdict fail", "$.currency", "lineTotal", "$.total", "synth demo-load"} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUnknownCommandIsConfigError(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := execute(context.Background(), []string{"frobnicate"}, &out, &errOut); code != cli.ExitConfig {
		t.Errorf("exit code %d, want %d", code, cli.ExitConfig)
	}
}
