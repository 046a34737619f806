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

// Again is the baseline measured a second time in every round, right after
// Baseline: how far two measurements of the same thing differ is the noise
// floor (see NoiseFloor).
const Again = "direct-again"

// sustainedShare is how close to the intended rate (and to all answers
// good) a ladder step must come to count as kept up.
const sustainedShare = 0.99

// sustainedP50us is the highest median latency, in µs, of a ladder step
// that counts as kept up. Against a server that answers at once, a median
// that high means requests wait in a queue that grows for as long as the
// step lasts: the tool, or the server beside it on the same cores, is
// saturated even if the tool still sends at the rate (vegeta does, up to
// its worker limit; synth drops starts beyond max_in_flight instead).
const sustainedP50us = 10_000

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

// NoiseFloor is, for each quantile of LatencyRow.Us, the median over
// rounds of how far Again differed from Baseline in the same round: what
// two measurements of the same path differ by on this machine, in µs. A
// difference no larger than that cannot be told from noise. ok is false
// when the group has no round with both.
func NoiseFloor(recs []LatencyRecord, group string) (floor [4]float64, ok bool) {
	base := map[int]LatencyRecord{}
	for _, r := range recs {
		if r.Group == group && r.Target == Baseline {
			base[r.Round] = r
		}
	}
	var diffs [4][]float64
	for _, r := range recs {
		b, have := base[r.Round]
		if r.Group != group || r.Target != Again || !have {
			continue
		}
		q, bq := r.quantiles(), b.quantiles()
		for i := range q {
			diffs[i] = append(diffs[i], math.Abs(q[i]-bq[i]))
		}
	}
	if len(diffs[0]) == 0 {
		return floor, false
	}
	for i := range diffs {
		floor[i] = median(diffs[i])
	}
	return floor, true
}

// add sums o into d; the queue figures keep the largest.
func (d *MirrorDelta) add(o MirrorDelta) {
	d.Received += o.Received
	d.Mirrored += o.Mirrored
	d.Dropped += o.Dropped
	d.Compared += o.Compared
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
		if len(r.Steps) > 0 {
			s.P50us = float64(r.Steps[0].Latency.P50) / 1e3
		}
	case "vegeta":
		r, err := ParseVegeta(data)
		if err != nil {
			return LadderStep{}, err
		}
		s.Achieved, s.Success, s.P50us = r.Rate, r.Success, float64(r.Latencies.P50)/1e3
	default:
		return LadderStep{}, fmt.Errorf("ladder step: unknown tool %q (want synth or vegeta)", tool)
	}
	s.Sustained = s.Achieved >= sustainedShare*rate && s.Success >= sustainedShare && s.P50us <= sustainedP50us
	return s, nil
}

// FirstMissed returns the lowest rate above the highest one tool kept up
// with that it tried and missed: the real maximum lies below it. 0 when it
// missed none there.
func FirstMissed(steps []LadderStep, tool string) float64 {
	kept, _ := MaxSustained(steps, tool)
	missed := 0.0
	for _, s := range steps {
		if s.Tool == tool && !s.Sustained && s.Rate > kept && (missed == 0 || s.Rate < missed) {
			missed = s.Rate
		}
	}
	return missed
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

// SoakFigures are the soak's memory figures in kB, over the steady state:
// the samples after the warm-up, while the process is still filling its
// pools and caches, is left out.
type SoakFigures struct {
	// Idle is VmRSS before the load; Start and End are the medians of the
	// first and last tenth of the VmRSS samples after the warm-up (one
	// sample at least), so one GC cycle's swing does not decide them;
	// Peak is the largest sample after the warm-up.
	Idle, Start, Peak, End int64
	// Samples after the warm-up, and the Minutes they span.
	Samples int
	Minutes float64
	// SlopeKBPerMin is the least-squares trend of the samples after the
	// warm-up, in kB per minute (0 with fewer than two): a leak shows as a
	// steady positive slope, GC noise as none, memory handed back to the
	// system as a negative one.
	SlopeKBPerMin float64
	// HeapStart and HeapEnd are the same medians over the Go heap in use
	// (go_memstats_heap_inuse_bytes from shadow's /metrics), the memory
	// live objects hold whatever the runtime has returned to the system;
	// HeapSamples is 0 when it was not sampled.
	HeapStart, HeapEnd int64
	HeapSamples        int
}

// Growth is End over Start, less one: +0.05 is 5% more at the end.
func (f SoakFigures) Growth() float64 { return float64(f.End-f.Start) / float64(f.Start) }

// TrendGrowth is what the trend adds over the steady state, as a share of
// Start.
func (f SoakFigures) TrendGrowth() float64 { return f.SlopeKBPerMin * f.Minutes / float64(f.Start) }

// Figures reads start, peak, end and trend of the soak after its warm-up;
// Start is 0 when there are no samples after the warm-up.
func (s *Soak) Figures() SoakFigures {
	warm, _ := strconv.ParseFloat(lookup(s.Meta, "warmup_s"), 64)
	idle, _ := strconv.ParseInt(lookup(s.Meta, "idle_rss_kb"), 10, 64)
	f := SoakFigures{Idle: idle}
	var kbs []float64
	var sx, sy, sxx, sxy float64
	first, last := math.Inf(1), math.Inf(-1)
	for _, x := range s.Samples {
		if x.Seconds < warm {
			continue
		}
		kbs = append(kbs, float64(x.KB))
		f.Peak = max(f.Peak, x.KB)
		first, last = min(first, x.Seconds), max(last, x.Seconds)
		t, kb := x.Seconds/60, float64(x.KB)
		sx, sy, sxx, sxy = sx+t, sy+kb, sxx+t*t, sxy+t*kb
	}
	f.Samples = len(kbs)
	if f.Samples == 0 {
		return f
	}
	f.Minutes = (last - first) / 60
	f.Start, f.End = tenths(kbs)
	if n := float64(f.Samples); f.Samples >= 2 && n*sxx-sx*sx > 0 {
		f.SlopeKBPerMin = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	}
	var heap []float64
	for _, x := range s.Heap {
		if x.Seconds >= warm {
			heap = append(heap, float64(x.KB))
		}
	}
	if f.HeapSamples = len(heap); f.HeapSamples > 0 {
		f.HeapStart, f.HeapEnd = tenths(heap)
	}
	return f
}

// tenths returns the medians of the first and last tenth of xs (one value
// at least); xs must not be empty.
func tenths(xs []float64) (first, last int64) {
	n := max(1, len(xs)/10)
	return int64(median(xs[:n])), int64(median(xs[len(xs)-n:]))
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
