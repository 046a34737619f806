package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes of every synth command.
const (
	exitOK      = 0 // every assertion held and the thresholds were met
	exitFail    = 1 // assertion or threshold failures
	exitAborted = 2 // aborted by a guardrail, or killed
	exitConfig  = 3 // bad scenario, configuration or report path
)

const exitCodesHelp = `Exit codes:
  0  every assertion held and the thresholds were met
  1  assertion or threshold failures (or a cleanup failed)
  2  aborted by a guardrail, or killed
  3  bad scenario, configuration or report path`

// exitError carries an exit code out of a cobra command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func configError(err error) error { return &exitError{code: exitConfig, err: err} }

// execute runs the synth command line and returns the process exit code.
// interrupts delivers SIGINT/SIGTERM: the first stops a run gracefully,
// the second kills it.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer, interrupts <-chan os.Signal) int {
	root := newRootCmd(stdout, stderr, interrupts)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "synth: %v\n", ee.err)
		}
		return ee.code
	}
	// cobra's own errors: unknown command or flag, wrong argument count.
	fmt.Fprintf(stderr, "synth: %v\n", err)
	return exitConfig
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
	root.AddCommand(newRunCmd(interrupts), newValidateCmd())
	return root
}
