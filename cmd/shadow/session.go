package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/mirror"
)

// session is one parallel run: the proxy and the engine that judges what
// it sees. The proxy's observer is the engine; neither knows the other.
type session struct {
	cfg    config
	proxy  *mirror.Proxy
	engine *compare.Engine
}

// newSession builds the engine and a proxy that feeds it. routes, when
// not empty and the config has none, become the proxy's routes.
func newSession(cfg config, routes []mirror.Route, logger *slog.Logger) (*session, error) {
	engine, err := compare.New(cfg.Compare)
	if err != nil {
		return nil, configError(fmt.Errorf("compare: %w", err))
	}
	mcfg := cfg.mirrorConfig()
	if len(mcfg.Routes) == 0 {
		mcfg.Routes = routes
	}
	mcfg.Observer = engine
	mcfg.Logger = logger
	proxy, err := mirror.New(mcfg)
	if err != nil {
		return nil, configError(err)
	}
	return &session{cfg: cfg, proxy: proxy, engine: engine}, nil
}

// finish builds the final report, writes it where the config says, and
// prints the verdict. It returns the report for callers that show more.
func (s *session) finish(out io.Writer) (*compare.Report, error) {
	rep := s.engine.Report()
	if s.cfg.ReportOut != "" {
		format, _ := s.cfg.reportFormat() // validated at load
		if err := compare.WriteReportFile(s.cfg.ReportOut, format, rep); err != nil {
			return rep, &exitError{code: exitRuntime, err: fmt.Errorf("write report: %w", err)}
		}
		fmt.Fprintf(out, "shadow: report written to %s\n", s.cfg.ReportOut)
	}
	fmt.Fprintf(out, "shadow: verdict %s: %d pairs compared, %d differ (%.2f%%), %d candidate errors\n",
		rep.Verdict, rep.Totals.Pairs, rep.Totals.Diffs, 100*rep.Totals.DiffRate, rep.Totals.CandidateErrors)
	for _, r := range rep.Reasons {
		fmt.Fprintf(out, "  - %s\n", r)
	}
	return rep, nil
}
