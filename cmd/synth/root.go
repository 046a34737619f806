package main

import (
	"context"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/cmd/internal/dash"
)

// exitCodesHelp documents synth's use of the shared exit codes (cli.Exit*).
const exitCodesHelp = `Exit codes:
  0  pass: every assertion held and the thresholds were met
  1  fail: assertion or threshold failures (or a cleanup failed)
  2  could not complete: aborted by a guardrail, or killed
  3  bad input: bad scenario, configuration or report path
  4  inconclusive: no journey ran, or the result files hold no steps`

// execute runs the synth command line and returns the process exit code.
// interrupts delivers SIGINT/SIGTERM: the first stops a run gracefully,
// the second kills it.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer, interrupts <-chan os.Signal) int {
	root := newRootCmd(stdout, stderr, interrupts)
	root.SetArgs(args)
	return cli.Code("synth", root.ExecuteContext(ctx), stderr)
}

func newRootCmd(stdout, stderr io.Writer, interrupts <-chan os.Signal) *cobra.Command {
	root := &cobra.Command{
		Use:   "synth",
		Short: "Run tagged synthetic journeys against a live service",
		Long: `synth runs synthetic transactions: multi-step journeys of fake, clearly tagged
requests (place an order, read it back, cancel it), started at a controlled
rate against production or staging, checked with assertions, watched by
guardrails that abort on trouble, and stoppable at once (Ctrl-C stops
gracefully, a second Ctrl-C kills).

Every request carries X-Synthetic: true, X-Synthetic-Run, X-Synthetic-Journey
and W3C baggage synthetic=true, so the service can keep it out of real data.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newRunCmd(interrupts), newValidateCmd(), newReportCmd(), dash.NewAttachCmd("synth", interrupts))
	root.AddCommand(newScheduleCmd(interrupts), newAttackCmd(interrupts))
	root.AddCommand(newHistoryCmd())
	return root
}
