package scenarios

import (
	"math"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// simulate drives p with a perfect clock the way the runner does (waits
// capped at maxSleep) and returns how many starts happened by each mark.
func simulate(p vegeta.Pacer, marks ...time.Duration) []uint64 {
	var elapsed time.Duration
	var hits uint64
	counts := make([]uint64, len(marks))
	end := marks[len(marks)-1]
	for elapsed < end {
		wait, stop := p.Pace(elapsed, hits)
		if stop {
			break
		}
		if wait > 0 {
			elapsed += min(wait, maxSleep)
			continue
		}
		for i, m := range marks {
			if elapsed < m {
				counts[i]++
			}
		}
		hits++
	}
	return counts
}

func TestSchedules(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name    string
		sched   schedule
		marks   []time.Duration
		want    []float64 // starts planned (and simulated) by each mark
		rateAt  time.Duration
		rateNow float64
	}{
		{"constant", newConstant(50), []time.Duration{s, 2 * s}, []float64{50, 100}, s, 50},
		{"fractional", newConstant(0.5), []time.Duration{10 * s}, []float64{5}, s, 0.5},
		{"zero", newConstant(0), []time.Duration{s}, []float64{0}, s, 0},
		{"stages", newStages(
			stageSpec{s, newConstant(10)}, stageSpec{s, newConstant(0)}, stageSpec{s, newConstant(20)},
		), []time.Duration{s, 2 * s, 3 * s, 4 * s}, []float64{10, 10, 30, 50}, 1500 * time.Millisecond, 0},
		{"ramp then hold", newSchedule(&Scenario{Rate: &Rate{Type: RateRamp, From: 0, To: 100, Over: 2 * s}}, 1),
			[]time.Duration{s, 2 * s, 3 * s}, []float64{25, 100, 200}, s, 50},
		{"ramp down", newSchedule(&Scenario{Rate: &Rate{Type: RateRamp, From: 100, To: 0, Over: 2 * s}}, 1),
			[]time.Duration{s, 2 * s, 3 * s}, []float64{75, 100, 100}, 2500 * time.Millisecond, 0},
		{"scenario stages", newSchedule(&Scenario{Stages: []Stage{{Duration: s, Rate: 30}, {Duration: s, Rate: 60}}}, 1),
			[]time.Duration{s, 2 * s, 3 * s}, []float64{30, 90, 150}, 500 * time.Millisecond, 30},
		{"a third of the stages", newSchedule(&Scenario{Stages: []Stage{{Duration: s, Rate: 30}, {Duration: s, Rate: 60}}}, 1.0/3),
			[]time.Duration{s, 2 * s, 3 * s}, []float64{10, 30, 50}, 1500 * time.Millisecond, 20},
		{"relative, no stages", (&relativeRate{factor: 1.5, max: 100, scale: 1}).schedule(40, 0, 1000),
			[]time.Duration{s, 2 * s}, []float64{60, 120}, s, 60},
		{"relative, capped by max", (&relativeRate{factor: 1.5, max: 50, scale: 1}).schedule(40, 0, 1000),
			[]time.Duration{s}, []float64{50}, s, 50},
		{"relative, capped by the ceiling", (&relativeRate{factor: 1.5, max: 500, scale: 1}).schedule(40, 0, 30),
			[]time.Duration{s}, []float64{30}, s, 30},
		// Stages of 1s at x0.5, x1, x2 of 40/s, asked 1.5s in: half a
		// second of x1 is left, then x2 carries on.
		{"relative stages from mid-stage", (&relativeRate{stages: []Stage{{Duration: s, Factor: 0.5}, {Duration: s, Factor: 1}, {Duration: s, Factor: 2}}, max: 1000, scale: 1}).schedule(40, 1500*time.Millisecond, 1000),
			[]time.Duration{s / 2, s, 2 * s}, []float64{20, 60, 140}, 100 * time.Millisecond, 40},
		{"relative stages past their end", (&relativeRate{stages: []Stage{{Duration: s, Factor: 0.5}, {Duration: s, Factor: 2}}, max: 1000, scale: 0.5}).schedule(40, 5*s, 1000),
			[]time.Duration{s}, []float64{40}, s, 40},
	}
	for _, tt := range tests {
		got := simulate(tt.sched, tt.marks...)
		for i, m := range tt.marks {
			if planned := tt.sched.planned(m); math.Abs(planned-tt.want[i]) > 1e-6 {
				t.Errorf("%s: planned(%v) = %v, want %v", tt.name, m, planned, tt.want[i])
			}
			// A start due exactly at a mark may land either side of it;
			// the ramp's estimated waits can add one more.
			if d := math.Abs(float64(got[i]) - tt.want[i]); d > 2 {
				t.Errorf("%s: %d starts by %v, want %v", tt.name, got[i], m, tt.want[i])
			}
		}
		// A ramp from 0 starts at one per hour (see newLinear): allow for it.
		if r := tt.sched.Rate(tt.rateAt); math.Abs(r-tt.rateNow) > 1e-3 {
			t.Errorf("%s: Rate(%v) = %v, want %v", tt.name, tt.rateAt, r, tt.rateNow)
		}
	}
}

// TestStagesCatchUp: a runner that fell behind is told to start at once,
// including across a stage boundary.
func TestStagesCatchUp(t *testing.T) {
	t.Parallel()
	p := newStages(stageSpec{time.Second, newConstant(10)}, stageSpec{time.Second, newConstant(10)})
	tests := []struct {
		elapsed time.Duration
		hits    uint64
		due     bool
	}{
		{1500 * time.Millisecond, 5, true},   // 10 were due by the boundary
		{1500 * time.Millisecond, 14, true},  // the 15th is due at 1.5s
		{1500 * time.Millisecond, 15, false}, // the 16th is due at 1.6s
		{0, 0, false},                        // the first is due at 0.1s
	}
	for _, tt := range tests {
		wait, stop := p.Pace(tt.elapsed, tt.hits)
		if stop || (wait <= 0) != tt.due {
			t.Errorf("Pace(%v, %d) = %v, %v; want due now: %v", tt.elapsed, tt.hits, wait, stop, tt.due)
		}
	}
}
