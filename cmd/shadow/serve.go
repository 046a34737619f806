package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/understudy-dev/understudy/mirror"
)

// serve runs the session's proxy on ln until ctx is done, printing a
// summary line every SummaryInterval, then shuts down gracefully: the
// server stops accepting and finishes in-flight requests, then the proxy
// drains its queued copies, both within ShutdownTimeout.
func (s *session) serve(ctx context.Context, ln net.Listener, out io.Writer, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           s.proxy,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	start := time.Now()
	tick := time.NewTicker(s.cfg.SummaryInterval)
	defer tick.Stop()
	var last mirror.Stats
	var serveErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-served:
			serveErr = fmt.Errorf("serve %s: %w", ln.Addr(), err)
			break loop
		case now := <-tick.C:
			st := s.proxy.Stats()
			fmt.Fprintln(out, s.summaryLine(st, last, now.Sub(start), s.cfg.SummaryInterval))
			last = st
		}
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
	// The last line averages over the whole run.
	up := time.Since(start)
	fmt.Fprintln(out, s.summaryLine(s.proxy.Stats(), mirror.Stats{}, up, up))
	fmt.Fprintf(out, "shadow: stopped after %s; %d copies abandoned at shutdown\n", up.Round(time.Second), abandoned)
	return serveErr
}

// summaryLine renders the proxy's counters and the diff totals as one
// line; the request rate is over the last interval.
func (s *session) summaryLine(st, last mirror.Stats, up, interval time.Duration) string {
	var skipped uint64
	for _, n := range st.Skipped {
		skipped += n
	}
	rate := float64(st.Received-last.Received) / interval.Seconds()
	t := s.engine.Report().Totals
	return fmt.Sprintf("shadow %s: %d req (%.0f/s) mirrored %d dropped %d skipped %d | compared %d differ %d (%.1f%%) noise-only %d cand-err %d | queue %d/%d",
		up.Round(time.Second), st.Received, rate, st.Mirrored, st.Dropped, skipped,
		t.Pairs, t.Diffs, 100*t.DiffRate, t.NoiseOnly, t.CandidateErrors, st.QueueDepth, st.QueueSize)
}
