package bench

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Targets of the cost section.
const (
	targetDirect          = Baseline
	targetShadowOff       = "shadow-off"
	targetShadowSecondary = "shadow-secondary"
	targetShadowCapture   = "shadow-capture"
	targetShadowTwo       = "shadow-two"
	targetShadowTransport = "shadow-transport"
	targetPlainOneP       = "plain-1p"
	targetShadowOneP      = "shadow-1p"
	targetNginxPlain      = "nginx-plain"
	targetPlainAgain      = "plain-again"
	groupCost             = "cost"
)

// Goals of issue 19 (cost) and issue 14 (hostile traffic).
const (
	addedCPUShare  = 0.15 // what shadow adds over the plain proxy, of the plain proxy's CPU per request
	nginxCPUShare  = 1.0  // shadow's CPU per mirrored request over nginx mirror's
	synthCPUShare  = 0.8  // synth's CPU per request over the vegeta CLI's
	uploadSlackMiB = 96   // shadow's RSS growth under slow uploaders over the plain proxy's: the 64 MiB body budget and the runtime's slack
	wideP50Limit   = 1.2  // unrelated clients' p50 through shadow over the plain proxy's, while wide answers are judged
	minJudgedShare = 0.9  // judged over mirrored below which a cost figure understates the judging
)

// costGoals are the goal rows of the cost, growth, uploads, wide and synth
// CPU sections.
func (r *Run) costGoals() []Goal {
	var gs []Goal
	if len(r.Cost) > 0 {
		rows := CPUTable(r.Cost, groupCost, targetPlain, targetNginxFast, targetDirect)
		noise, _ := CPUNoise(r.Cost, groupCost, targetPlain, targetPlainAgain)
		gs = append(gs, addedCPUGoal(rows, noise), nginxCPUGoal(rows))
	}
	if g, ok := r.stagesGoal(); ok {
		gs = append(gs, g)
	}
	if g, ok := r.instructionsGoal(); ok {
		gs = append(gs, g)
	}
	if g, ok := r.growthGoal(); ok {
		gs = append(gs, g)
	}
	if len(r.Uploads) > 0 {
		gs = append(gs, uploadGoal(r.Uploads))
	}
	if len(r.Wide) > 0 {
		gs = append(gs, r.wideGoal())
	}
	if len(r.SynthCost) > 0 {
		gs = append(gs, synthCPUGoal(r.SynthCost))
	}
	return gs
}

// addedCPUGoal: what shadow (one candidate, judging, metrics) adds to the
// plain proxy's CPU per request, as a share of it. noise is the CPU noise
// floor (NaN when not measured): a verdict closer to the goal than that is
// said to be within noise, either way.
func addedCPUGoal(rows []CPURow, noise float64) Goal {
	g := Goal{Name: "CPU shadow adds over a plain ReverseProxy (one candidate, judging, metrics), 1,000 req/s",
		Target: fmt.Sprintf("≤ %.0f%% of the plain proxy's CPU per request", 100*addedCPUShare)}
	sh, ok1 := cpuRow(rows, targetShadowFast)
	pl, ok2 := cpuRow(rows, targetPlain)
	if !ok1 || !ok2 || math.IsNaN(sh.Ratio[targetPlain]) {
		g.Figure, g.Verdict = "not measured", Unknown
		return g
	}
	share := sh.Ratio[targetPlain] - 1
	g.Figure = fmt.Sprintf("%s vs %s µs per request (medians); paired by round %s (%+.0f%%)", us1(sh.PerReq), us1(pl.PerReq), addedUs(sh.Added[targetPlain]), 100*share)
	g.Figure += judgedNote(sh)
	g.Verdict = verdict(share <= addedCPUShare)
	if !math.IsNaN(noise) {
		g.Figure += fmt.Sprintf("; CPU noise floor %.0f%% (plain measured twice in a row)", 100*noise)
		if math.Abs(share-addedCPUShare) <= noise {
			g.Figure += ": within noise of the goal"
		}
	}
	return g
}

// nginxCPUGoal: shadow's CPU per mirrored request against nginx mirror's
// (master and workers).
func nginxCPUGoal(rows []CPURow) Goal {
	g := Goal{Name: "CPU per mirrored request, shadow vs nginx mirror (the moonshot)", Target: fmt.Sprintf("≤ %.1f× nginx mirror's", nginxCPUShare)}
	sh, ok1 := cpuRow(rows, targetShadowFast)
	ng, ok2 := cpuRow(rows, targetNginxFast)
	if !ok1 || !ok2 || math.IsNaN(sh.Ratio[targetNginxFast]) {
		g.Figure, g.Verdict = "not measured", Unknown
		return g
	}
	g.Figure = fmt.Sprintf("%s vs %s µs (%.2f×)", us1(sh.PerReq), us1(ng.PerReq), sh.Ratio[targetNginxFast])
	if pl, ok := cpuRow(rows, targetPlain); ok && !math.IsNaN(pl.Ratio[targetNginxFast]) {
		g.Figure += fmt.Sprintf("; the plain proxy alone is %.2f× nginx mirror", pl.Ratio[targetNginxFast])
	}
	g.Verdict = verdict(sh.Ratio[targetNginxFast] <= nginxCPUShare)
	return g
}

// judgedNote warns when fewer copies were judged than mirrored: the CPU
// per request then leaves out judging it did not do.
func judgedNote(row CPURow) string {
	if m := row.Mirror; m != nil && m.Mirrored > 0 && float64(m.Compared) < minJudgedShare*float64(m.Mirrored) {
		return fmt.Sprintf(" (only %d of %d copies judged: the figure understates judging)", m.Compared, m.Mirrored)
	}
	return ""
}

// GrowthRows are the growth tables the run has, with their labels, in the
// order shown: the section's tables, then copies per request and capture
// from the cost section.
func (r *Run) GrowthRows() []NamedGrowth {
	var out []NamedGrowth
	for _, name := range growthTables {
		recs, ok := r.Growth[name]
		if !ok {
			continue
		}
		g := GrowthTable(recs, "shadow", "plain", name == "rate")
		out = append(out, NamedGrowth{Name: name, Label: growthLabels[name], Growth: g})
	}
	if g, ok := r.copiesGrowth(); ok {
		out = append(out, NamedGrowth{Name: "copies", Label: growthLabels["copies"], Growth: g})
	}
	return out
}

// NamedGrowth is one growth table and what its x is.
type NamedGrowth struct {
	Name, Label string
	Growth
}

var growthLabels = map[string]string{
	"bytes":     "answer size in bytes (8 string fields; the candidate differs in the last byte): tee and compare",
	"fields":    "fields per answer (numbers; the candidate differs in every tenth): compare",
	"endpoints": "distinct endpoints (/s/X/Y, each its own endpoint in compare; a fresh shadow per count): aggregation",
	"rate":      "requests per second, rising until shadow no longer keeps up (small answers, fast candidate); the cost is CPU per second",
	"copies":    "copies per request (1: candidate; 2: candidate + secondary, whose judging also learns noise from it), from the cost section; the cost is the CPU over mirroring off",
}

// copiesGrowth is the cost of copies per request from the cost section:
// 1 (the candidate) and 2 (candidate and secondary, or two candidates when
// measured), each over mirroring off.
func (r *Run) copiesGrowth() (Growth, bool) {
	rows := CPUTable(r.Cost, groupCost, targetShadowOff)
	off, ok := cpuRow(rows, targetShadowOff)
	if !ok {
		return Growth{}, false
	}
	g := Growth{Slope: math.NaN(), Fit: math.NaN()}
	for _, t := range []struct {
		name   string
		copies float64
	}{{targetShadowFast, 1}, {targetShadowSecondary, 2}} {
		row, ok := cpuRow(rows, t.name)
		if !ok {
			continue
		}
		g.Points = append(g.Points, GrowthPoint{X: t.copies, Shadow: row.Added[targetShadowOff], Plain: off.PerReq,
			Added: row.Added[targetShadowOff], P50: row.P50, Errors: row.Errors, Mirror: row.Mirror})
	}
	if len(g.Points) == 2 && g.Points[0].Shadow > 0 && g.Points[1].Shadow > 0 {
		g.Slope = math.Log(g.Points[1].Shadow/g.Points[0].Shadow) / math.Log(2)
		g.Fit = g.Slope
	}
	return g, len(g.Points) > 0
}

// growthGoal: every cost grows linearly or better.
func (r *Run) growthGoal() (Goal, bool) {
	gs := r.GrowthRows()
	if len(gs) == 0 {
		return Goal{}, false
	}
	g := Goal{Name: "how cost grows (log-log slope at the top of each table)", Target: fmt.Sprintf("linear or better: every slope ≤ %.2f", superlinear), Verdict: Met}
	var figs []string
	for _, x := range gs {
		if math.IsNaN(x.Slope) {
			figs = append(figs, x.Name+" ?")
			g.Verdict = worse(g.Verdict, Unknown)
			continue
		}
		f := fmt.Sprintf("%s %.2f", x.Name, x.Slope)
		if x.Superlinear() {
			f = "**" + f + " (worse than linear)**"
			g.Verdict = Missed
		}
		figs = append(figs, f)
	}
	g.Figure = strings.Join(figs, ", ")
	return g, true
}

// UploadRow is one target's figures under one mode of slow uploaders,
// medians over rounds, in kB.
type UploadRow struct {
	Mode, Target string
	Rounds       int
	Idle, Peak   int64
	HWM, Heap    int64
	// Growth is peak over idle.
	Growth               int64
	Opened, Answered     int64
	Failed               int64
	CPUus                float64
	Statuses, Errors     map[string]int
	Conns                int
	BodyBytes, DurationS float64
}

// UploadTable folds the records into a row per mode and target, in the
// order first seen.
func UploadTable(recs []UploadRecord) []UploadRow {
	type key struct{ mode, target string }
	by := map[key][]UploadRecord{}
	var order []key
	for _, u := range recs {
		k := key{u.Mode, u.Target}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], u)
	}
	var rows []UploadRow
	for _, k := range order {
		us := by[k]
		row := UploadRow{Mode: k.mode, Target: k.target, Rounds: len(us), Statuses: map[string]int{}, Errors: map[string]int{}}
		var idle, peak, hwm, growth, cpu, heap []float64
		for _, u := range us {
			idle, peak, hwm = append(idle, float64(u.IdleKB)), append(peak, float64(u.PeakKB)), append(hwm, float64(u.HWMKB))
			growth, cpu = append(growth, float64(u.PeakKB-u.IdleKB)), append(cpu, u.CPUus)
			heap = append(heap, float64(u.PeakHeapKB))
			row.Opened += u.Opened
			row.Answered += u.Answered
			row.Failed += u.Failed
			for s, n := range u.Statuses {
				row.Statuses[s] += n
			}
			for e, n := range u.Errors {
				row.Errors[e] += n
			}
			row.Conns, row.BodyBytes, row.DurationS = u.Conns, float64(u.BodyBytes), u.DurationS
		}
		row.Idle, row.Peak, row.HWM = int64(median(idle)), int64(median(peak)), int64(median(hwm))
		row.Growth, row.CPUus, row.Heap = int64(median(growth)), median(cpu), int64(median(heap))
		rows = append(rows, row)
	}
	return rows
}

func uploadRow(rows []UploadRow, mode, target string) (UploadRow, bool) {
	for _, r := range rows {
		if r.Mode == mode && r.Target == target {
			return r, true
		}
	}
	return UploadRow{}, false
}

// uploadGoal: under slow uploaders shadow's memory grows by no more than
// the plain proxy's plus the body budget.
func uploadGoal(recs []UploadRecord) Goal {
	rows := UploadTable(recs)
	g := Goal{Name: "RSS under slow uploaders, shadow vs plain ReverseProxy (peak over idle)",
		Target: fmt.Sprintf("bounded by the body budget, not by the uploaders: ≤ plain's growth + %d MiB", uploadSlackMiB), Verdict: Met}
	var figs []string
	for _, mode := range []string{"body", "hold"} {
		sh, ok1 := uploadRow(rows, mode, "shadow")
		pl, ok2 := uploadRow(rows, mode, targetPlain)
		if !ok1 || !ok2 {
			continue
		}
		fig := fmt.Sprintf("%d × %s (%s): +%s vs +%s", sh.Conns, uploadModes[mode], sizeName(sh.BodyBytes), mib(sh.Growth), mib(pl.Growth))
		if sh.Heap > 0 {
			fig += fmt.Sprintf(" (shadow's Go heap peaked at %s)", mib(sh.Heap))
		}
		figs = append(figs, fig)
		if limit := pl.Growth + uploadSlackMiB*1024; sh.Growth > limit || sh.Heap > limit {
			g.Verdict = Missed
		}
	}
	if len(figs) == 0 {
		g.Figure, g.Verdict = "not measured", Unknown
	}
	g.Figure = strings.Join(figs, "; ")
	return g
}

var uploadModes = map[string]string{
	"body": "whole body sent slowly",
	"hold": "headers and one byte, then silence",
}

// wideGoal: clients of other endpoints are not slowed by the judging of
// wide answers more than through a plain proxy.
func (r *Run) wideGoal() Goal {
	rows := LatencyTable(r.Wide, "wide")
	g := Goal{Name: "unrelated clients' p50 while a few get wide JSON (candidate changes every type), shadow vs plain ReverseProxy",
		Target: fmt.Sprintf("≤ %.1f× plain proxy's, or within noise of it", wideP50Limit)}
	sh, ok1 := row(rows, "shadow")
	pl, ok2 := row(rows, targetPlain)
	if !ok1 || !ok2 || pl.Us[0] <= 0 {
		g.Figure, g.Verdict = "not measured", Unknown
		return g
	}
	ratio := sh.Us[0] / pl.Us[0]
	g.Figure = fmt.Sprintf("p50 %s vs %s µs (%.2f×)", thousands(sh.Us[0]), thousands(pl.Us[0]), ratio)
	if q, ok := row(rows, "shadow-quiet"); ok {
		g.Figure += fmt.Sprintf("; shadow without the wide answers %s µs", thousands(q.Us[0]))
	}
	cpu := CPUTable(r.Wide, "wide", targetPlain)
	if c, ok := cpuRow(cpu, "shadow"); ok && !math.IsNaN(c.Ratio[targetPlain]) {
		g.Figure += fmt.Sprintf("; CPU per request %.1f× the plain proxy's, %s of copies judged", c.Ratio[targetPlain], judged(c.Mirror))
	}
	g.Verdict = verdict(ratio <= wideP50Limit)
	if floor, ok := NoiseFloor(r.Latency, "0 ms"); ok && g.Verdict == Missed && sh.Us[0]-pl.Us[0] <= floor[0] {
		g.Figure += fmt.Sprintf(" (%s more, within the 0 ms noise floor of %s µs)", usDiff(sh.Us[0]-pl.Us[0]), thousands(floor[0]))
		g.Verdict = Met
	}
	return g
}

// SynthCostRow is one tool's CPU per request at the fixed rate, over
// rounds.
type SynthCostRow struct {
	Tool   string
	Rounds int
	// PerReq is the median CPU µs per request; VsVegeta the median over
	// rounds of it over vegeta's in the same round.
	PerReq, VsVegeta  float64
	Requests          int64
	Achieved, Success float64
	MaxRSSKB          int64
	// UserShare is user time over all CPU time, median over rounds.
	UserShare float64
}

// SynthCostTable folds the runs into a row per tool (synth, then vegeta).
func SynthCostTable(runs []SynthCostRun) []SynthCostRow {
	veg := map[int]float64{}
	by := map[string][]SynthCostRun{}
	for _, s := range runs {
		by[s.Tool] = append(by[s.Tool], s)
		if s.Tool == "vegeta" {
			veg[s.Round] = s.CPUPerRequest()
		}
	}
	var rows []SynthCostRow
	for _, tool := range []string{"synth", "vegeta"} {
		rs := by[tool]
		if len(rs) == 0 {
			continue
		}
		row := SynthCostRow{Tool: tool, Rounds: len(rs)}
		var per, vs, ach, succ, user []float64
		for _, s := range rs {
			v := s.CPUPerRequest()
			per = append(per, v)
			if b := veg[s.Round]; b > 0 && !math.IsNaN(v) {
				vs = append(vs, v/b)
			}
			ach, succ = append(ach, s.Achieved), append(succ, s.Success)
			if c := s.Usage.CPUus(); c > 0 {
				user = append(user, s.Usage.UserUs/c)
			}
			row.Requests += s.Requests
			row.MaxRSSKB = max(row.MaxRSSKB, s.Usage.MaxRSSKB)
		}
		row.PerReq, row.VsVegeta, row.Achieved, row.Success = median(per), median(vs), median(ach), median(succ)
		row.UserShare = median(user)
		rows = append(rows, row)
	}
	return rows
}

func synthCPUGoal(runs []SynthCostRun) Goal {
	g := Goal{Name: "synth CPU per request vs vegeta CLI at the same rate", Target: fmt.Sprintf("≤ %.1f× vegeta's", synthCPUShare)}
	var sy, ve *SynthCostRow
	rows := SynthCostTable(runs)
	for i := range rows {
		switch rows[i].Tool {
		case "synth":
			sy = &rows[i]
		case "vegeta":
			ve = &rows[i]
		}
	}
	if sy == nil || ve == nil || math.IsNaN(sy.VsVegeta) {
		g.Figure, g.Verdict = "not measured", Unknown
		return g
	}
	g.Figure = fmt.Sprintf("%s vs %s µs per request (%.2f×) at %s/s", us1(sy.PerReq), us1(ve.PerReq), sy.VsVegeta, thousands(sy.Achieved))
	g.Verdict = verdict(sy.VsVegeta <= synthCPUShare)
	return g
}

// us1 formats µs with one decimal below 100, none above.
func us1(v float64) string {
	if math.IsNaN(v) {
		return "?"
	}
	if math.Abs(v) < 100 {
		return fmt.Sprintf("%.1f", v)
	}
	return thousands(v)
}

// sizeName formats a byte count: 1 KiB, 256 KiB, 1 MiB, 1,500 B.
func sizeName(b float64) string {
	switch {
	case b >= 1<<20 && math.Mod(b, 1<<20) == 0:
		return fmt.Sprintf("%.0f MiB", b/(1<<20))
	case b >= 1<<10 && math.Mod(b, 1<<10) == 0:
		return fmt.Sprintf("%.0f KiB", b/(1<<10))
	}
	return thousands(b) + " B"
}

// sortedStatuses formats status counts: "200 ×800, 502 ×3".
func sortedStatuses(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

// stagesGoal is a row with no goal: the stage breakdown of section 4 (a
// CPU profile under load), each stage of 1% or more with its share and
// its µs per request.
func (r *Run) stagesGoal() (Goal, bool) {
	if r.Stages == nil || len(r.Stages.Samples) == 0 {
		return Goal{}, false
	}
	stages, _, _ := StageBreakdown(r.Stages.Samples)
	perReq := math.NaN()
	if r.Stages.Load != nil {
		perReq = r.Stages.Load.CPUPerRequest()
	}
	var parts []string
	for _, st := range stages {
		if st.Share < 0.01 {
			continue
		}
		part := fmt.Sprintf("%s %.0f%%", st.Name, 100*st.Share)
		if !math.IsNaN(perReq) {
			part += " (" + us1(st.Share*perReq) + " µs)"
		}
		parts = append(parts, part)
	}
	name := "shadow's CPU by stage under load (CPU profile, one candidate, capture on"
	if !math.IsNaN(perReq) {
		name += fmt.Sprintf(", %s µs per request", us1(perReq))
	}
	return Goal{Name: name + ")", Figure: strings.Join(parts, "; "), Target: "(no goal; recorded: section 4 of the results)", Verdict: Unknown}, true
}
