package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/cmd/internal/dash"
	"github.com/understudy-dev/understudy/cmd/internal/metrics"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/observe"
	"github.com/understudy-dev/understudy/tui"
	"github.com/understudy-dev/understudy/wire"
)

// session is one parallel run: the proxy and the engine that judges what
// it sees. The proxy's observer is an observe.Pipeline that redacts each
// exchange, has the engine judge it and queues it for the capture files;
// the proxy and the engine do not know each other.
type session struct {
	cfg     config
	proxy   *mirror.Proxy
	engine  *compare.Engine
	rec     *observe.Pipeline
	srv     *wire.Server // serves proxy on ln
	ln      net.Listener
	started time.Time
	logger  *slog.Logger
	grpc    *grpcSchemas // nil without a grpc section; closed when serving ends
	// beforeShutdown, when set, runs once serving ends and before the
	// proxy stops: load sources stop here.
	beforeShutdown func()
	// stop says when the run ends by itself; the zero value: never.
	stop stopRule
	// egress serves the dependency listeners; nil without egress.
	egress *egressRun
}

// stopRule says when a run stops by itself, besides Ctrl-C and SIGTERM.
type stopRule struct {
	// duration ends the run after this long; 0: never.
	duration time.Duration
	// untilPairs ends the run once every endpoint seen has this many
	// compared pairs; 0: never.
	untilPairs int
}

// stopCtx returns ctx ended also when the run's stop rule says, and the
// function that releases it. Reaching the pairs is checked ten times a
// second, which costs a lock per endpoint.
func (s *session) stopCtx(ctx context.Context) (context.Context, func()) {
	ctx, end := context.WithCancel(ctx)
	cancel := end
	if d := s.stop.duration; d > 0 {
		t := time.AfterFunc(d, func() {
			s.logger.Info("--duration reached: stopping", "duration", d)
			end()
		})
		prev := cancel
		cancel = func() { t.Stop(); prev() }
	}
	if n := s.stop.untilPairs; n > 0 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				if pairs, eps := s.engine.FewestPairs(); eps > 0 && pairs >= int64(n) {
					s.logger.Info("every endpoint seen has enough pairs (--until-pairs): stopping", "endpoints", eps, "pairs", n)
					end()
					return
				}
				// A candidate that refuses connections gets no copies (the
				// proxy's breaker skips them): once as many went unsent as
				// were asked for, waiting longer judges nothing.
				if down := s.proxy.Stats().Skipped["candidate_down"]; down >= uint64(n) {
					s.logger.Warn("the candidate is unreachable: copies are not sent to it (--until-pairs): stopping", "not_sent", down)
					end()
					return
				}
			}
		}()
		prev := cancel
		cancel = func() { prev(); <-done }
	}
	return ctx, cancel
}

// newSession builds the engine, the observer pipeline in front of it (and the
// capture files, when configured), a proxy that feeds them, and the
// listener. routes, when the config has none, become the proxy's routes.
// command labels the capture files ("run", "demo").
func newSession(cfg config, routes []mirror.Route, command string, logger *slog.Logger) (*session, error) {
	eg := cfg.egress
	if eg == nil {
		var err error
		if eg, err = newEgressRun(cfg, logger); err != nil {
			return nil, err
		}
	}
	ok := false
	defer func() {
		if !ok {
			eg.stop()
		}
	}()
	if j := eg.judge(); j != nil {
		cfg.Compare.Outbound = j
	}
	g, err := loadGRPC(cfg, logger)
	if err != nil {
		return nil, cli.ConfigError(err)
	}
	if g != nil {
		cfg.Compare.Schemas, cfg.Mirror.GRPCMethods = g, g
	}
	started := false
	defer func() {
		if !started {
			g.close()
		}
	}()
	engine, err := compare.New(cfg.Compare)
	if err != nil {
		return nil, cli.ConfigError(cfg.explain(cli.Under("compare", err)))
	}
	labels := captureLabels(command, candidateUpstreams(cfg.Mirror, map[string]string{
		"primary": cfg.Mirror.Primary, "secondary": cfg.Mirror.Secondary,
	}))
	rec, err := newPipeline(engine, cfg.Capture, labels, logger, g, eg.observe)
	if err != nil {
		return nil, cli.ConfigError(cfg.explain(cli.Under("capture", err)))
	}
	mcfg := cfg.Mirror
	if len(mcfg.Routes) == 0 {
		mcfg.Routes = routes
	}
	mcfg.Observer = rec
	mcfg.Logger = logger
	proxy, err := mirror.New(mcfg)
	if err != nil {
		rec.Discard()
		return nil, cli.ConfigError(err)
	}
	srv, err := wire.NewServer(wire.ServerConfig{
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout, IdleTimeout: cfg.Server.IdleTimeout,
		TLS: cfg.ListenTLS, Logger: logger,
	}, eg.trace(proxy))
	if err != nil {
		proxy.Close()
		rec.Discard()
		return nil, cli.ConfigError(fmt.Errorf("listen_tls: %w", err))
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		proxy.Close()
		rec.Discard()
		return nil, cli.Aborted(fmt.Errorf("listen: %w", err))
	}
	ok, started = true, true
	eg.start(logger)
	return &session{cfg: cfg, proxy: proxy, engine: engine, rec: rec, srv: srv, ln: ln, started: time.Now(), logger: logger, egress: eg, grpc: g}, nil
}

// URL is the proxy's base URL.
func (s *session) URL() string { return s.srv.Scheme() + "://" + s.ln.Addr().String() }

// snapshot is the run's state for the dashboard and the admin endpoint.
func (s *session) snapshot() tui.Snapshot {
	u := dash.Upstreams{Primary: s.cfg.Mirror.Primary, Candidate: s.cfg.Mirror.Candidate, Secondary: s.cfg.Mirror.Secondary, Listen: s.ln.Addr().String(), Started: s.started,
		Candidates: candidateURLs(s.cfg.Mirror)}
	set := s.proxy.Settings()
	sh := dash.Shadow(u, s.proxy.Stats(), set.Paused, s.engine.Report())
	sh.Tuning = dash.Tuning(set)
	return tui.Snapshot{Time: time.Now(), Shadow: sh}
}

// registerMetrics registers the proxy's and engine's figures on reg and
// has the pipeline feed the per-exchange ones from now on.
func (s *session) registerMetrics(reg prometheus.Registerer) error {
	m, err := metrics.NewShadow(reg, metrics.ShadowConfig{Stats: s.proxy.Stats, Report: s.engine.Report})
	if err != nil {
		return err
	}
	if s.egress != nil {
		if err := metrics.NewEgress(reg, s.egress.e.Stats); err != nil {
			return err
		}
	}
	s.rec.OnJudged(m.Record)
	return nil
}

// run serves until ctx is done or the user quits the dashboard, with the
// admin endpoint beside it, then shuts down and returns the final report.
// src and ctl are what the dashboard and admin endpoint show and steer.
func (s *session) run(ctx context.Context, src tui.Source, ctl dash.Controller, out io.Writer) (*compare.Report, error) {
	ctx, release := s.stopCtx(ctx)
	defer release()
	adminAddr, stopAdmin, err := dash.StartAdmin(ctx, dash.AdminConfig{
		Addr: s.cfg.Admin, Token: s.cfg.AdminToken, Source: src, Controller: ctl, Logger: s.logger,
		Metrics: s.registerMetrics,
	})
	if err != nil {
		s.proxy.Close()
		s.grpc.close()
		s.ln.Close()
		s.egress.stop()
		s.rec.Discard()
		return nil, cli.ConfigError(err)
	}
	defer stopAdmin()
	if adminAddr != nil {
		fmt.Fprintf(out, "shadow: admin on http://%s (attach: shadow tui --attach http://%s)\n", adminAddr, adminAddr)
	}
	d := dash.Display{
		Title: "shadow", Source: src, Controller: ctl,
		Plain: s.cfg.NoTUI, Interval: s.cfg.SummaryInterval, Out: out,
	}
	if err := s.serve(ctx, d, out); err != nil {
		return nil, cli.Aborted(err)
	}
	rep, err := s.finish(out)
	if err == nil {
		// The report stands, but files asked for are incomplete.
		if cerr := s.rec.Close(); cerr != nil {
			err = cli.Aborted(cerr)
		}
	}
	return rep, err
}

// finish builds the final report, writes it where the config says, and
// prints the verdict.
func (s *session) finish(out io.Writer) (*compare.Report, error) {
	return finishReport(s.cfg, s.engine.Report(), out)
}

// finishReport writes rep where cfg says (report_out) and prints the
// verdict and its reasons.
func finishReport(cfg config, rep *compare.Report, out io.Writer) (*compare.Report, error) {
	if cfg.ReportOut != "" {
		format, _ := cfg.reportFormat() // validated at load
		if err := compare.WriteReportFile(cfg.ReportOut, format, rep); err != nil {
			return rep, cli.Aborted(fmt.Errorf("write report: %w", err))
		}
		fmt.Fprintf(out, "shadow: report written to %s\n", cfg.ReportOut)
	}
	fmt.Fprint(out, verdictText(rep, "shadow: "))
	return rep, nil
}
