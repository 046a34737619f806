package bench

import (
	"fmt"
	"math"
	"strings"
)

func writeGrowth(p *printer, r *Run) {
	gs := r.GrowthRows()
	if len(gs) == 0 {
		return
	}
	p.f("\n## 5. How cost grows\n\n")
	p.f("Each table varies one thing and measures shadow's CPU per request beside a plain ReverseProxy's in the same rounds (open model, rates below; CPU as in section 3). ")
	p.f("The slope is the log-log slope of the cost between the two largest points kept up with: where the fixed cost of a request dilutes it least, so a linear cost gives at most 1 and anything above %.2f is worse than linear (flagged: a bug to report); \"fit\" is the least-squares log-log slope over all points, diluted by the fixed cost. ", superlinear)
	p.f("A point is saturated (✗, left out of the slopes) when over 1%% of its sends failed, and in the rate table also when its p50 exceeds %s µs; \"judged\" below %.0f%% means judging was skipped under load (busy judges) and the point understates the judging cost.\n", thousands(sustainedP50us), 100*minJudgedShare)
	for _, g := range gs {
		rate := ""
		if recs := r.Growth[g.Name]; len(recs) > 0 && g.Name != "rate" {
			rate = fmt.Sprintf(", %s req/s", thousands(recs[0].Rate))
		}
		p.f("\n### By %s%s\n\n", g.Label, rate)
		xName, costName := strings.Fields(g.Label)[0], "shadow CPU µs/request"
		if g.Name == "copies" {
			xName, costName = "copies", "CPU µs/request over mirroring off"
		}
		p.f("| %s | %s | plain CPU µs/request | shadow over plain | shadow p50 µs | judged | errors |\n|--:|--:|--:|--:|--:|--:|--:|\n", xName, costName)
		for _, pt := range g.Points {
			mark := ""
			if pt.Saturated {
				mark = " ✗"
			}
			plain, added := us1(pt.Plain), addedUs(pt.Added)
			if g.Name == "copies" {
				plain, added = us1(pt.Plain)+" (mirroring off)", "—"
			}
			p.f("| %s%s | %s | %s | %s | %s | %s | %d |\n", xLabel(g.Name, pt.X), mark, us1(pt.Shadow), plain, added, thousands(pt.P50), judged(pt.Mirror), pt.Errors)
		}
		p.f("\n%s\n", slopeLine(g))
	}
	writeSkipped(p, r, "growth")
	rows := CPUTable(r.Cost, groupCost, targetShadowFast)
	capt, ok1 := cpuRow(rows, targetShadowCapture)
	fast, ok2 := cpuRow(rows, targetShadowFast)
	if ok1 && ok2 && !math.IsNaN(capt.Added[targetShadowFast]) {
		p.f("\nCapture on vs off (cost section, one candidate): %s µs per request with `--capture` against %s without (medians); paired by round %s (%s).\n",
			us1(capt.PerReq), us1(fast.PerReq), addedUs(capt.Added[targetShadowFast]), times(capt.Ratio[targetShadowFast]))
	}
	if _, ok := cpuRow(CPUTable(r.Cost, groupCost), targetShadowTwo); !ok && len(r.Cost) > 0 {
		p.f("\nOne vs two candidates: not measured (see the cost section's skipped line); the copies table above counts the secondary as the second copy.\n")
	}
}

// xLabel formats a growth table's x.
func xLabel(name string, x float64) string {
	if name == "bytes" {
		return sizeName(x)
	}
	return thousands(x)
}

// slopeLine states a table's slope and whether it is linear or better.
func slopeLine(g NamedGrowth) string {
	if math.IsNaN(g.Slope) {
		return "Slope: not enough points kept up with to tell."
	}
	what := "CPU per request"
	if g.PerSecond {
		what = "CPU per second"
	}
	s := fmt.Sprintf("Slope of %s: **%.2f** at the top (fit over all points %.2f)", what, g.Slope, g.Fit)
	switch {
	case g.Superlinear():
		return s + ": **worse than linear — a bug to report**."
	case g.Slope < 0.2:
		return s + ": flat (the cost does not depend on it)."
	}
	return s + ": linear or better."
}

func writeHostile(p *printer, r *Run) {
	if len(r.Uploads) == 0 && len(r.Wide) == 0 && len(r.Stream) == 0 {
		return
	}
	p.f("\n## 6. Hostile and heavy traffic\n")
	writeUploads(p, r)
	writeWide(p, r)
	writeStream(p, r)
}

func writeUploads(p *printer, r *Run) {
	rows := UploadTable(r.Uploads)
	if len(rows) == 0 {
		return
	}
	f := rows[0]
	p.f("\n### Memory under %d slow uploaders\n\n", f.Conns)
	p.f("bench/cmd/slowclient: %d connections each POST a body of %s to `/upload` (a route with `unsafe: true`, so shadow buffers bodies to mirror them) over %gs, opened over the first tenth; ", f.Conns, sizeName(f.BodyBytes), f.DurationS)
	p.f("\"whole body\" sends it in 16 even slices and then reads the answer, \"headers and one byte\" sends those and then nothing until the end. ")
	p.f("Fresh processes for each mode; VmRSS sampled every 100 ms (peak), VmHWM read at the end, and shadow's Go heap in use every 500 ms from its /metrics (it counts buffers allocated but not yet written to, which VmRSS does not); medians over rounds.\n\n")
	p.f("| mode | target | rounds | connected | answered | failed | idle | peak | growth | VmHWM | peak Go heap | CPU s |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range rows {
		failed := fmt.Sprintf("%d", row.Failed)
		if len(row.Errors) > 0 {
			failed += " (" + mdCell(sortedStatuses(row.Errors)) + ")"
		}
		heap := "—"
		if row.Heap > 0 {
			heap = mib(row.Heap)
		}
		p.f("| %s | %s | %d | %d | %s | %s | %s | %s | +%s | %s | %s | %.2f |\n", uploadModes[row.Mode], row.Target, row.Rounds, row.Opened,
			mdCell(fmt.Sprintf("%d (%s)", row.Answered, sortedStatuses(row.Statuses))), failed, mib(row.Idle), mib(row.Peak), mib(row.Growth), mib(row.HWM), heap, row.CPUus/1e6)
	}
	for _, mode := range []string{"body", "hold"} {
		sh, ok1 := uploadRow(rows, mode, "shadow")
		pl, ok2 := uploadRow(rows, mode, targetPlain)
		if ok1 && ok2 && pl.Growth > 0 {
			p.f("\n%s: shadow grew %s, the plain proxy %s (%.1f×).", uploadModes[mode], mib(sh.Growth), mib(pl.Growth), float64(sh.Growth)/float64(pl.Growth))
		}
	}
	p.f("\n")
}

func writeWide(p *printer, r *Run) {
	if len(r.Wide) == 0 {
		return
	}
	first := r.Wide[0]
	var beside *BesideLoad
	for _, rec := range r.Wide {
		if rec.Beside != nil {
			beside = rec.Beside
			break
		}
	}
	p.f("\n### Unrelated clients while a few get wide JSON\n\n")
	p.f("A steady light load of small GETs (%s req/s, %gs per cell) is measured", thousands(first.Rate), first.DurationS)
	if beside != nil {
		p.f(" while, beside it, %g requests per second get `%s`: an object of that many keys that the candidate answers with every value's type changed", beside.Rate, beside.Path)
	}
	p.f(". `shadow-quiet` is the same shadow without the wide requests. CPU per request counts every request answered, the wide ones included; each cell waits for the processes to go idle before the next (settle, at most 20 s).\n\n")
	lat := LatencyTable(r.Wide, "wide")
	cpu := CPUTable(r.Wide, "wide", targetPlain)
	p.f("| target | rounds | p50 µs | p99 µs | p50 × plain | CPU µs/request | wide answers | judged | settle s |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	pl, havePlain := row(lat, targetPlain)
	for _, l := range lat {
		c, _ := cpuRow(cpu, l.Target)
		ratio := math.NaN()
		if havePlain && pl.Us[0] > 0 {
			ratio = l.Us[0] / pl.Us[0]
		}
		var sent, ok int64
		var settle []float64
		for _, rec := range r.Wide {
			if rec.Target == l.Target {
				settle = append(settle, rec.SettleS)
				if rec.Beside != nil {
					sent, ok = sent+rec.Beside.Sent, ok+rec.Beside.OK
				}
			}
		}
		wide := "—"
		if sent > 0 {
			wide = fmt.Sprintf("%d of %d", ok, sent)
		}
		p.f("| %s | %d | %s | %s | %s | %s | %s | %s | %.1f |\n", l.Target, l.Rounds, thousands(l.Us[0]), thousands(l.Us[2]), times(ratio),
			us1(c.PerReq), wide, judged(c.Mirror), median(settle))
	}
}

func writeStream(p *printer, r *Run) {
	if len(r.Stream) == 0 {
		return
	}
	first := r.Stream[0]
	p.f("\n### The cost of streaming small answers\n\n")
	p.f("`plain-flush` is the plain ReverseProxy with `FlushInterval: -1` (a flush after every write: what the primary sends reaches the client as it arrives), `plain` the same with the default 0 (a flush when the copy buffer fills or the body ends); `shadow` streams as its build does. ")
	p.f("%s req/s, %gs per cell, small JSON answers with a Content-Length, interleaved rounds, medians.\n\n", thousands(first.Rate), first.DurationS)
	lat := LatencyTable(r.Stream, "stream")
	cpu := CPUTable(r.Stream, "stream", targetPlain)
	p.f("| target | rounds | p50 µs | p99 µs | CPU µs/request | CPU × plain | CPU over plain |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, l := range lat {
		c, _ := cpuRow(cpu, l.Target)
		p.f("| %s | %d | %s | %s | %s | %s | %s |\n", l.Target, l.Rounds, thousands(l.Us[0]), thousands(l.Us[2]), us1(c.PerReq), times(c.Ratio[targetPlain]), addedUs(c.Added[targetPlain]))
	}
	writeSkipped(p, r, "stream")
}

func writeSynthCost(p *printer, r *Run) {
	rows := SynthCostTable(r.SynthCost)
	if len(rows) == 0 {
		return
	}
	p.f("\n### CPU per request, synth vs vegeta CLI\n\n")
	p.f("Both tools at the same constant rate against the same 0 ms server, in interleaved rounds (the one going first alternating); each run measured whole by bench/cmd/rusage (user + system time of the process and its threads, to the µs, start-up included) over the requests it completed; vegeta's CPU includes encoding its results to a file, as its CLI does.\n\n")
	p.f("| tool | rounds | requests | achieved/s | good | CPU µs/request | × vegeta | user share | peak RSS |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range rows {
		p.f("| %s | %d | %s | %s | %.2f%% | %s | %s | %.0f%% | %s |\n", row.Tool, row.Rounds, thousands(float64(row.Requests)), thousands(row.Achieved),
			100*row.Success, us1(row.PerReq), times(row.VsVegeta), 100*row.UserShare, mib(row.MaxRSSKB))
	}
}
