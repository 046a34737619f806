package tui

import (
	"math"
	"slices"
	"time"
)

// historyLen bounds the points a chart keeps: one per second of snapshot
// time, so two minutes.
const historyLen = 120

// point is one chart sample: two series (A, B) at one second.
type point struct {
	T    time.Time
	A, B float64
}

// history is a bounded series of points, one per second of snapshot time:
// a snapshot in the same second as the last point replaces it, so a fast
// poll does not shorten the time the chart covers.
type history struct {
	pts []point
}

// maxChartValue bounds charted values, so a nonsense value from a remote
// instance cannot overflow the chart's scale.
const maxChartValue = 1e12

// chartValue makes v safe to chart: NaN and negative values become 0,
// huge ones maxChartValue.
func chartValue(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	return math.Min(v, maxChartValue)
}

// add records a sample taken at t. A sample older than the last point (the
// instance restarted, or its clock moved back) starts a new history.
func (h *history) add(t time.Time, a, b float64) {
	p := point{T: t, A: chartValue(a), B: chartValue(b)}
	if n := len(h.pts); n > 0 {
		last := h.pts[n-1].T
		switch {
		case t.Before(last):
			h.pts = h.pts[:0]
		case t.Unix() == last.Unix():
			h.pts[n-1] = p
			return
		}
	}
	if len(h.pts) == historyLen {
		h.pts = slices.Delete(h.pts, 0, 1)
	}
	h.pts = append(h.pts, p)
}

// points returns the recorded points, oldest first; the caller must not
// change them.
func (h *history) points() []point { return h.pts }

// reset forgets every point.
func (h *history) reset() { h.pts = h.pts[:0] }

// rateWindow is how far back a derived rate looks: long enough to smooth a
// 100ms poll, short enough to follow a change.
const rateWindow = time.Second

// maxRateSamples bounds the samples a counterRate keeps.
const maxRateSamples = 64

// sample is a counter's value at one time.
type sample struct {
	t time.Time
	v uint64
}

// counterRate derives a per-second rate from successive readings of a
// monotonic counter, over about rateWindow.
type counterRate struct {
	samples []sample
}

// add records the counter's value v at t. A reading at or before the last
// one is ignored (a repeated snapshot); a counter that went down (the
// instance restarted) starts over.
func (c *counterRate) add(t time.Time, v uint64) {
	if n := len(c.samples); n > 0 {
		last := c.samples[n-1]
		if !t.After(last.t) {
			return
		}
		if v < last.v {
			c.samples = c.samples[:0]
		}
	}
	c.samples = append(c.samples, sample{t: t, v: v})
	// Keep the newest sample at least rateWindow old as the base.
	cut := t.Add(-rateWindow)
	drop := 0
	for drop+1 < len(c.samples) && !c.samples[drop+1].t.After(cut) {
		drop++
	}
	if over := len(c.samples) - maxRateSamples; over > drop {
		drop = over
	}
	if drop > 0 {
		c.samples = slices.Delete(c.samples, 0, drop)
	}
}

// rate returns the per-second rate over the recorded window and whether
// there were two readings to derive it from.
func (c *counterRate) rate() (float64, bool) {
	n := len(c.samples)
	if n < 2 {
		return 0, false
	}
	first, last := c.samples[0], c.samples[n-1]
	dt := last.t.Sub(first.t).Seconds()
	if dt <= 0 {
		return 0, false
	}
	return float64(last.v-first.v) / dt, true
}
