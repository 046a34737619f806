package bench

import (
	"fmt"
	"math"
	"strings"
)

// Verdicts of a goal.
const (
	Met     = "yes"
	Missed  = "**no**"
	Unknown = "n/a"
)

// Goal is one row of the goals table: a figure beside what it should be.
type Goal struct {
	// Name says what is measured; Figure the measurement; Target the goal;
	// Verdict is Met, Missed or Unknown (with why in Figure).
	Name, Figure, Target, Verdict string
}

// Names of the targets the goals read; the harness uses the same.
const (
	targetPlain       = "plain"
	targetShadowFast  = "shadow-fast"
	targetShadowSlow  = "shadow-slow"
	targetShadowDead  = "shadow-dead"
	targetNginxFast   = "nginx-fast"
	addedLatencyLimit = 1.2 // shadow's added latency over the plain proxy's
	p99AlikeLimit     = 1.2 // slow or dead candidate p99 over fast
	throughputShare   = 0.8 // shadow over nginx mirror
	rateTolerance     = 0.01
	maxRateShare      = 1.2 // issue 19: synth's maximum sustained rate over vegeta's
	comparePerCore    = 20000
	rssTolerance      = 0.10
)

// Goals evaluates every goal the run has figures for.
func (r *Run) Goals() []Goal {
	var gs []Goal
	for _, g := range Groups(r.Latency) {
		floor, ok := NoiseFloor(r.Latency, g)
		if !ok {
			floor = [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
		}
		gs = append(gs, addedLatencyGoals(g, LatencyTable(r.Latency, g), floor)...)
	}
	gs = append(gs, r.tlsGoals()...)
	if len(r.Latency) > 0 {
		gs = append(gs, candidateGoal(r.Latency, targetShadowSlow, "2 s candidate"),
			candidateGoal(r.Latency, targetShadowDead, "dead candidate"))
	}
	if len(r.Throughput) > 0 {
		gs = append(gs, throughputGoal(r.Throughput))
		gs = append(gs, dropGoal(r))
	}
	if len(r.Accuracy) > 0 {
		gs = append(gs, accuracyGoal(r.Accuracy))
	}
	if len(r.Ladder) > 0 {
		gs = append(gs, maxRateGoal(r.Ladder))
	}
	if slow, fast, ok := CompareRange(r.GoBench); ok {
		v, _ := slow.Metric("pairs/s")
		f, _ := fast.Metric("pairs/s")
		gs = append(gs, Goal{
			Name:    "compare engine, one goroutine",
			Figure:  fmt.Sprintf("slowest %s pairs/s (%s), fastest %s", thousands(v), shortName(slow.Name), thousands(f)),
			Target:  fmt.Sprintf("≥ %s pairs/s per core", thousands(comparePerCore)),
			Verdict: verdict(v >= comparePerCore),
		})
	}
	for _, b := range r.GoBench {
		if b.Name != "BenchmarkWrite" {
			continue
		}
		v, _ := b.Metric("records/s")
		fig := thousands(v) + " records/s"
		if c, ok := b.Metric("records/cpu-s"); ok {
			fig += ", " + thousands(c) + " records/cpu-s"
		}
		gs = append(gs, Goal{Name: "capture write, one goroutine", Figure: fig, Target: "(no goal; recorded)", Verdict: Unknown})
	}
	gs = append(gs, r.costGoals()...)
	if r.Soak != nil {
		gs = append(gs, rssGoal(r.Soak))
	}
	return gs
}

func verdict(ok bool) string {
	if ok {
		return Met
	}
	return Missed
}

// addedLatencyGoals compares shadow's added latency (fast candidate) with
// the plain proxy's and nginx mirror's, at p50 and p99. floor is the
// group's noise floor per quantile (NaN when not measured): a difference
// no larger than it is within noise, neither a miss nor a ratio worth
// quoting.
func addedLatencyGoals(group string, rows []LatencyRow, floor [4]float64) []Goal {
	sh, ok := row(rows, targetShadowFast)
	if !ok {
		return nil
	}
	var gs []Goal
	if pl, ok := row(rows, targetPlain); ok {
		var figs []string
		v := Met
		for _, i := range []int{0, 2} {
			fig, vi := vsPlain(Quantiles[i], sh.Added[i], pl.Added[i], floor[i])
			figs = append(figs, fig)
			v = worse(v, vi)
		}
		gs = append(gs, Goal{
			Name:   fmt.Sprintf("added latency @ %s upstream, shadow vs plain ReverseProxy", group),
			Figure: strings.Join(figs, "; "), Target: fmt.Sprintf("≤ %.1f× plain proxy's, or within noise of it", addedLatencyLimit), Verdict: v,
		})
	}
	if ng, ok := row(rows, targetNginxFast); ok {
		var figs []string
		v := Met
		for _, i := range []int{0, 2} {
			fig := fmt.Sprintf("%s %s vs %s", Quantiles[i], addedUs(sh.Added[i]), addedUs(ng.Added[i]))
			switch {
			case math.IsNaN(sh.Added[i]) || math.IsNaN(ng.Added[i]):
				v = worse(v, Unknown)
			case sh.Added[i] <= ng.Added[i]:
			case sh.Added[i]-ng.Added[i] <= floor[i]:
				fig += fmt.Sprintf(" (%s more, within the noise floor of %s µs)", usDiff(sh.Added[i]-ng.Added[i]), thousands(floor[i]))
			case !math.IsNaN(floor[i]):
				fig += fmt.Sprintf(" (%s more, beyond the noise floor of %s µs)", usDiff(sh.Added[i]-ng.Added[i]), thousands(floor[i]))
				v = Missed
			default:
				v = Missed
			}
			figs = append(figs, fig)
		}
		gs = append(gs, Goal{
			Name:   fmt.Sprintf("added latency @ %s upstream, shadow vs nginx mirror", group),
			Figure: strings.Join(figs, "; ") + floorNote(floor), Target: "≤ nginx mirror's, or within noise of it", Verdict: v,
		})
	}
	return gs
}

// vsPlain judges shadow's added latency sh against the plain proxy's pl at
// one quantile. Within the limit's ratio is met; so is a difference no
// larger than the noise floor. When the plain proxy adds nothing beyond
// the noise, a ratio means nothing and only the difference is judged.
func vsPlain(q string, sh, pl, floor float64) (string, string) {
	return vsRef(q, "plain", sh, pl, floor)
}

// vsRef is vsPlain against any reference target, named ref in the
// figure: within addedLatencyLimit's ratio of it, or within the noise
// floor of it, is met.
func vsRef(q, ref string, sh, pl, floor float64) (string, string) {
	fig := fmt.Sprintf("%s %s vs %s", q, addedUs(sh), addedUs(pl))
	haveFloor := !math.IsNaN(floor)
	within := haveFloor && sh-pl <= floor
	switch {
	case math.IsNaN(sh) || math.IsNaN(pl):
		return fig, Unknown
	case pl > 0 && (!haveFloor || pl > floor):
		ratio := sh / pl
		fig += fmt.Sprintf(" (%.2f×", ratio)
		switch {
		case ratio <= addedLatencyLimit:
			return fig + ")", Met
		case within:
			return fig + fmt.Sprintf("; %s more, within the noise floor of %s µs)", usDiff(sh-pl), thousands(floor)), Met
		}
		return fig + ")", Missed
	case !haveFloor:
		return fig + fmt.Sprintf(" (%s adds nothing measurable; no noise floor measured)", ref), Unknown
	case within:
		return fig + fmt.Sprintf(" (%s adds nothing beyond the noise floor of %s µs; shadow is within it of %s)", ref, thousands(floor), ref), Met
	}
	return fig + fmt.Sprintf(" (%s adds nothing beyond the noise floor of %s µs; shadow adds %s more, beyond it)", ref, thousands(floor), usDiff(sh-pl)), Missed
}

// worse returns the worse of two verdicts: Missed, then Unknown, then Met.
func worse(a, b string) string {
	rank := map[string]int{Met: 0, Unknown: 1, Missed: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// floorNote names the noise floor a figure was judged with.
func floorNote(floor [4]float64) string {
	if math.IsNaN(floor[0]) {
		return ""
	}
	return fmt.Sprintf(" (noise floor: p50 %s µs, p99 %s µs)", thousands(floor[0]), thousands(floor[2]))
}

// usDiff formats a positive difference in µs.
func usDiff(v float64) string { return fmt.Sprintf("%.0f µs", v) }

// candidateGoal compares the primary's p99 with a slow or dead candidate
// with its p99 with a fast one, in every group: met within the ratio, or
// within the group's noise floor of it.
func candidateGoal(recs []LatencyRecord, target, what string) Goal {
	g := Goal{Name: "primary p99 with a " + what, Target: fmt.Sprintf("≈ fast-candidate p99 (≤ %.1f×, or within noise)", p99AlikeLimit), Verdict: Met}
	var figs []string
	for _, grp := range Groups(recs) {
		rows := LatencyTable(recs, grp)
		fast, ok1 := row(rows, targetShadowFast)
		other, ok2 := row(rows, target)
		if !ok1 || !ok2 || fast.Us[2] <= 0 {
			continue
		}
		ratio := other.Us[2] / fast.Us[2]
		fig := fmt.Sprintf("@ %s: %s vs %s µs (%.2f×", grp, thousands(other.Us[2]), thousands(fast.Us[2]), ratio)
		if ratio > p99AlikeLimit {
			floor, ok := NoiseFloor(recs, grp)
			if ok && other.Us[2]-fast.Us[2] <= floor[2] {
				fig += fmt.Sprintf("; %s more, within the noise floor of %s µs", usDiff(other.Us[2]-fast.Us[2]), thousands(floor[2]))
			} else {
				g.Verdict = Missed
			}
		}
		figs = append(figs, fig+")")
	}
	g.Figure = strings.Join(figs, "; ")
	if len(figs) == 0 {
		g.Figure, g.Verdict = "not measured", Unknown
	}
	return g
}

func throughputGoal(cells []ThroughputCell) Goal {
	rows := ThroughputTable(cells, targetNginxFast)
	g := Goal{Name: "max throughput, shadow vs nginx mirror (fast mirror, 0 ms upstream)", Target: fmt.Sprintf("≥ %.1f× nginx mirror", throughputShare)}
	sh, ok1 := throughputRow(rows, targetShadowFast)
	ng, ok2 := throughputRow(rows, targetNginxFast)
	if !ok1 || !ok2 || math.IsNaN(sh.VsRef) {
		g.Figure, g.Verdict = "not measured", Unknown
		return g
	}
	g.Figure = fmt.Sprintf("%s vs %s req/s (%.2f×)", thousands(sh.RPS), thousands(ng.RPS), sh.VsRef)
	g.Verdict = verdict(sh.VsRef >= throughputShare)
	return g
}

func throughputRow(rows []ThroughputRow, target string) (ThroughputRow, bool) {
	for _, r := range rows {
		if r.Target == target {
			return r, true
		}
	}
	return ThroughputRow{}, false
}

// dropGoal checks that copies were dropped only under overload: none at
// the fixed rate with a fast candidate (and in the soak), and at maximum
// load only with the queue seen full.
func dropGoal(r *Run) Goal {
	g := Goal{Name: "mirror drops", Target: "only when the queue is really full"}
	var figs []string
	atRate := uint64(0)
	measured := false
	for _, grp := range Groups(r.Latency) {
		if sh, ok := row(LatencyTable(r.Latency, grp), targetShadowFast); ok && sh.Mirror != nil {
			atRate += sh.Mirror.Dropped
			measured = true
		}
	}
	if measured {
		figs = append(figs, fmt.Sprintf("%d dropped at 1,000 req/s with a fast candidate", atRate))
	}
	if r.Soak != nil && r.Soak.Shadow != nil {
		atRate += r.Soak.Shadow.Dropped
		figs = append(figs, fmt.Sprintf("%d in the soak", r.Soak.Shadow.Dropped))
	}
	verdictStr := verdict(atRate == 0)
	if sh, ok := throughputRow(ThroughputTable(r.Throughput, targetNginxFast), targetShadowFast); ok && sh.Shadow != nil {
		d := sh.Shadow
		figs = append(figs, fmt.Sprintf("%.2f%% at max load (deepest queue seen %d/%d)", 100*d.DropRatio(), d.MaxQueueDepth, d.QueueSize))
		if d.Dropped > 0 && float64(d.MaxQueueDepth) < 0.9*float64(d.QueueSize) && verdictStr == Met {
			verdictStr = Unknown // drops without having seen the queue full: polling too coarse, or a bug
		}
	}
	g.Figure, g.Verdict = strings.Join(figs, "; "), verdictStr
	return g
}

func accuracyGoal(runs []SynthRun) Goal {
	g := Goal{Name: "synth rate accuracy", Target: fmt.Sprintf("within %.0f%%", 100*rateTolerance), Verdict: Met}
	var figs []string
	for _, s := range runs {
		ratio := s.Report.AchievedRate / s.Rate
		figs = append(figs, fmt.Sprintf("%s/s: %.4f×", thousands(s.Rate), ratio))
		if math.Abs(ratio-1) > rateTolerance {
			g.Verdict = Missed
		}
	}
	g.Figure = strings.Join(figs, ", ")
	return g
}

func maxRateGoal(steps []LadderStep) Goal {
	g := Goal{Name: "synth max sustained rate vs vegeta CLI", Target: fmt.Sprintf("≥ %.1f× vegeta", maxRateShare)}
	s, sTop := MaxSustained(steps, "synth")
	v, vTop := MaxSustained(steps, "vegeta")
	g.Figure = fmt.Sprintf("synth %s vs vegeta %s", ladderFigure(steps, "synth", s, sTop), ladderFigure(steps, "vegeta", v, vTop))
	switch {
	case v == 0:
		g.Figure += " (vegeta kept up with no step)"
		g.Verdict = Unknown
	default:
		g.Figure += fmt.Sprintf(" (%.2f×)", s/v)
		g.Verdict = verdict(s/v >= maxRateShare)
	}
	return g
}

// ladderFigure says where a tool's maximum lies: at or above the rate it
// kept up with, below the first rate above it that it missed.
func ladderFigure(steps []LadderStep, tool string, kept float64, top bool) string {
	if kept == 0 {
		lowest := math.Inf(1)
		for _, s := range steps {
			if s.Tool == tool {
				lowest = min(lowest, s.Rate)
			}
		}
		return fmt.Sprintf("0/s (missed even %s/s)", thousands(lowest))
	}
	fig := atLeast(top) + thousands(kept) + "/s"
	if m := FirstMissed(steps, tool); m > 0 {
		fig += fmt.Sprintf(" (missed %s)", thousands(m))
	}
	return fig
}

// minSoakSamples is the fewest steady-state samples a memory verdict is
// given on.
const minSoakSamples = 10

// rssGoal judges growth, not flatness: a resident size that falls after
// the warm-up is memory the runtime handed back to the system. It is met
// when neither the end nor the trend over the steady state is more than
// rssTolerance above the start.
func rssGoal(s *Soak) Goal {
	f := s.Figures()
	g := Goal{Name: fmt.Sprintf("shadow memory over the soak (%s at %s req/s, VmRSS after a %ss warm-up)",
		lookup(s.Meta, "duration"), lookup(s.Meta, "rate"), lookup(s.Meta, "warmup_s")),
		Target: fmt.Sprintf("no growth: end and trend ≤ +%.0f%% of start", 100*rssTolerance)}
	if f.Samples < minSoakSamples || f.Start <= 0 {
		g.Figure, g.Verdict = fmt.Sprintf("%d samples after the warm-up, too few to judge", f.Samples), Unknown
		return g
	}
	growth, trend := f.Growth(), f.TrendGrowth()
	g.Figure = fmt.Sprintf("start %s, end %s (%+.1f%%), peak %s; trend %+.2f MiB/min (%+.1f%% over %.1f min)",
		mib(f.Start), mib(f.End), 100*growth, mib(f.Peak), f.SlopeKBPerMin/1024, 100*trend, f.Minutes)
	if f.HeapSamples > 0 {
		g.Figure += fmt.Sprintf("; Go heap in use %s → %s", mib(f.HeapStart), mib(f.HeapEnd))
	}
	switch {
	case growth > rssTolerance || trend > rssTolerance:
		g.Verdict = Missed
	case growth < -rssTolerance || trend < -rssTolerance:
		g.Figure += "; it fell: freed memory went back to the system, which is not growth"
		g.Verdict = Met
	default:
		g.Verdict = Met
	}
	return g
}

func atLeast(top bool) string {
	if top {
		return "≥ "
	}
	return ""
}

// addedUs formats an added latency: +123 µs, -4 µs.
func addedUs(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	if math.Round(v) < 0 {
		return thousands(v) + " µs"
	}
	return "+" + thousands(v) + " µs"
}

// mib formats kB as MiB.
func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

// shortName drops the Benchmark prefix.
func shortName(n string) string { return strings.TrimPrefix(n, "Benchmark") }

// thousands formats v rounded to an integer with comma separators.
func thousands(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "?"
	}
	neg := v < 0
	s := fmt.Sprintf("%.0f", math.Abs(v))
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
