package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/cmd/internal/dash"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/tui"
)

func newRunCmd() *cobra.Command {
	var stop stopRule
	cmd := &cobra.Command{
		Use:   "run --primary URL --candidate URL [--secondary URL] [--listen ADDR] [--config FILE]",
		Short: "Run the proxy in front of a live service",
		Long: `Run the proxy: every request is served from the primary; safe requests (and
unsafe ones on routes that opt in) are copied to the candidate and secondary.
Stop it with Ctrl-C or SIGTERM, or let it stop by itself after --duration or
once every endpoint has --until-pairs pairs: it finishes in-flight requests,
drains queued copies within --shutdown-timeout, prints the verdict and
writes the report (--report-out, checked when the run starts). It exits 0 on
pass, 1 on fail and 4 when nothing could be decided, so a release pipeline
can gate on it (see Exit codes in shadow --help).`,
		Example: `  shadow run --listen :8080 --primary http://10.0.0.5:8080 --candidate http://10.0.0.6:8080
  shadow run --config shadow.yaml --report-out report.md
  shadow run --config shadow.yaml --duration 1h --until-pairs 500 --report-out report.json
  SHADOW_MIRROR_QUEUE_SIZE=4096 shadow run --config shadow.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if printed, err := printConfig(cmd, cfg, slog.LevelInfo); printed {
				return err
			}
			logger, err := cfg.Log.Logger(dash.TerminalLog(cmd.ErrOrStderr()), slog.LevelInfo)
			if err != nil {
				return cli.ConfigError(err)
			}
			if stop.duration < 0 || stop.untilPairs < 0 {
				return cli.ConfigError(errors.New("--duration and --until-pairs must not be negative"))
			}
			s, err := newSession(cfg, nil, "run", logger)
			if err != nil {
				return err
			}
			s.stop = stop
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "shadow: listening on %s, primary %s, %s\n", s.URL(), cfg.Mirror.Primary, candidatesText(cfg.Mirror))
			s.egress.describe(out)
			src := tui.SourceFunc(func(context.Context) (tui.Snapshot, error) { return s.snapshot(), nil })
			started := time.Now()
			rep, err := s.run(cmd.Context(), src, proxyControl{s.proxy}, out)
			tell(cmd.Context(), cfg, started, rep, err, logger)
			if err != nil {
				return err
			}
			return verdictError(rep)
		},
	}
	addConfigFlags(cmd, "127.0.0.1:8080", "127.0.0.1:9090")
	f := cmd.Flags()
	f.DurationVar(&stop.duration, "duration", 0, "stop after this long, then judge (0 = until Ctrl-C or SIGTERM)")
	f.IntVar(&stop.untilPairs, "until-pairs", 0, "stop once every endpoint seen has this many compared pairs or candidate errors (or --duration ends); 0 = off")
	return cmd
}
