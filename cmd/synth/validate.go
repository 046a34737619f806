package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/scenarios"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate SCENARIO.yaml...",
		Short: "Check scenario files without sending anything",
		Long: `Validate parses and checks each scenario file strictly: unknown keys, bad
durations, template errors, variables no earlier step captures, and rates
above the ceiling are reported with file, line and field, all at once.
Nothing is sent.

Exit codes: 0 every file is valid, 3 at least one has problems.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, path := range args {
				sc, err := scenarios.Load(path)
				if err != nil {
					bad++
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					continue
				}
				steps := 0
				for _, j := range sc.Journeys {
					steps += len(j.Steps) + len(j.Cleanup)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok: scenario %q, %s, %s\n",
					path, sc.Name, plural(len(sc.Journeys), "journey"), plural(steps, "step"))
			}
			if bad > 0 {
				return cli.ConfigError(fmt.Errorf("%d of %d scenario files have problems", bad, len(args)))
			}
			return nil
		},
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
