package bench

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Baseline is the target every latency row is compared with.
const Baseline = "direct"

// sustainedShare is how close to the intended rate (and to all answers
// good) a ladder step must come to count as kept up.
const sustainedShare = 0.99

// median returns the median of xs (the mean of the middle two for an even
// count); NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Quantiles names the latency columns, in LatencyRow order.
var Quantiles = [4]string{"p50", "p90", "p99", "max"}

func (r LatencyRecord) quantiles() [4]float64 { return [4]float64{r.P50us, r.P90us, r.P99us, r.MaxUs} }

// LatencyRow is one target's figures in one group, over all rounds.
type LatencyRow struct {
	Target string
	Rounds int
	// Us holds p50, p90, p99 and max in µs, each the median over rounds.
	Us [4]float64
	// Ratio is each quantile over the baseline's in the same round,
	// median over rounds; Added the difference in µs, median over rounds.
	// NaN when the baseline did not run in any of the target's rounds.
	Ratio, Added [4]float64
	// Errors, Skipped and Sent add up over rounds.
	Errors, Skipped, Sent int64
	// Mirror adds up shadow's counter deltas; nil for other targets.
	Mirror *MirrorDelta
}

// Groups returns the latency groups in the order first seen.
func Groups(recs []LatencyRecord) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range recs {
		if !seen[r.Group] {
			seen[r.Group] = true
			out = append(out, r.Group)
		}
	}
	return out
}

// LatencyTable folds one group's records into a row per target, in the
// order first seen. Ratios and differences pair each round with the
// baseline's measurement of the same round, so slow drift of a shared
// machine cancels out.
func LatencyTable(recs []LatencyRecord, group string) []LatencyRow {
	base := map[int]LatencyRecord{}
	var order []string
	byTarget := map[string][]LatencyRecord{}
	for _, r := range recs {
		if r.Group != group {
			continue
		}
		if r.Target == Baseline {
			base[r.Round] = r
		}
		if _, ok := byTarget[r.Target]; !ok {
			order = append(order, r.Target)
		}
		byTarget[r.Target] = append(byTarget[r.Target], r)
	}
	rows := make([]LatencyRow, 0, len(order))
	for _, t := range order {
		row := LatencyRow{Target: t, Rounds: len(byTarget[t])}
		var vals, ratios, added [4][]float64
		for _, r := range byTarget[t] {
			q := r.quantiles()
			b, haveBase := base[r.Round]
			bq := b.quantiles()
			for i := range q {
				vals[i] = append(vals[i], q[i])
				if haveBase && bq[i] > 0 {
					ratios[i] = append(ratios[i], q[i]/bq[i])
					added[i] = append(added[i], q[i]-bq[i])
				}
			}
			row.Errors += r.Errors
			row.Skipped += r.Skipped
			row.Sent += r.Sent
			if r.Mirror != nil {
				if row.Mirror == nil {
					row.Mirror = &MirrorDelta{}
				}
				row.Mirror.add(*r.Mirror)
			}
		}
		for i := range vals {
			row.Us[i], row.Ratio[i], row.Added[i] = median(vals[i]), median(ratios[i]), median(added[i])
		}
		rows = append(rows, row)
	}
	return rows
}

// add sums o into d; the queue figures keep the largest.
func (d *MirrorDelta) add(o MirrorDelta) {
	d.Received += o.Received
	d.Mirrored += o.Mirrored
	d.Dropped += o.Dropped
	d.MaxQueueDepth = max(d.MaxQueueDepth, o.MaxQueueDepth)
	d.QueueSize = max(d.QueueSize, o.QueueSize)
}

// row returns the row of target, or false.
func row(rows []LatencyRow, target string) (LatencyRow, bool) {
	for _, r := range rows {
		if r.Target == target {
			return r, true
		}
	}
	return LatencyRow{}, false
}

// ThroughputRow is one target's maximum throughput over all rounds.
type ThroughputRow struct {
	Target string
	Rounds int
	// RPS is the median over rounds of wrk's Requests/sec; VsRef the
	// median over rounds of RPS over the reference target's in the same
	// round (NaN without one).
	RPS, VsRef float64
	// Errors adds up socket errors and non-2xx answers.
	Errors int64
	// Delivered is mirror answers over primary answers at the upstreams,
	// summed over rounds; NaN when not counted.
	Delivered float64
	// Shadow sums the proxy's counters; nil for other targets.
	Shadow *MirrorDelta
}

// ThroughputTable folds the cells into a row per target, in the order
// first seen, with ratios to ref (such as "nginx-fast").
func ThroughputTable(cells []ThroughputCell, ref string) []ThroughputRow {
	refRPS := map[int]float64{}
	var order []string
	by := map[string][]ThroughputCell{}
	for _, c := range cells {
		if c.Target == ref {
			refRPS[c.Round] = c.Wrk.RPS
		}
		if _, ok := by[c.Target]; !ok {
			order = append(order, c.Target)
		}
		by[c.Target] = append(by[c.Target], c)
	}
	var rows []ThroughputRow
	for _, t := range order {
		r := ThroughputRow{Target: t, Rounds: len(by[t]), Delivered: math.NaN()}
		var rps, vs []float64
		var prim, mirr uint64
		counted := false
		for _, c := range by[t] {
			rps = append(rps, c.Wrk.RPS)
			if b := refRPS[c.Round]; b > 0 {
				vs = append(vs, c.Wrk.RPS/b)
			}
			r.Errors += c.Wrk.SocketErrors + c.Wrk.Non2xx
			if c.HaveCounts && c.Mirror > 0 {
				prim, mirr, counted = prim+c.Primary, mirr+c.Mirror, true
			}
			if c.Shadow != nil {
				if r.Shadow == nil {
					r.Shadow = &MirrorDelta{}
				}
				r.Shadow.add(*c.Shadow)
			}
		}
		r.RPS, r.VsRef = median(rps), median(vs)
		if counted && prim > 0 {
			r.Delivered = float64(mirr) / float64(prim)
		}
		rows = append(rows, r)
	}
	return rows
}

// ParseStep reads one ladder step's report: a synth JSON report (tool
// "synth") or a vegeta JSON report (tool "vegeta"), run at rate.
func ParseStep(tool string, rate float64, data []byte) (LadderStep, error) {
	s := LadderStep{Tool: tool, Rate: rate}
	switch tool {
	case "synth":
		r, err := ParseSynth(data)
		if err != nil {
			return LadderStep{}, err
		}
		s.Achieved = r.AchievedRate
		if n := r.Journeys.Started + r.Journeys.Dropped; n > 0 {
			s.Success = float64(r.Journeys.Succeeded) / float64(n)
		}
	case "vegeta":
		r, err := ParseVegeta(data)
		if err != nil {
			return LadderStep{}, err
		}
		s.Achieved, s.Success = r.Rate, r.Success
	default:
		return LadderStep{}, fmt.Errorf("ladder step: unknown tool %q (want synth or vegeta)", tool)
	}
	s.Sustained = s.Achieved >= sustainedShare*rate && s.Success >= sustainedShare
	return s, nil
}

// MaxSustained returns the highest rate tool kept up with and whether
// that was the highest rate tried (so the real maximum is at least that).
func MaxSustained(steps []LadderStep, tool string) (rate float64, atTop bool) {
	top := 0.0
	for _, s := range steps {
		if s.Tool != tool {
			continue
		}
		top = max(top, s.Rate)
		if s.Sustained {
			rate = max(rate, s.Rate)
		}
	}
	return rate, rate > 0 && rate == top
}

// SoakFigures are the soak's memory figures in kB.
type SoakFigures struct {
	// Idle is before the load; Start and End are the medians of the first
	// and last tenth of the samples after the warm-up (one sample at
	// least), so one GC cycle's swing does not decide them; Peak is the
	// largest sample after the warm-up.
	Idle, Start, Peak, End int64
	// Samples after the warm-up.
	Samples int
	// SlopeKBPerMin is the least-squares trend of the samples after the
	// warm-up, in kB per minute (0 with fewer than two): a leak shows as a
	// steady positive slope, GC noise as none.
	SlopeKBPerMin float64
}

// Figures reads start, peak, end and trend of the soak after its warm-up;
// Start is 0 when there are no samples after the warm-up.
func (s *Soak) Figures() SoakFigures {
	warm, _ := strconv.ParseFloat(lookup(s.Meta, "warmup_s"), 64)
	idle, _ := strconv.ParseInt(lookup(s.Meta, "idle_rss_kb"), 10, 64)
	f := SoakFigures{Idle: idle}
	var kbs []float64
	var sx, sy, sxx, sxy float64
	for _, x := range s.Samples {
		if x.Seconds < warm {
			continue
		}
		kbs = append(kbs, float64(x.KB))
		f.Peak = max(f.Peak, x.KB)
		t, kb := x.Seconds/60, float64(x.KB)
		sx, sy, sxx, sxy = sx+t, sy+kb, sxx+t*t, sxy+t*kb
	}
	f.Samples = len(kbs)
	if f.Samples == 0 {
		return f
	}
	tenth := max(1, f.Samples/10)
	f.Start, f.End = int64(median(kbs[:tenth])), int64(median(kbs[f.Samples-tenth:]))
	if n := float64(f.Samples); f.Samples >= 2 && n*sxx-sx*sx > 0 {
		f.SlopeKBPerMin = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	}
	return f
}

// CompareRange returns the slowest and fastest BenchmarkCompareJSON case
// by pairs/s; ok is false when none ran.
func CompareRange(bs []GoBench) (slow, fast GoBench, ok bool) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range bs {
		v, has := b.Metric("pairs/s")
		if !has || !strings.HasPrefix(b.Name, "BenchmarkCompareJSON") {
			continue
		}
		if v < lo {
			lo, slow = v, b
		}
		if v > hi {
			hi, fast = v, b
		}
		ok = true
	}
	return slow, fast, ok
}
