package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/cmd/internal/dash"
)

// execute runs the shadow command line and returns the process exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	return cli.Code("shadow", root.ExecuteContext(ctx), stderr)
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "shadow",
		Short: "Mirror live traffic to a candidate version and diff the answers",
		Long: `shadow is a reverse proxy for parallel runs. It serves every request from the
primary, sends a copy to the candidate (and optionally to a secondary copy of
the primary, to learn which fields are noise), and compares the answers.
The client only ever sees the primary's answer, with no added wait.

` + cli.ExitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newRunCmd(), newDemoCmd(), newReplayCmd(), newReportCmd(), dash.NewAttachCmd("shadow", nil))
	return root
}
