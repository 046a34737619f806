package compare

import (
	"fmt"
	"math"
)

// Geometry of an endpoint's latency chart, in SVG user units.
const (
	chartWidth    = 440
	chartLabelW   = 40  // the percentile labels on the left
	chartBarsW    = 260 // the longest bar
	chartBarH     = 12
	chartGroupGap = 10
	chartLegendH  = 22
)

// latencyChart draws an endpoint's latency percentiles as bars, primary
// against candidate, on one scale: a bar per side for p50 and for p99.
type latencyChart struct {
	// Empty means no latency was recorded; nothing is drawn.
	Empty         bool
	Width, Height int
	// Label describes the chart for screen readers.
	Label  string
	Bars   []chartBar
	Texts  []chartText
	Legend []chartBar
}

// chartBar is a rectangle; Class is "primary" or "candidate".
type chartBar struct {
	Class, Title string
	X, Y, W, H   float64
}

// chartText is a label; Anchor is the SVG text-anchor.
type chartText struct {
	Class, Anchor, Text string
	X, Y                float64
}

func newLatencyChart(c *Counts) latencyChart {
	rows := []struct {
		name      string
		prim, can float64
	}{
		{"p50", c.PrimaryP50Ms, c.CandidateP50Ms},
		{"p99", c.PrimaryP99Ms, c.CandidateP99Ms},
	}
	top := 0.0
	for _, r := range rows {
		top = math.Max(top, math.Max(r.prim, r.can))
	}
	ch := latencyChart{
		Width: chartWidth,
		Label: fmt.Sprintf("latency p50 primary %s, candidate %s; p99 primary %s, candidate %s",
			msText(c.PrimaryP50Ms), msText(c.CandidateP50Ms), msText(c.PrimaryP99Ms), msText(c.CandidateP99Ms)),
	}
	if top <= 0 || math.IsNaN(top) || math.IsInf(top, 0) {
		ch.Empty = true
		return ch
	}
	y := 0.0
	for _, r := range rows {
		ch.Texts = append(ch.Texts, chartText{Class: "axis", Anchor: "start", Text: r.name, X: 0, Y: y + chartBarH + 3})
		for _, side := range []struct {
			class string
			v     float64
		}{{"primary", r.prim}, {"candidate", r.can}} {
			w := math.Round(side.v/top*chartBarsW*10) / 10
			text := msText(side.v)
			if side.class == "candidate" && r.prim > 0 && side.v > 0 {
				text += fmt.Sprintf(" (×%.2f)", side.v/r.prim)
			}
			ch.Bars = append(ch.Bars, chartBar{Class: side.class, Title: side.class + " " + r.name + " " + msText(side.v),
				X: chartLabelW, Y: y, W: w, H: chartBarH})
			ch.Texts = append(ch.Texts, chartText{Class: "value", Anchor: "start", Text: text,
				X: chartLabelW + w + 6, Y: y + chartBarH - 2})
			y += chartBarH + 2
		}
		y += chartGroupGap
	}
	for i, class := range []string{"primary", "candidate"} {
		x := float64(chartLabelW + i*110)
		ch.Legend = append(ch.Legend, chartBar{Class: class, Title: class, X: x, Y: y + 4, W: 10, H: 10})
		ch.Texts = append(ch.Texts, chartText{Class: "legend", Anchor: "start", Text: class, X: x + 14, Y: y + 13})
	}
	ch.Height = int(y) + chartLegendH
	return ch
}
