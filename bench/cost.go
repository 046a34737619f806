package bench

import (
	"fmt"
	"math"
	"sort"
	"strconv"
)

// CPURow is one target's CPU per request in one group, over all rounds.
type CPURow struct {
	Target string
	Rounds int
	// PerReq is the median over rounds of the CPU time per answered
	// request, in µs (NaN when not measured); P50 the median p50 in µs.
	PerReq, P50 float64
	// Ratio and Added hold, per reference target, the median over rounds
	// of PerReq over (minus) the reference's in the same round; NaN when
	// they never ran in the same round.
	Ratio, Added map[string]float64
	// Errors adds up errors and skipped sends; Mirror the proxy's
	// counters (nil for targets without an admin endpoint).
	Errors int64
	Mirror *MirrorDelta
	// Source is how the CPU time was read ("schedstat" or "stat"; "mixed"
	// when the rounds differ).
	Source string
}

// CPUTable folds one group's records into a row per target, in the order
// first seen, with each target's CPU per request compared with the refs'
// in the same round.
func CPUTable(recs []LatencyRecord, group string, refs ...string) []CPURow {
	byRound := map[string]map[int]LatencyRecord{}
	var order []string
	for _, r := range recs {
		if r.Group != group {
			continue
		}
		if _, ok := byRound[r.Target]; !ok {
			byRound[r.Target] = map[int]LatencyRecord{}
			order = append(order, r.Target)
		}
		byRound[r.Target][r.Round] = r
	}
	rows := make([]CPURow, 0, len(order))
	for _, t := range order {
		row := CPURow{Target: t, Rounds: len(byRound[t]), Ratio: map[string]float64{}, Added: map[string]float64{}}
		var per, p50 []float64
		ratios, added := map[string][]float64{}, map[string][]float64{}
		for _, round := range sortedRounds(byRound[t]) {
			r := byRound[t][round]
			row.Errors += r.Errors + r.Skipped
			p50 = append(p50, r.P50us)
			if r.Mirror != nil {
				if row.Mirror == nil {
					row.Mirror = &MirrorDelta{}
				}
				row.Mirror.add(*r.Mirror)
			}
			v := r.CPUPerRequest()
			if math.IsNaN(v) {
				continue
			}
			per = append(per, v)
			switch {
			case row.Source == "":
				row.Source = r.CPUSource
			case row.Source != r.CPUSource:
				row.Source = "mixed"
			}
			for _, ref := range refs {
				if b, ok := byRound[ref][round]; ok {
					if bv := b.CPUPerRequest(); !math.IsNaN(bv) && bv > 0 {
						ratios[ref] = append(ratios[ref], v/bv)
						added[ref] = append(added[ref], v-bv)
					}
				}
			}
		}
		row.PerReq, row.P50 = median(per), median(p50)
		for _, ref := range refs {
			row.Ratio[ref], row.Added[ref] = median(ratios[ref]), median(added[ref])
		}
		rows = append(rows, row)
	}
	return rows
}

// CPUNoise is the median over rounds of how far again's CPU per request
// differed from target's in the same round, as a share of target's
// (0.05: 5%): two measurements of the same thing, one right after the
// other, so a CPU difference no larger cannot be told from noise. ok is
// false without a round that has both.
func CPUNoise(recs []LatencyRecord, group, target, again string) (share float64, ok bool) {
	var diffs []float64
	byRound := map[int]float64{}
	for _, r := range recs {
		if r.Group == group && r.Target == target {
			byRound[r.Round] = r.CPUPerRequest()
		}
	}
	for _, r := range recs {
		if b, have := byRound[r.Round]; r.Group == group && r.Target == again && have && b > 0 {
			if v := r.CPUPerRequest(); !math.IsNaN(v) {
				diffs = append(diffs, math.Abs(v/b-1))
			}
		}
	}
	if len(diffs) == 0 {
		return math.NaN(), false
	}
	return median(diffs), true
}

func sortedRounds(m map[int]LatencyRecord) []int {
	rounds := make([]int, 0, len(m))
	for r := range m {
		rounds = append(rounds, r)
	}
	sort.Ints(rounds)
	return rounds
}

// cpuRow returns the row of target, or false.
func cpuRow(rows []CPURow, target string) (CPURow, bool) {
	for _, r := range rows {
		if r.Target == target {
			return r, true
		}
	}
	return CPURow{}, false
}

// GrowthPoint is one x of a growth table: the figures of the proxy under
// test and of the plain proxy at that x, medians over rounds.
type GrowthPoint struct {
	X float64
	// Shadow and Plain are CPU per request in µs (Plain NaN when the
	// table has no plain proxy); Added is the median over rounds of
	// their difference in the same round.
	Shadow, Plain, Added float64
	// P50 is shadow's median p50 in µs; Errors its errors and skipped
	// sends; Saturated says the point was not kept up with (errors and
	// skips over 1% of the sends; in a table over the rate, also a p50
	// over sustainedP50us), so its figures do not measure cost and are left
	// out of the slope. At the fixed low rates of the other tables a high
	// p50 is the shared machine's doing, and the CPU figure stands.
	P50       float64
	Errors    int64
	Saturated bool
	Mirror    *MirrorDelta
}

// Growth is how one cost grows with one dimension.
type Growth struct {
	// Points by rising X.
	Points []GrowthPoint
	// Slope is the log-log slope of the cost (Cost of each point) between
	// the two largest points kept up with: the local exponent where the
	// cost is least diluted by what every request costs anyway. Linear
	// growth gives at most 1, whatever the fixed part; Fit is the
	// least-squares log-log slope over all points kept up with. Both NaN
	// with fewer than two points.
	Slope, Fit float64
	// PerSecond: the cost is CPU per second (CPU per request × X), for a
	// table over the rate; otherwise CPU per request.
	PerSecond bool
}

// superlinear is the slope above which growth counts as worse than
// linear: 1 plus room for the noise of a shared machine.
const superlinear = 1.15

// Superlinear reports whether the cost grows faster than linearly.
func (g Growth) Superlinear() bool { return g.Slope > superlinear }

// Cost is the figure a point's slope is taken of.
func (g Growth) Cost(p GrowthPoint) float64 {
	if g.PerSecond {
		return p.Shadow * p.X
	}
	return p.Shadow
}

// GrowthTable reads a growth table from records whose Group is the x value
// (a number) and whose Target is shadow (the proxy under test) or plain.
// perSecond makes the cost CPU per second rather than per request.
func GrowthTable(recs []LatencyRecord, shadow, plain string, perSecond bool) Growth {
	g := Growth{PerSecond: perSecond}
	for _, grp := range Groups(recs) {
		x, err := strconv.ParseFloat(grp, 64)
		if err != nil {
			continue
		}
		rows := CPUTable(recs, grp, plain)
		sh, ok := cpuRow(rows, shadow)
		if !ok {
			continue
		}
		p := GrowthPoint{X: x, Shadow: sh.PerReq, Plain: math.NaN(), Added: sh.Added[plain], P50: sh.P50, Errors: sh.Errors, Mirror: sh.Mirror}
		if pl, ok := cpuRow(rows, plain); ok {
			p.Plain = pl.PerReq
		}
		var sent int64
		for _, r := range recs {
			if r.Group == grp && r.Target == shadow {
				sent += r.Sent
			}
		}
		p.Saturated = (perSecond && p.P50 > sustainedP50us) || (sent > 0 && float64(p.Errors) > 0.01*float64(sent))
		g.Points = append(g.Points, p)
	}
	sort.Slice(g.Points, func(i, j int) bool { return g.Points[i].X < g.Points[j].X })
	g.Slope, g.Fit = math.NaN(), math.NaN()
	var xs, ys []float64
	for _, p := range g.Points {
		if c := g.Cost(p); !p.Saturated && c > 0 && !math.IsNaN(c) {
			xs, ys = append(xs, math.Log(p.X)), append(ys, math.Log(c))
		}
	}
	if n := len(xs); n >= 2 {
		g.Slope = (ys[n-1] - ys[n-2]) / (xs[n-1] - xs[n-2])
		g.Fit = fitSlope(xs, ys)
	}
	return g
}

// fitSlope is the least-squares slope of ys over xs.
func fitSlope(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
	}
	if d := n*sxx - sx*sx; d > 0 {
		return (n*sxy - sx*sy) / d
	}
	return math.NaN()
}

// KeptUp reports whether target kept up in group: in its latest round,
// a median latency of at most sustainedP50us and errors and skipped sends
// under 1% of the sends. why says what was seen.
func KeptUp(recs []LatencyRecord, target, group string) (ok bool, why string) {
	var last *LatencyRecord
	for i := range recs {
		if recs[i].Target == target && recs[i].Group == group {
			last = &recs[i]
		}
	}
	if last == nil {
		return false, "no record of " + target + " in group " + group
	}
	bad := last.Errors + last.Skipped
	ok = last.P50us <= sustainedP50us && float64(bad) <= 0.01*float64(last.Sent)
	return ok, fmt.Sprintf("%s at %s: p50 %.0f µs, %d of %d sends failed or skipped", target, group, last.P50us, bad, last.Sent)
}
