package scenarios

import (
	"fmt"
	"sync"
	"time"

	"github.com/understudy-dev/understudy/stats"
)

// guardrailTick is how often the guardrail looks at its window.
const guardrailTick = 250 * time.Millisecond

// guardrail watches the sliding window of request outcomes and decides
// when the target is in enough trouble to abort: a limit exceeded, with
// enough samples, at every look for a whole window.
type guardrail struct {
	cfg     Guardrails
	enabled bool // any limit is set; fixed at newGuardrail
	window  *stats.Window

	mu     sync.Mutex
	status GuardrailStatus
}

func newGuardrail(cfg Guardrails) *guardrail {
	return &guardrail{
		cfg:     cfg,
		enabled: cfg.enabled(),
		window:  stats.NewWindow(cfg.window()),
		status:  GuardrailStatus{Enabled: cfg.enabled()},
	}
}

// check looks at the window as of now. It returns why the run must abort,
// or "" to carry on. Without limits it has nothing to judge and leaves the
// window alone: snapshot reads it when asked. (Reading it merges a latency
// histogram per second of the window: at every tick, that was a tenth of
// synth's CPU at 2,000 requests a second.)
func (g *guardrail) check(now time.Time) string {
	if !g.enabled {
		return ""
	}
	ws := g.window.Stats(now)
	breach := g.breach(ws)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status.Window = ws
	if breach == "" {
		g.status.Breaching, g.status.BreachSince = false, time.Time{}
		return ""
	}
	if !g.status.Breaching {
		g.status.Breaching, g.status.BreachSince = true, now
	}
	sustained := now.Sub(g.status.BreachSince)
	if sustained < g.cfg.window() {
		return ""
	}
	return fmt.Sprintf("guardrail: %s, sustained for %v", breach, sustained.Round(time.Second))
}

// breach says which limit ws exceeds, or "".
func (g *guardrail) breach(ws stats.WindowStats) string {
	c := g.cfg
	if !c.enabled() || ws.Count < int64(c.minSamples()) {
		return ""
	}
	if c.MaxErrorRate > 0 && ws.ErrorRate > c.MaxErrorRate {
		return fmt.Sprintf("error rate %.1f%% (%d of %d requests in the last %v) is above max_error_rate %.1f%%",
			100*ws.ErrorRate, ws.Failures, ws.Count, ws.Span, 100*c.MaxErrorRate)
	}
	if c.MaxP99 > 0 && ws.P99 > c.MaxP99 {
		return fmt.Sprintf("p99 latency %v (%d requests in the last %v) is above max_p99 %v",
			ws.P99, ws.Count, ws.Span, c.MaxP99)
	}
	return ""
}

// snapshot returns the latest status; without limits, the window's
// figures are those as of now.
func (g *guardrail) snapshot(now time.Time) GuardrailStatus {
	if !g.enabled {
		return GuardrailStatus{Window: g.window.Stats(now)}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.status
}

// record adds one request outcome to the window.
func (g *guardrail) record(at time.Time, latency time.Duration, failed bool) {
	g.window.Record(at, latency, failed)
}
