package tui

import (
	"strconv"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/linechart/timeserieslinechart"
)

// Data set names inside the line chart; drawn in this order, so B is on
// top where the lines cross.
const (
	seriesA = "a"
	seriesB = "b"
)

// chart draws two series over time — primary against candidate p99, or
// target against achieved rate — under a one-line legend with their
// latest values. The plot has one column per second, so it is drawn again
// only when a second begins or the size changes, and cached: a 100ms poll
// costs a legend, and View a string join.
type chart struct {
	title        string
	nameA, nameB string
	// format renders a value for the axis and the legend.
	format func(float64) string
	styles Styles

	width, height int
	pts           []point
	// plot is the drawn plot; plotLen and plotEnd are the points it was
	// drawn from, to tell when it is out of date.
	plot    string
	plotLen int
	plotEnd time.Time
}

// newChart returns an empty chart.
func newChart(title, nameA, nameB string, format func(float64) string, st Styles) chart {
	return chart{title: title, nameA: nameA, nameB: nameB, format: format, styles: st}
}

// setSize sets the chart's size, legend included, and redraws it.
func (c *chart) setSize(w, h int) {
	if w == c.width && h == c.height {
		return
	}
	c.width, c.height = w, h
	c.redraw()
}

// setPoints replaces the charted points (oldest first); the plot is drawn
// again when they cover a new second.
func (c *chart) setPoints(pts []point) {
	c.pts = append(c.pts[:0], pts...)
	var end time.Time
	if n := len(pts); n > 0 {
		end = pts[n-1].T
	}
	if len(pts) != c.plotLen || end.Unix() != c.plotEnd.Unix() {
		c.redraw()
	}
}

// View returns the chart, exactly height lines (none when height is 0).
func (c chart) View() string {
	switch {
	case c.height <= 0 || c.width <= 0:
		return ""
	case c.plot == "":
		return truncate(c.legend(), c.width)
	}
	return truncate(c.legend(), c.width) + "\n" + c.plot
}

// redraw draws the plot into the cache.
func (c *chart) redraw() {
	c.plot, c.plotLen, c.plotEnd = "", len(c.pts), time.Time{}
	if len(c.pts) > 0 {
		c.plotEnd = c.pts[len(c.pts)-1].T
	}
	plotH := c.height - 1
	if plotH <= 0 {
		return
	}
	if plotH < 3 || c.width < 20 {
		c.plot = fit("", c.width, plotH)
		return
	}
	if len(c.pts) == 0 {
		c.plot = fit(c.styles.Muted.Render("  waiting for data"), c.width, plotH)
		return
	}
	minT, maxT := c.pts[0].T, c.pts[len(c.pts)-1].T
	if maxT.Unix() <= minT.Unix() {
		maxT = minT.Add(time.Second)
	}
	maxY := 0.0
	for _, p := range c.pts {
		maxY = max(maxY, p.A, p.B)
	}
	if maxY <= 0 {
		maxY = 1
	}
	maxY *= 1.2 // headroom, so the top line stays readable
	labelW := 9 // "15:04:05" and a gap
	lc := timeserieslinechart.New(c.width, plotH,
		timeserieslinechart.WithTimeRange(minT, maxT),
		timeserieslinechart.WithYRange(0, maxY),
		timeserieslinechart.WithXYSteps(max(labelW, c.width/4), 2),
		timeserieslinechart.WithXLabelFormatter(func(_ int, v float64) string {
			return fmtClock(time.Unix(int64(v), 0))
		}),
		timeserieslinechart.WithYLabelFormatter(func(_ int, v float64) string { return c.format(v) }),
		timeserieslinechart.WithAxesStyles(c.styles.Axis, c.styles.Axis),
		timeserieslinechart.WithDataSetStyle(seriesA, c.styles.SeriesA),
		timeserieslinechart.WithDataSetStyle(seriesB, c.styles.SeriesB),
	)
	for _, p := range c.pts {
		lc.PushDataSet(seriesA, timeserieslinechart.TimePoint{Time: p.T, Value: p.A})
		lc.PushDataSet(seriesB, timeserieslinechart.TimePoint{Time: p.T, Value: p.B})
	}
	lc.DrawBrailleDataSets([]string{seriesA, seriesB})
	c.plot = fit(lc.View(), c.width, plotH)
}

// legend returns the title and each series' name and latest value.
func (c chart) legend() string {
	a, b := "-", "-"
	if n := len(c.pts); n > 0 {
		a, b = c.format(c.pts[n-1].A), c.format(c.pts[n-1].B)
	}
	var sb strings.Builder
	sb.WriteString(c.styles.Heading.Render(c.title))
	sb.WriteString("  ")
	sb.WriteString(c.styles.SeriesA.Render("━ " + c.nameA + " " + a))
	sb.WriteString("  ")
	sb.WriteString(c.styles.SeriesB.Render("━ " + c.nameB + " " + b))
	return sb.String()
}

// fmtMillis formats a latency given in milliseconds for a chart.
func fmtMillis(v float64) string {
	switch {
	case v <= 0:
		return "0"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
	case v < 10000:
		return strconv.FormatFloat(v, 'f', 0, 64) + "ms"
	default:
		return strconv.FormatFloat(v/1000, 'f', 0, 64) + "s"
	}
}

// fmtPerSec formats a rate for a chart.
func fmtPerSec(v float64) string {
	if v <= 0 {
		return "0/s"
	}
	return fmtRate(v) + "/s"
}

// millis converts a latency to float milliseconds for charting.
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
