package tui

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// maxAssertionLines bounds the assertion failures listed, so the step
// table keeps its room.
const maxAssertionLines = 4

// SynthView shows a synthetic run: scenario and progress, the guardrail
// (prominent when tripped), pacing counters, target against achieved rate
// over time, a step table, the status code distribution and the assertion
// failures. The arrows scroll the step table.
type SynthView struct {
	// KeyMap holds the step table's scrolling keys.
	KeyMap NavKeyMap

	styles Styles
	snap   SynthSnapshot
	at     time.Time
	have   bool
	rates  chart
	hist   history
	steps  table
	rows   [][]cell
	width  int
	height int
}

// NewSynthView returns a view with no data yet.
func NewSynthView(st Styles) SynthView {
	v := SynthView{
		KeyMap: DefaultNavKeyMap(),
		styles: st,
		rates:  newChart("rate", "target", "achieved", fmtPerSec, st),
	}
	v.steps.empty = "no steps run yet"
	v.steps.cols = []column{
		{title: "JOURNEY", width: 12},
		{title: "STEP"},
		{title: "COUNT", width: 8, right: true},
		{title: "OK%", width: 6, right: true},
		{title: "P50", width: 7, right: true},
		{title: "P90", width: 7, right: true},
		{title: "P99", width: 7, right: true},
		{title: "ERRORS", width: 7, right: true},
	}
	return v
}

// SetSnapshot shows s, taken at t.
func (v *SynthView) SetSnapshot(t time.Time, s SynthSnapshot) {
	if v.have && t.Before(v.at) {
		v.hist.reset()
	}
	v.snap, v.at, v.have = s, t, true
	v.hist.add(t, s.TargetRate, s.AchievedRate)
	v.rates.setPoints(v.hist.points())
	v.rows = v.rows[:0]
	for i := range s.Steps {
		v.rows = append(v.rows, v.stepCells(&s.Steps[i]))
	}
	v.layout()
}

// SetSize sets the view's size.
func (v *SynthView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.layout()
}

// layout shares the height between the chart and the step table; the
// lines above and below them are fixed by the snapshot.
func (v *SynthView) layout() {
	fixed := 4 + 1 + v.assertionLines() // header lines, codes, assertions
	rest := max(v.height-fixed, 0)
	chartH := 0
	if rest >= 10 {
		chartH = clamp(rest/2, 5, 12)
	}
	v.rates.setSize(v.width, chartH)
	v.steps.setSize(v.width, rest-chartH)
	v.steps.follow(v.steps.offset, len(v.rows))
}

// assertionLines is how many lines the assertion failures take.
func (v *SynthView) assertionLines() int {
	n := len(v.snap.AssertionFailures)
	if n == 0 {
		return 0
	}
	return 1 + min(n, maxAssertionLines)
}

// Update scrolls the step table.
func (v SynthView) Update(msg tea.Msg) (SynthView, tea.Cmd) {
	if km, ok := msg.(tea.KeyMsg); ok {
		page := v.steps.pageRows()
		last := max(len(v.rows)-page, 0)
		if off, ok := v.KeyMap.move(km, v.steps.offset, last+1, page); ok {
			v.steps.offset = off
		}
	}
	return v, nil
}

// View renders the view.
func (v SynthView) View() string {
	if !v.have {
		return v.styles.Muted.Render("waiting for the runner's first snapshot…")
	}
	parts := []string{v.titleLine(), v.progressLine(), v.guardrailLine(), v.counterLine()}
	if c := v.rates.View(); c != "" {
		parts = append(parts, c)
	}
	if v.steps.height > 0 {
		parts = append(parts, v.steps.render(len(v.rows), func(i int) []cell { return v.rows[i] }, -1, v.styles))
	}
	parts = append(parts, v.codesLine())
	if a := v.assertions(); a != "" {
		parts = append(parts, a)
	}
	return strings.Join(parts, "\n")
}

// titleLine renders the scenario, run id and target.
func (v SynthView) titleLine() string {
	st, s := v.styles, v.snap
	sep := st.Muted.Render(" · ")
	line := st.Value.Render(oneLine(s.Scenario)) + sep + st.Label.Render("run ") + oneLine(s.RunID) +
		sep + st.Label.Render("target ") + oneLine(s.Target)
	return truncate(line, v.width)
}

// progressLine renders the stage, elapsed time, a progress bar and the
// result once there is one.
func (v SynthView) progressLine() string {
	st, s := v.styles, v.snap
	var b strings.Builder
	if s.Stage != "" {
		b.WriteString(oneLine(s.Stage) + "  ")
	}
	b.WriteString(fmtSpan(s.Elapsed))
	if s.Duration > 0 {
		b.WriteString(" / " + fmtSpan(s.Duration))
	}
	b.WriteString("  ")
	state := ""
	switch {
	case s.Result == "passed":
		state = st.Good.Render("PASSED")
	case s.Result == "failed" || s.Result == "aborted":
		state = st.Bad.Render(strings.ToUpper(s.Result))
	case s.Done:
		state = st.Muted.Render("DONE")
	case s.Paused:
		state = st.Warn.Render("PAUSED")
	}
	if s.Duration > 0 {
		used := ansi.StringWidth(b.String()) + ansi.StringWidth(state) + 1
		b.WriteString(progressBar(s.Progress, min(max(v.width-used, 10), 40), st))
	} else {
		b.WriteString(st.Muted.Render("until stopped")) // no end, so no bar
	}
	if state != "" {
		b.WriteString(" " + state)
	}
	return truncate(b.String(), v.width)
}

// progressBar renders frac (0..1) as a bar w cells wide with the percentage.
func progressBar(frac float64, w int, st Styles) string {
	if math.IsNaN(frac) {
		frac = 0
	}
	frac = math.Max(0, math.Min(1, frac))
	pct := " " + strconv.Itoa(int(math.Round(frac*100))) + "%"
	bar := max(w-len(pct), 1)
	full := int(math.Round(frac * float64(bar)))
	return st.BarFull.Render(strings.Repeat("█", full)) +
		st.BarEmpty.Render(strings.Repeat("░", bar-full)) + pct
}

// guardrailLine renders the guardrail: a full-width banner when tripped.
func (v SynthView) guardrailLine() string {
	st, g := v.styles, v.snap.Guardrail
	switch g.State {
	case GuardrailTripped:
		text := " GUARDRAIL TRIPPED"
		if g.Reason != "" {
			text += ": " + oneLine(g.Reason)
		}
		return st.Banner.Render(pad("!!"+text+" ", v.width, false))
	case GuardrailArmed:
		line := st.Good.Render("guardrail armed")
		if g.Reason != "" {
			line += st.Muted.Render(" · " + oneLine(g.Reason))
		}
		return truncate(line, v.width)
	}
	return st.Muted.Render("guardrail off")
}

// counterLine renders pacing and journey counters.
func (v SynthView) counterLine() string {
	st, s := v.styles, v.snap
	kv := func(label, value string) string { return st.Label.Render(label+" ") + value }
	rate := fmtRate(s.AchievedRate) + "/" + fmtRate(s.TargetRate) + "/s"
	if s.TargetRate > 0 && s.AchievedRate < s.TargetRate*0.9 {
		rate = st.Warn.Render(rate)
	}
	parts := []string{kv("rate", rate)}
	if s.Ceiling > 0 {
		parts = append(parts, kv("ceiling", fmtRate(s.Ceiling)+"/s"))
	}
	parts = append(parts,
		kv("in-flight", strconv.Itoa(s.InFlight)),
		kv("started", fmtCount(s.JourneysStarted)),
		kv("done", fmtCount(s.JourneysCompleted)),
	)
	dropped := kv("dropped", "0")
	if s.JourneysDropped > 0 {
		dropped = st.Warn.Render("dropped " + fmtCount(s.JourneysDropped))
	}
	parts = append(parts, dropped)
	return truncate(strings.Join(parts, st.Muted.Render(" · ")), v.width)
}

// codesLine renders the status code distribution, errors and 5xx in red.
func (v SynthView) codesLine() string {
	st, codes := v.styles, v.snap.StatusCodes
	if len(codes) == 0 {
		return st.Label.Render("status codes ") + st.Muted.Render("none yet")
	}
	keys := make([]string, 0, len(codes))
	var total uint64
	for k, n := range codes {
		keys = append(keys, k)
		total += n
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(len(a), len(b)); c != 0 { // numbers before "error"
			return c
		}
		return cmp.Compare(a, b)
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		n := codes[k]
		text := oneLine(k) + " " + fmtCount(n) + " (" + fmtPct(float64(n)/float64(total)) + ")"
		switch {
		case strings.HasPrefix(k, "5") || k == "error":
			text = st.Bad.Render(text)
		case strings.HasPrefix(k, "4"):
			text = st.Warn.Render(text)
		}
		parts = append(parts, text)
	}
	return truncate(st.Label.Render("status codes ")+strings.Join(parts, st.Muted.Render(" · ")), v.width)
}

// assertions renders the most frequent assertion failures.
func (v SynthView) assertions() string {
	st, fails := v.styles, v.snap.AssertionFailures
	if len(fails) == 0 {
		return ""
	}
	sorted := slices.Clone(fails)
	slices.SortStableFunc(sorted, func(a, b AssertionFailure) int { return cmp.Compare(b.Count, a.Count) })
	var total uint64
	for _, f := range fails {
		total += f.Count
	}
	lines := []string{st.Bad.Render("assertion failures " + fmtCount(total))}
	for i, f := range sorted {
		if i == maxAssertionLines {
			break
		}
		line := "  " + pad(fmtCount(f.Count)+"×", 8, true) + " " + oneLine(f.Step) + ": " + oneLine(f.Message)
		if i == maxAssertionLines-1 && len(sorted) > maxAssertionLines {
			line = "  … " + strconv.Itoa(len(sorted)-i) + " more"
		}
		lines = append(lines, truncate(line, v.width))
	}
	return strings.Join(lines, "\n")
}

// stepCells renders one step as table cells.
func (v *SynthView) stepCells(s *Step) []cell {
	st := v.styles
	ok := plainCell(fmtPct(s.SuccessRate))
	switch {
	case s.Count > 0 && s.SuccessRate < 0.95:
		ok = styledCell(ok.text, st.Bad)
	case s.Errors > 0:
		ok = styledCell(ok.text, st.Warn)
	}
	errs := plainCell(fmtCount(s.Errors))
	if s.Errors > 0 {
		errs = styledCell(errs.text, st.Bad)
	}
	return []cell{
		plainCell(s.Journey),
		plainCell(s.Name),
		plainCell(fmtCount(s.Count)),
		ok,
		plainCell(fmtDur(s.P50)),
		plainCell(fmtDur(s.P90)),
		plainCell(fmtDur(s.P99)),
		errs,
	}
}
