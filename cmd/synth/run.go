package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/cmd/internal/dash"
	"github.com/understudy-dev/understudy/cmd/internal/metrics"
	"github.com/understudy-dev/understudy/notify"
	"github.com/understudy-dev/understudy/scenarios"
	"github.com/understudy-dev/understudy/tui"
)

func newRunCmd(interrupts <-chan os.Signal) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run [flags] SCENARIO.yaml",
		Short: "Run a scenario against its target",
		Long: `Run starts the scenario's journeys at its rate against its target until its
duration ends, showing the dashboard (or, with --no-tui or off a terminal,
a progress line every few seconds), then prints a summary and, with
--report-out, writes a report (.json, .md or JUnit .xml).
An interrupt (Ctrl-C, SIGTERM) stops gracefully: no new journeys, those in
flight finish and clean up. A second interrupt kills: requests in flight are
cancelled. The dashboard's k (kill) and the admin endpoint's /control do
the same from elsewhere.

Flags override SYNTH_* environment variables (SYNTH_RATE, SYNTH_REPORT_OUT,
...), which override the --config file.

` + exitCodesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if on, _ := cmd.Flags().GetBool("print-config"); on {
				return printRunConfig(cmd.OutOrStdout(), cfg, args)
			}
			if len(args) == 0 {
				return cli.ConfigError(errors.New("want a scenario file: synth run SCENARIO.yaml (synth validate checks one)"))
			}
			return runScenario(cmd.Context(), cfg, args[0], cmd.OutOrStdout(), cmd.ErrOrStderr(), interrupts)
		},
	}
	addConfigFlags(cmd)
	return cmd
}

// runScenario loads, runs and reports one scenario; its error carries the
// exit code.
func runScenario(ctx context.Context, cfg config, path string, stdout, stderr io.Writer, interrupts <-chan os.Signal) error {
	sc, err := scenarios.Load(path)
	if err != nil {
		return cli.ConfigError(err)
	}
	return runLoaded(ctx, cfg, sc, stdout, stderr, interrupts)
}

// runLoaded runs and reports a scenario, with the dashboard or progress
// lines, the admin endpoint, --out result files, --report-out and the
// scenario's notify webhooks; its error carries the exit code.
func runLoaded(ctx context.Context, cfg config, sc *scenarios.Scenario, stdout, stderr io.Writer, interrupts <-chan os.Signal) error {
	logger, err := cfg.Log.Logger(dash.TerminalLog(stderr), slog.LevelInfo)
	if err != nil {
		return cli.ConfigError(err)
	}
	share, err := cfg.share()
	if err != nil {
		return cli.ConfigError(err)
	}
	opts := cfg.RunnerOptions
	opts.Logger, opts.Share = logger, share
	var results *resultWriter
	if cfg.Out != "" {
		// The runner calls OnResult only once Run starts; by then results
		// is set.
		opts.OnResult = func(sr scenarios.StepResult) { results.OnResult(sr) }
	}
	r, err := scenarios.NewRunner(sc, opts)
	if err != nil {
		return cli.ConfigError(err)
	}
	if cfg.Out != "" {
		if results, err = newResultWriter(cfg.Out, scenarios.NewRunInfo(r.Snapshot()), logger); err != nil {
			return cli.ConfigError(err)
		}
		defer results.Close() // on early returns; the normal path closes it below
	}
	duration := sc.Duration
	if cfg.Duration > 0 {
		duration = cfg.Duration
	}
	src := tui.SourceFunc(func(context.Context) (tui.Snapshot, error) {
		return tui.Snapshot{Synth: dash.Synth(r.Snapshot(), duration)}, nil
	})
	ctl := dash.RunnerControl{Runner: r}
	_, stopAdmin, err := dash.StartAdmin(ctx, dash.AdminConfig{
		Addr: cfg.Admin, Token: cfg.AdminToken, Source: src, Controller: ctl, Logger: logger,
		Metrics: func(reg prometheus.Registerer) error {
			_, err := metrics.NewSynth(reg, metrics.SynthConfig{Snapshot: r.Snapshot})
			return err
		},
	})
	if err != nil {
		return cli.ConfigError(err)
	}
	defer stopAdmin()

	defer tuneRuntime()()

	var res *scenarios.Result
	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, runErr = r.Run(ctx)
	}()
	// The dashboard (or the progress lines) goes to stderr, leaving stdout
	// to the summary. Quitting the dashboard stops the run gracefully.
	showCtx, stopShow := context.WithCancel(ctx)
	shown := make(chan struct{})
	go func() {
		defer close(shown)
		d := dash.Display{Title: "synth", Source: src, Controller: ctl, Plain: cfg.NoTUI, Interval: cfg.ProgressInterval, Out: stderr}
		if err := d.Show(showCtx); err != nil {
			logger.Warn("dashboard", "err", err)
		}
		if showCtx.Err() == nil {
			r.Stop()
		}
	}()
	signals := 0
wait:
	for {
		select {
		case <-done:
			break wait
		case <-interrupts:
			signals++
			if signals == 1 {
				fmt.Fprintln(stderr, "synth: stopping: journeys in flight finish and clean up (interrupt again to kill)")
				r.Stop()
			} else {
				fmt.Fprintln(stderr, "synth: killing: cancelling requests in flight")
				r.Kill()
			}
		}
	}
	stopShow()
	<-shown
	if runErr != nil {
		return cli.Aborted(runErr)
	}
	if err := scenarios.WriteText(stdout, &res.Snapshot); err != nil {
		return cli.ConfigError(fmt.Errorf("write summary: %w", err))
	}
	var reports []string
	if cfg.ReportOut != "" {
		if err := scenarios.WriteReportFile(cfg.ReportOut, res); err != nil {
			return cli.ConfigError(err)
		}
		reports = append(reports, cfg.ReportOut)
	}
	if results != nil {
		files, err := results.Close()
		fmt.Fprintln(stdout, results.summary(files))
		reports = append(reports, files...)
		if err != nil {
			return cli.Aborted(err)
		}
	}
	tell(ctx, sc.Notify, res, reports, logger)
	return verdictError(res)
}

// notifyTime bounds telling the webhooks, all of them, at the end of a run.
const notifyTime = 30 * time.Second

// tell posts the run's summary to the webhooks that want it. A webhook
// that fails is logged; it never changes the exit code.
func tell(ctx context.Context, targets []notify.Target, res *scenarios.Result, reports []string, logger *slog.Logger) {
	if len(targets) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTime)
	defer cancel()
	n := notify.Notifier{Targets: targets, Logger: logger}
	n.Notify(ctx, scenarios.Notification(res, reports))
}

// verdictError maps a result to its exit code: nil for a pass.
func verdictError(res *scenarios.Result) error {
	switch {
	case res.Outcome == scenarios.OutcomeAborted || res.Outcome == scenarios.OutcomeKilled:
		return cli.Aborted(fmt.Errorf("run %s: %s (exit %d: could not complete)", res.Outcome, res.Reason, cli.ExitAborted))
	case res.Journeys.Started == 0:
		return cli.Inconclusive(fmt.Errorf("run inconclusive (exit %d): no journey started, so nothing was checked", cli.ExitInconclusive))
	case !res.Passed():
		return cli.Failed(fmt.Errorf("run failed (exit %d): assertion or threshold failures (see the summary)", cli.ExitFail))
	}
	return nil
}
