package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/internal/testio"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// syncBuffer is output a test reads while a command or server writes it.
type syncBuffer = testio.Buffer

// run executes the synth command line in-process.
func run(t *testing.T, interrupts <-chan os.Signal, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb syncBuffer
	code = execute(context.Background(), args, &out, &errb, interrupts)
	return code, out.String(), errb.String()
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"run", "--help"}} {
		code, out, _ := run(t, nil, args...)
		if code != cli.ExitOK || !strings.Contains(out, "2  could not complete: aborted by a guardrail, or killed") {
			t.Errorf("%v: exit %d, help:\n%s\nwant exit 0 and the exit codes", args, code, out)
		}
	}
}

func TestUnknownCommandIsAConfigError(t *testing.T) {
	t.Parallel()
	if code, _, errOut := run(t, nil, "launch"); code != cli.ExitConfig || !strings.Contains(errOut, "unknown command") {
		t.Errorf("exit %d, stderr %q; want 3 and unknown command", code, errOut)
	}
	if code, _, _ := run(t, nil, "run"); code != cli.ExitConfig {
		t.Errorf("run without a scenario: exit %d, want 3", code)
	}
}
