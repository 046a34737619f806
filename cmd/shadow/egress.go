package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/egress"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/observe"
)

// withOutboundJudge has the engine of cfg judge the outbound calls that
// capture records hold, as the live run did.
func withOutboundJudge(cfg *compare.Config) error {
	d, err := egress.NewDiffer(*cfg)
	if err != nil {
		return err
	}
	cfg.Outbound = d
	return nil
}

// egressRun is a session's egress: its listeners, served from when the
// session starts until the proxy has drained its copies (a copy still in
// flight needs its calls answered), and the differ the engine judges
// outbound calls with. The nil *egressRun is a session without egress:
// every method does nothing.
type egressRun struct {
	e      *egress.Egress
	differ *egress.Differ
	mode   egress.TraceMode
	deps   []egress.Dependency
	// maxMemory is egress_limits.max_memory_bytes, resolved.
	maxMemory int64
	cancel    context.CancelFunc
	done      chan error
}

// newEgressRun builds and binds the egress of cfg (nil when egress is
// off), so that its listeners' addresses are known before the services
// that call them are started.
func newEgressRun(cfg config, logger *slog.Logger) (*egressRun, error) {
	if !cfg.egressOn() {
		return nil, nil
	}
	ecfg := cfg.Egress
	ecfg.Redactor = &cfg.Capture.Redact
	ecfg.Logger = logger
	e, err := egress.New(ecfg)
	if err != nil {
		return nil, cli.ConfigError(cfg.explain(errors.Unwrap(err)))
	}
	differ, err := egress.NewDiffer(cfg.Compare)
	if err != nil {
		return nil, cli.ConfigError(cfg.explain(cli.Under("compare", err)))
	}
	if err := e.Listen(); err != nil {
		return nil, cli.Aborted(err)
	}
	return &egressRun{e: e, differ: differ, mode: ecfg.Trace, deps: ecfg.Dependencies, maxMemory: ecfg.Limits.WithDefaults().MaxMemoryBytes}, nil
}

// judge is the engine's outbound judge; nil without egress.
func (r *egressRun) judge() *egress.Differ {
	if r == nil {
		return nil
	}
	return r.differ
}

// observe has the pipeline take each exchange's outbound calls.
func (r *egressRun) observe(c *observe.Config) {
	if r != nil {
		c.Outbound = r.e
	}
}

// trace puts egress's trace middleware (egress_trace) in front of h, so
// that every request carries one traceparent on all its copies; h itself
// without egress.
func (r *egressRun) trace(h http.Handler) http.Handler {
	if r == nil {
		return h
	}
	return r.mode.Middleware(h)
}

// start serves the listeners until stop.
func (r *egressRun) start(logger *slog.Logger) {
	if r == nil || r.done != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() {
		err := r.e.Run(ctx)
		if err != nil {
			logger.Error("egress", "err", err)
		}
		r.done <- err
	}()
}

// stop shuts the listeners down (copies still waiting are refused) and
// waits for them; it is safe to call more than once, and without start.
func (r *egressRun) stop() {
	if r == nil {
		return
	}
	if r.done == nil {
		_ = r.e.Close()
		return
	}
	// The proxy has drained: no copy waits for a call any more, and a
	// connection a service dialled but never used must not hold the
	// listeners open for the server's grace.
	_ = r.e.Close()
	r.cancel()
	if _, ok := <-r.done; ok { // the error was logged by start
		close(r.done)
	}
}

// url is the base URL a side's instance is given for a dependency.
func (r *egressRun) url(dependency string, side exchange.Side) string {
	if r == nil {
		return ""
	}
	return r.e.URL(dependency, side)
}

// describe prints where each dependency's listeners are, the base URLs
// each side's instance must be given.
func (r *egressRun) describe(w io.Writer) {
	if r == nil {
		return
	}
	for _, d := range r.deps {
		line := fmt.Sprintf("shadow: egress %s (%s):", d.Name, d.Upstream)
		for _, side := range []exchange.Side{exchange.Primary, exchange.Secondary, exchange.Candidate} {
			if u := r.e.URL(d.Name, side); u != "" {
				line += fmt.Sprintf(" %s %s", side, u)
			}
		}
		fmt.Fprintln(w, line)
	}
	for _, side := range []exchange.Side{exchange.Primary, exchange.Secondary, exchange.Candidate} {
		if u := r.e.URL("", side); u != "" {
			fmt.Fprintf(w, "shadow: egress proxy (HTTP_PROXY) for the %s: %s\n", side, u)
		}
	}
}

// summary says what egress did, for the final summary line; "" without
// egress.
func (r *egressRun) summary() string {
	if r == nil {
		return ""
	}
	st := r.e.Stats()
	s := fmt.Sprintf("egress: %d primary calls forwarded (%d recorded), candidate %d calls answered from them, %d refused",
		st.Primary.Forwarded, st.Primary.Recorded, st.Candidate.Answered, sum(st.Candidate.Refused))
	if len(st.Candidate.Refused) > 0 {
		var rs []string
		for _, reason := range slices.Sorted(maps.Keys(st.Candidate.Refused)) {
			rs = append(rs, fmt.Sprintf("%s %d", reason, st.Candidate.Refused[reason]))
		}
		s += " (" + strings.Join(rs, ", ") + ")"
	}
	if st.Secondary.Calls > 0 {
		s += fmt.Sprintf(", secondary %d answered, %d refused", st.Secondary.Answered, sum(st.Secondary.Refused))
	}
	s += fmt.Sprintf("; records peaked at %d of %d bytes", st.PeakBytes, r.maxMemory)
	if n := st.EvictedMemory + st.EvictedTTL + st.OverBudget; n > 0 {
		s += fmt.Sprintf(" (%d evicted for memory, %d for age, %d not recorded for the budget)", st.EvictedMemory, st.EvictedTTL, st.OverBudget)
	}
	if n := st.Primary.NotRecorded; n > 0 {
		s += fmt.Sprintf(", %d primary calls not recorded whole", n)
	}
	return s
}

func sum(m map[egress.Reason]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
