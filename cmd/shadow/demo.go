package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/demo"
	"github.com/understudy-dev/understudy/mirror"
)

// demoRoutes opts order creation in to mirroring, so that the three
// instances hold the same orders and later reads line up.
var demoRoutes = []mirror.Route{
	{Name: "create-order", Methods: []string{"POST"}, Path: "/orders", Unsafe: true},
	{Name: "cancel-order", Methods: []string{"POST"}, Path: "/orders/{id}/cancel", Unsafe: true},
}

func newDemoCmd() *cobra.Command {
	var (
		rate     int
		duration time.Duration
		seed     int64
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the proxy against the built-in order service, v1 vs v2, with load",
		Long: `Start the embedded order service three times on loopback (v1 as primary, a
second v1 as secondary, v2 as candidate), the proxy in front of them, and a
built-in load of realistic requests, then show what the proxy sees.
Nothing leaves this machine. Stop it with Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := decodeConfig(cmd)
			if err != nil {
				return err
			}
			if rate <= 0 {
				return configError(fmt.Errorf("rate: must be positive, got %d", rate))
			}
			ctx := cmd.Context()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			return runDemo(ctx, cmd, cfg, rate, seed, logger)
		},
	}
	addConfigFlags(cmd, "127.0.0.1:0")
	f := cmd.Flags()
	f.IntVar(&rate, "rate", 50, "requests per second of built-in load")
	f.DurationVar(&duration, "duration", 0, "stop after this long (0 = until Ctrl-C)")
	f.Int64Var(&seed, "seed", 0, "random seed for the services and the load (0 = from the clock)")
	return cmd
}

func runDemo(ctx context.Context, cmd *cobra.Command, cfg config, rate int, seed int64, logger *slog.Logger) (err error) {
	out := cmd.OutOrStdout()
	start := func(version int) (*demo.Server, error) {
		s, err := demo.Start(demo.Options{Version: version, Seed: seed})
		if err != nil {
			return nil, fmt.Errorf("start demo service v%d: %w", version, err)
		}
		return s, nil
	}
	var servers []*demo.Server
	defer func() {
		for _, s := range servers {
			err = errors.Join(err, s.Close())
		}
	}()
	for _, v := range []int{1, 1, 2} {
		s, err := start(v)
		if err != nil {
			return &exitError{code: exitRuntime, err: err}
		}
		servers = append(servers, s)
	}
	cfg.Primary, cfg.Secondary, cfg.Candidate = servers[0].URL, servers[1].URL, servers[2].URL
	if err := cfg.validate(); err != nil {
		return configError(err)
	}

	s, err := newSession(cfg, demoRoutes, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		s.proxy.Close()
		return &exitError{code: exitRuntime, err: fmt.Errorf("listen: %w", err)}
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "shadow demo: proxy on %s\n  primary   v1 %s\n  secondary v1 %s\n  candidate v2 %s\n  load      %d req/s (try: curl %s/menu)\n",
		base, cfg.Primary, cfg.Secondary, cfg.Candidate, rate, base)

	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := &demo.Traffic{BaseURL: base, Rate: rate, Seed: seed}
		if err := t.Run(loadCtx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			logger.Warn("demo load stopped", "err", err)
		}
	}()
	err = s.serve(ctx, ln, out, logger)
	stopLoad()
	wg.Wait()
	if err != nil {
		return &exitError{code: exitRuntime, err: err}
	}
	// The demo's point is the report: show it whole. Its verdict is
	// expected to fail (v2 has real regressions), so it does not set the
	// exit code.
	rep, err := s.finish(out)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	return rep.WriteMarkdown(out)
}
