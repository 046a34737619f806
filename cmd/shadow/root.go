package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/cmd/internal/dash"
)

// Exit codes shared by every shadow command.
const (
	exitOK      = 0
	exitFail    = 1 // the run worked and its verdict is fail
	exitRuntime = 2 // the run could not be completed
	exitConfig  = 3 // bad flags or configuration
)

// exitError carries an exit code out of a cobra command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func configError(err error) error { return &exitError{code: exitConfig, err: err} }

// execute runs the shadow command line and returns the process exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "shadow: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// cobra's own errors: unknown command or flag, wrong argument count.
	return exitConfig
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "shadow",
		Short: "Mirror live traffic to a candidate version and diff the answers",
		Long: `shadow is a reverse proxy for parallel runs. It serves every request from the
primary, sends a copy to the candidate (and optionally to a secondary copy of
the primary, to learn which fields are noise), and compares the answers.
The client only ever sees the primary's answer, with no added wait.

Exit codes: 0 ok, 1 verdict fail, 2 runtime error, 3 bad configuration.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newRunCmd(), newDemoCmd(), dash.NewAttachCmd("shadow"))
	return root
}
