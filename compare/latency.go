package compare

import (
	"fmt"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/internal/numfmt"
)

// LatencyCheck is the latency gate applied to one endpoint: the limits,
// what was measured, and whether it held.
type LatencyCheck struct {
	// Enabled reports that the gate checks this endpoint (see
	// LatencyRule.Off, P50 and P99).
	Enabled bool `json:"enabled"`
	// Judged reports that the endpoint had MinPairs pairs, so its
	// latency was judged.
	Judged bool `json:"judged"`
	// Failed reports that the candidate is slower than the limits allow.
	Failed bool `json:"failed"`
	// MaxP50 and MaxP99 are the ratio limits; 0 means not checked.
	MaxP50 float64 `json:"max_p50,omitempty"`
	MaxP99 float64 `json:"max_p99,omitempty"`
	// MinDeltaMs is how much slower, at least, a ratio above its limit
	// must also be to count; 0 means no minimum.
	MinDeltaMs float64 `json:"min_delta_ms,omitempty"`
	// MinPairs is the pairs the endpoint needed to be judged.
	MinPairs int `json:"min_pairs"`
	// P50Ratio and P99Ratio are candidate over primary; 0 when the
	// primary's latency is unknown.
	P50Ratio float64 `json:"p50_ratio"`
	P99Ratio float64 `json:"p99_ratio"`
	// Reason says what failed, or why the endpoint was not judged.
	Reason string `json:"reason,omitempty"`
}

// latencyCheck applies the latency gate l (with defaults) to an
// endpoint's counts.
func latencyCheck(c Counts, l LatencyRule) *LatencyCheck {
	lc := &LatencyCheck{Enabled: l.enabled(), MinPairs: l.MinPairs}
	if !l.Off {
		lc.MaxP50, lc.MaxP99 = ratioOf(l.P50), ratioOf(l.P99)
	}
	if l.MinDelta > 0 {
		lc.MinDeltaMs = ms(l.MinDelta)
	}
	lc.P50Ratio = ratio(c.CandidateP50Ms, c.PrimaryP50Ms)
	lc.P99Ratio = ratio(c.CandidateP99Ms, c.PrimaryP99Ms)
	switch {
	case !lc.Enabled:
		lc.Reason = "latency gate off"
		return lc
	case c.Pairs < int64(l.MinPairs):
		lc.Reason = fmt.Sprintf("%s of %d pairs: latency not judged", numfmt.Count(c.Pairs), l.MinPairs)
		return lc
	}
	lc.Judged = true
	var why []string
	for _, q := range []struct {
		name       string
		limit      float64
		cand, prim float64
	}{{"p50", lc.MaxP50, c.CandidateP50Ms, c.PrimaryP50Ms}, {"p99", lc.MaxP99, c.CandidateP99Ms, c.PrimaryP99Ms}} {
		if q.limit <= 0 || q.prim <= 0 {
			continue
		}
		delta := q.cand - q.prim
		if q.cand > q.prim*q.limit && (l.MinDelta < 0 || delta >= ms(l.MinDelta)) {
			why = append(why, fmt.Sprintf("%s %s against the primary's %s (%s, max %s, +%s)",
				q.name, numfmt.Ms(q.cand), numfmt.Ms(q.prim), numfmt.Ratio(q.cand/q.prim), numfmt.Ratio(q.limit),
				numfmt.Dur(time.Duration(delta*float64(time.Millisecond)))))
		}
	}
	if len(why) > 0 {
		lc.Failed = true
		lc.Reason = strings.Join(why, "; ")
	}
	return lc
}

// ratio is a over b, 0 when b is.
func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(int64(a/b*1000+0.5)) / 1000
}

// latencyCheckText says what the check measured against its limits:
// "p50 1.05× (max 1.20×), p99 1.10× (max 1.50×): within limits".
func latencyCheckText(lc *LatencyCheck) string {
	var parts []string
	for _, q := range []struct {
		name         string
		ratio, limit float64
	}{{"p50", lc.P50Ratio, lc.MaxP50}, {"p99", lc.P99Ratio, lc.MaxP99}} {
		s := q.name + " " + numfmt.Ratio(q.ratio)
		if q.ratio == 0 {
			s = q.name + " -"
		}
		if q.limit > 0 {
			s += " (max " + numfmt.Ratio(q.limit) + ")"
		}
		parts = append(parts, s)
	}
	s := strings.Join(parts, ", ")
	switch {
	case lc.Failed:
		return s + ": slower than allowed: " + lc.Reason
	case lc.Judged:
		return s + ": within limits"
	}
	return s + ": " + lc.Reason
}
