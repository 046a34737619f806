package scenarios

import (
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// schedule is a vegeta.Pacer that can also say how many starts it had
// planned by a given time, so the runner can report achieved against
// target.
type schedule interface {
	vegeta.Pacer
	planned(elapsed time.Duration) float64
}

// forever is the wait a pacer returns when it plans no more starts; the
// runner's own deadline ends the run first.
const forever = time.Duration(math.MaxInt64 / 2)

// vegetaRate expresses r starts per second as a vegeta.Rate with a
// millisecond of a start as its unit, so fractional rates stay exact.
func vegetaRate(r float64) vegeta.Rate {
	return vegeta.Rate{Freq: int(math.Round(r * 1000)), Per: 1000 * time.Second}
}

// constantSchedule starts rate journeys per second through
// vegeta.ConstantPacer.
type constantSchedule struct {
	vegeta.ConstantPacer
	rate float64
}

func newConstant(rate float64) schedule {
	if rate <= 0 {
		return zeroSchedule{}
	}
	return constantSchedule{ConstantPacer: vegetaRate(rate), rate: rate}
}

// Rate implements vegeta.Pacer with the rate as given, not as its
// millisecond units round it.
func (c constantSchedule) Rate(time.Duration) float64 { return c.rate }

func (c constantSchedule) planned(elapsed time.Duration) float64 {
	return c.rate * max(elapsed, 0).Seconds()
}

// linearSchedule moves from one rate to another through
// vegeta.LinearPacer. Its waits are estimated from the rate at the time
// of asking, which overshoots on a rising ramp; the runner re-asks often
// (see maxSleep) so starts stay on schedule.
type linearSchedule struct {
	vegeta.LinearPacer
	from, slope float64 // starts/s, starts/s²
}

func newLinear(from, to float64, over time.Duration) schedule {
	slope := (to - from) / over.Seconds()
	start := vegetaRate(from)
	if start.Freq == 0 {
		// vegeta reads a zero rate as "unlimited": start at one start per
		// hour instead, which is zero for any practical purpose.
		start = vegeta.Rate{Freq: 1, Per: time.Hour}
	}
	return linearSchedule{LinearPacer: vegeta.LinearPacer{StartAt: start, Slope: slope}, from: from, slope: slope}
}

func (l linearSchedule) planned(elapsed time.Duration) float64 {
	x := max(elapsed, 0).Seconds()
	return l.from*x + l.slope*x*x/2
}

// zeroSchedule starts nothing.
type zeroSchedule struct{}

func (zeroSchedule) Pace(time.Duration, uint64) (time.Duration, bool) { return forever, false }
func (zeroSchedule) Rate(time.Duration) float64                       { return 0 }
func (zeroSchedule) planned(time.Duration) float64                    { return 0 }

// stagesPacer runs a sequence of schedules, each for its duration; the
// last one carries on past its end. Each stage sees time and starts
// counted from its own beginning. It is the Pacer behind stages and
// ramps (a linear stage, then the final rate held).
type stagesPacer struct {
	stages []schedule
	durs   []time.Duration // length of each stage; the last is ignored
	starts []time.Duration // when each stage begins
	bases  []float64       // starts planned before each stage
}

type stageSpec struct {
	dur time.Duration
	s   schedule
}

func newStages(specs ...stageSpec) *stagesPacer {
	p := &stagesPacer{}
	var at time.Duration
	var planned float64
	for _, sp := range specs {
		p.stages = append(p.stages, sp.s)
		p.durs = append(p.durs, sp.dur)
		p.starts = append(p.starts, at)
		p.bases = append(p.bases, planned)
		at += sp.dur
		planned += sp.s.planned(sp.dur)
	}
	return p
}

// index returns the stage that holds elapsed.
func (p *stagesPacer) index(elapsed time.Duration) int {
	i := 0
	for i+1 < len(p.stages) && elapsed >= p.starts[i+1] {
		i++
	}
	return i
}

// Pace implements vegeta.Pacer.
func (p *stagesPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	var waited time.Duration
	for i := p.index(elapsed); ; i++ {
		base := uint64(math.Floor(p.bases[i]))
		if hits < base {
			return waited, false // behind what earlier stages planned
		}
		local := elapsed + waited - p.starts[i]
		wait, stop := p.stages[i].Pace(local, hits-base)
		if stop {
			return 0, true
		}
		if i == len(p.stages)-1 || local+wait < p.durs[i] {
			return min(waited+wait, forever), false
		}
		waited += p.durs[i] - local // the next start falls in a later stage
	}
}

// Rate implements vegeta.Pacer.
func (p *stagesPacer) Rate(elapsed time.Duration) float64 {
	i := p.index(elapsed)
	return p.stages[i].Rate(elapsed - p.starts[i])
}

func (p *stagesPacer) planned(elapsed time.Duration) float64 {
	i := p.index(elapsed)
	return p.bases[i] + p.stages[i].planned(elapsed-p.starts[i])
}

// newSchedule builds the schedule a scenario's rate or stages describe,
// each rate times scale. A relative rate starts with none: its query sets
// it (see relativeRate).
func newSchedule(s *Scenario, scale float64) schedule {
	if s.relative() {
		return zeroSchedule{}
	}
	if len(s.Stages) > 0 {
		specs := make([]stageSpec, len(s.Stages))
		for i, st := range s.Stages {
			specs[i] = stageSpec{dur: st.Duration, s: newConstant(st.Rate * scale)}
		}
		return newStages(specs...)
	}
	r := s.Rate
	if r == nil {
		return zeroSchedule{}
	}
	if r.Type == RateRamp {
		return newStages(
			stageSpec{dur: r.Over, s: newLinear(r.From*scale, r.To*scale, r.Over)},
			stageSpec{s: newConstant(r.To * scale)},
		)
	}
	return newConstant(r.Rate * scale)
}
