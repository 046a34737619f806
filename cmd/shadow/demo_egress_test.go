package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
)

// `shadow demo` mirrors POST /orders through egress: the payment service
// makes one charge per order the load placed, though three copies of the
// order service ran each order, and the summary shows how v2's charges
// differ. Without egress (--no-egress) every copy charges: the count the
// test checks is one that can fail.
func TestDemoChargesOncePerOrder(t *testing.T) {
	charges := regexp.MustCompile(`Payments: (\d+) charges for (\d+) orders placed`)
	run := func(args ...string) (charged, placed int, out string) {
		var buf, errOut bytes.Buffer
		code := execute(context.Background(), append([]string{"demo", "--duration", "2s", "--seed", "3", "--rate", "30", "--no-tui", "--summary-interval", "1h"}, args...), &buf, &errOut)
		// The demo exits with its verdict's code: fail (v2 regresses) or,
		// on a machine too busy to judge enough in 2 s, inconclusive.
		if code != cli.ExitFail && code != cli.ExitInconclusive {
			t.Fatalf("exit code %d, stderr:\n%s\nstdout:\n%s", code, errOut.String(), buf.String())
		}
		m := charges.FindStringSubmatch(buf.String())
		if m == nil {
			t.Fatalf("no charge count in the summary:\n%s", buf.String())
		}
		charged, _ = strconv.Atoi(m[1])
		placed, _ = strconv.Atoi(m[2])
		return charged, placed, buf.String()
	}
	charged, placed, out := run()
	if placed == 0 || charged != placed {
		t.Errorf("with egress: %d charges for %d orders placed, want one per order:\n%s", charged, placed, out)
	}
	for _, want := range []string{
		"one per order, the copies' charges were answered by egress",
		"What v2 sent to its dependencies, through egress (never sent on):",
		"candidate called POST payments /charges with $.amount ",
		"egress: ", "secondary ",
	} {
		if !bytes.Contains([]byte(out), []byte(want)) {
			t.Errorf("with egress, the output lacks %q:\n%s", want, out)
		}
	}
	charged, placed, out = run("--no-egress")
	if placed == 0 || charged != 3*placed {
		t.Errorf("without egress: %d charges for %d orders placed, want three per order (primary, secondary, candidate):\n%s", charged, placed, out)
	}
}
