package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/cmd/internal/dash"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/demo"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/scenarios"
	"github.com/understudy-dev/understudy/tui"
)

// demoRoutes opts order creation and cancellation in to mirroring, so that
// the three instances hold the same orders and later reads line up. Order
// creation charges the payment service: with egress, the copies' charges
// are answered from the primary's (demoEgress).
func demoRoutes(withEgress bool) []mirror.Route {
	create := mirror.Route{Name: "create-order", Methods: []string{"POST"}, Path: "/orders", Unsafe: true}
	if withEgress {
		create.Egress = []string{demoPayments}
	}
	return []mirror.Route{create, {Name: "cancel-order", Methods: []string{"POST"}, Path: "/orders/{id}/cancel", Unsafe: true}}
}

// demoLength is how long the demo's load runs when no --duration is given:
// until Ctrl-C, in practice.
const demoLength = 24 * time.Hour

func newDemoCmd() *cobra.Command {
	var (
		rate     float64
		duration time.Duration
		seed     int64
		noEgress bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the proxy against the built-in order service, v1 vs v2, with synthetic load",
		Long: `Start the embedded order service three times on loopback (v1 as primary, a
second v1 as secondary, v2 as candidate), the proxy in front of them, and
synthetic order journeys through the proxy, then show both on the
dashboard. Nothing leaves this machine. Quit with q or Ctrl-C; the verdict
and what v2 changed are printed at the end, and the exit code is the
verdict's, as for shadow run (v2 has real regressions: 1, fail).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := decodeConfig(cmd)
			if err != nil {
				return err
			}
			if printed, err := printConfig(cmd, cfg, slog.LevelWarn); printed {
				return err
			}
			if rate <= 0 {
				return cli.ConfigError(fmt.Errorf("rate: must be positive, got %v", rate))
			}
			ctx := cmd.Context()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			// The dashboard owns the terminal: only warnings by default.
			logger, err := cfg.Log.Logger(dash.TerminalLog(cmd.ErrOrStderr()), slog.LevelWarn)
			if err != nil {
				return cli.ConfigError(err)
			}
			return runDemo(ctx, cfg, rate, duration, seed, !noEgress, cmd.OutOrStdout(), logger)
		},
	}
	addConfigFlags(cmd, "127.0.0.1:0", "127.0.0.1:0")
	f := cmd.Flags()
	f.Float64Var(&rate, "rate", 20, "order journeys started per second (each is 1 to 4 requests)")
	f.DurationVar(&duration, "duration", 0, "stop after this long (0 = until q or Ctrl-C)")
	f.Int64Var(&seed, "seed", 0, "random seed for the services and the load (0 = from the clock)")
	f.BoolVar(&noEgress, "no-egress", false, "let every copy of the order service charge the payment service itself (3 charges per order) instead of mirroring POST /orders through egress")
	return cmd
}

func runDemo(ctx context.Context, cfg config, rate float64, duration time.Duration, seed int64, withEgress bool, out io.Writer, logger *slog.Logger) (err error) {
	var servers []*demo.Server
	defer func() {
		for _, s := range servers {
			err = errors.Join(err, s.Close())
		}
	}()
	pay, err := demo.StartPayments()
	if err != nil {
		return cli.Aborted(fmt.Errorf("start demo payments: %w", err))
	}
	servers = append(servers, pay)
	withEgress = withEgress && !cfg.egressOn() // a configured egress knows no demo payments
	if withEgress {
		cfg.Egress = demoEgress(pay.URL)
	}
	eg, err := newEgressRun(cfg, logger)
	if err != nil {
		return err
	}
	defer eg.stop()
	cfg.egress = eg
	for i, v := range []int{1, 1, 2} {
		// Each instance gets its own seed, so that random fields (eta)
		// differ between them as they would between real replicas: that
		// is the noise the secondary teaches the engine to cancel.
		instanceSeed := seed
		if seed != 0 {
			instanceSeed = seed*10 + int64(i)
		}
		payments := pay.URL
		if withEgress {
			payments = eg.url(demoPayments, []exchange.Side{exchange.Primary, exchange.Secondary, exchange.Candidate}[i])
		}
		s, err := demo.Start(demo.Options{Version: v, Seed: instanceSeed, Payments: payments})
		if err != nil {
			return cli.Aborted(fmt.Errorf("start demo service v%d: %w", v, err))
		}
		servers = append(servers, s)
	}
	cfg.Mirror.Primary, cfg.Mirror.Secondary, cfg.Mirror.Candidate = servers[1].URL, servers[2].URL, servers[3].URL
	if err := cfg.validate(); err != nil {
		return cli.ConfigError(err)
	}
	s, err := newSession(cfg, demoRoutes(withEgress), "demo", logger)
	if err != nil {
		return err
	}

	sc, err := scenarios.Parse("demo/load.yaml", demo.LoadScenario)
	if err != nil {
		return cli.Aborted(fmt.Errorf("demo load: %w", err))
	}
	length := demoLength
	if duration > 0 {
		length = duration
	}
	runner, err := scenarios.NewRunner(sc, scenarios.RunnerOptions{
		Target: s.URL(), Rate: rate, Duration: length, Seed: uint64(seed), Logger: logger,
		// The demo started the proxy and its services itself: a pre-flight
		// HEAD / would only show up as one more endpoint on the dashboard.
		NoPreflight: true,
	})
	if err != nil {
		return cli.Aborted(fmt.Errorf("demo load: %w", err))
	}
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		if _, err := runner.Run(context.WithoutCancel(ctx)); err != nil {
			logger.Warn("demo load", "err", err)
		}
	}()
	// The load stops before the proxy does, so that no journey meets a
	// closed proxy and reads as a failure.
	s.beforeShutdown = func() {
		runner.Stop()
		select {
		case <-loadDone:
		case <-time.After(cfg.ShutdownTimeout):
			runner.Kill()
			<-loadDone
		}
	}

	fmt.Fprintf(out, "shadow demo: proxy on %s\n  primary   v1 %s\n  secondary v1 %s\n  candidate v2 %s\n  load      %g order journeys/s through the proxy (try: curl %s/menu)\n",
		s.URL(), cfg.Mirror.Primary, cfg.Mirror.Secondary, cfg.Mirror.Candidate, rate, s.URL())
	if withEgress {
		fmt.Fprintf(out, "  payments  %s, charged on POST /orders: the primary's charges through egress %s, the copies' answered by egress %s and %s\n",
			pay.URL, eg.url(demoPayments, exchange.Primary), eg.url(demoPayments, exchange.Secondary), eg.url(demoPayments, exchange.Candidate))
	}
	src := tui.SourceFunc(func(context.Context) (tui.Snapshot, error) {
		snap := s.snapshot()
		snap.Synth = dash.Synth(runner.Snapshot(), duration) // 0: until stopped
		return snap, nil
	})
	// The synth tab's keys steer the load, the shadow tab's the proxy.
	ctl := dash.Tuned{Controller: dash.RunnerControl{Runner: runner}, Proxy: proxyControl{s.proxy}}
	rep, err := s.run(ctx, src, ctl, out)
	if err != nil {
		return err
	}
	// v2 has real regressions: the demo's verdict fails, and its exit
	// code says so, as `shadow run` would.
	printCharges(out, rep, pay.Payments, runner.Snapshot(), withEgress)
	printFindings(out, rep) // last: it ends with where the full report is
	return verdictError(rep)
}

// printFindings lists, per endpoint, the fields the candidate changed and
// the fields learned to be noise.
func printFindings(out io.Writer, rep *compare.Report) {
	var real, noise []string
	for _, ep := range rep.Endpoints {
		var changed, noisy []string
		for _, f := range ep.Fields {
			if f.Noisy {
				noisy = append(noisy, f.Path)
				continue
			}
			changed = append(changed, fmt.Sprintf("%s %s (%d)", f.Path, mainKind(f.Kinds), f.Diffs))
		}
		name := ep.Method + " " + ep.Route
		if len(changed) > 0 {
			real = append(real, fmt.Sprintf("  %-26s %s", name, strings.Join(changed, ", ")))
		}
		if len(noisy) > 0 {
			noise = append(noise, fmt.Sprintf("  %-26s %s", name, strings.Join(noisy, ", ")))
		}
	}
	fmt.Fprintln(out, "\nWhat v2 changed (noise excluded):")
	printOrNone(out, real)
	fmt.Fprintln(out, "Noise learned from the secondary and cancelled:")
	printOrNone(out, noise)
	fmt.Fprintln(out, "Full report: add --report-out report.md (or .json).")
}

func printOrNone(out io.Writer, lines []string) {
	if len(lines) == 0 {
		lines = []string{"  (none)"}
	}
	fmt.Fprintln(out, strings.Join(lines, "\n"))
}

// mainKind is the most frequent kind of difference of a field.
func mainKind(kinds map[compare.Kind]int64) string {
	type kc struct {
		k compare.Kind
		n int64
	}
	var all []kc
	for k, n := range kinds {
		all = append(all, kc{k, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].k < all[j].k })
	if len(all) == 0 {
		return "differs"
	}
	return string(all[0].k)
}
