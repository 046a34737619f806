package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/dash"
	"github.com/understudy-dev/understudy/tui"
)

// serve runs the session's proxy and shows it with d until ctx is done or
// the user quits the dashboard, then shuts down gracefully: the server
// stops accepting and finishes in-flight requests, then the proxy drains
// its queued copies, both within ShutdownTimeout.
func (s *session) serve(ctx context.Context, d dash.Display, out io.Writer) error {
	ln, logger, srv := s.ln, s.logger, s.srv
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	// shown is closed when the dashboard has returned (the user quit, or
	// showCtx ended), so that waiting for it twice is fine.
	showCtx, stopShow := context.WithCancel(ctx)
	shown := make(chan struct{})
	var showErr error
	go func() { defer close(shown); showErr = d.Show(showCtx) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case <-shown:
		if showErr != nil {
			serveErr = fmt.Errorf("dashboard: %w", showErr)
		}
	case err := <-served:
		serveErr = fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	stopShow()
	if s.beforeShutdown != nil {
		s.beforeShutdown()
	}

	logger.Info("shutting down", "grace", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("client requests cut short by shutdown", "err", err)
	}
	abandoned, err := s.proxy.Shutdown(sctx)
	if err != nil {
		logger.Warn("mirror copies abandoned at shutdown", "abandoned", abandoned, "err", err)
	}
	s.egress.stop() // after the copies: one in flight needs its calls answered
	s.grpc.close()  // nothing compares any more
	// Every observer call has returned: the capture files can be finished.
	if err := s.rec.Close(); err != nil {
		logger.Error("capture incomplete", "err", err)
	}
	<-shown
	snap, _ := d.Source.Snapshot(context.Background())
	fmt.Fprintln(out, tui.Plain(snap))
	line := fmt.Sprintf("shadow: stopped after %s; %d copies abandoned at shutdown",
		time.Since(s.started).Round(time.Second), abandoned)
	if c := s.rec.Summary(); c != "" {
		line += "; " + c
	}
	if e := s.egress.summary(); e != "" {
		line += "; " + e
	}
	if c := s.grpc.summary(); c != "" {
		line += "; " + c
	}
	fmt.Fprintln(out, line)
	return serveErr
}
