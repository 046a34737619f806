package scenarios

import (
	"math"
	"time"
)

// SetRate replaces the rate profile with a constant rate from now on,
// clamped to between 0 and the ceiling, and returns the rate applied. A
// rate of 0 holds starts until the next SetRate. It is safe to call at any
// time, from any goroutine; before Run it sets the starting rate.
func (r *Runner) SetRate(rate float64) float64 {
	if math.IsNaN(rate) || rate < 0 {
		rate = 0
	}
	applied := min(rate, r.ceiling)
	r.mu.Lock()
	r.newRate = &applied
	r.mu.Unlock()
	r.wake()
	return applied
}

// Pause holds new starts until Resume: once Pause returns no journey
// starts. Journeys in flight carry on, and paused time does not count
// towards the duration. Safe to call twice.
func (r *Runner) Pause() {
	r.startMu.Lock()
	r.holding = true
	r.startMu.Unlock()
	r.mu.Lock()
	r.paused = true
	r.mu.Unlock()
	r.wake()
}

// Resume lets a paused run start journeys again. Safe to call twice.
func (r *Runner) Resume() {
	r.mu.Lock()
	r.paused = false
	r.mu.Unlock()
	r.startMu.Lock()
	r.holding = false
	r.startMu.Unlock()
	r.wake()
}

// Stop ends the run gracefully: once Stop returns no journey starts;
// journeys in flight finish their steps and cleanups, then Run returns.
// Safe to call twice and together with Kill.
func (r *Runner) Stop() {
	r.log.Info("synth run stopping")
	r.end(OutcomeStopped, "stopped")
}

// Kill ends the run now: once Kill returns no journey starts, requests in
// flight are cancelled and remaining steps and cleanups are skipped. Safe
// to call twice and together with Stop.
func (r *Runner) Kill() {
	r.log.Warn("synth run killed")
	r.halt.Store(true)
	r.kill.Store(true)
	r.end(OutcomeKilled, "killed")
	r.killOnce.Do(func() { close(r.killCh) })
}

// Snapshot returns a consistent copy of the run's figures, bounded in size
// (one entry per configured step). It is safe to call at any time; after
// Run has returned it gives the final figures, histograms included.
func (r *Runner) Snapshot() Snapshot {
	now := time.Now()
	r.mu.Lock()
	s := Snapshot{
		Scenario:       r.plan.scenario.Name,
		RunID:          r.runID,
		Target:         r.target,
		State:          r.state,
		Reason:         r.reason,
		Started:        r.started,
		Ceiling:        r.ceiling,
		MaxInFlight:    int(r.maxInFlight),
		MinSuccessRate: r.plan.scenario.minSuccessRate(),
	}
	if r.state == StateDone {
		s.Outcome = r.outcome
		now = r.ended
	} else if r.outcome != OutcomeCompleted {
		s.Outcome = r.outcome // known early for stop, abort and kill
	}
	if !r.started.IsZero() {
		s.Elapsed = now.Sub(r.started)
	}
	s.Active = r.active
	if !r.runStart.IsZero() {
		s.Active += now.Sub(r.runStart)
	}
	segAt := s.Active - r.seg.at
	planned := r.seg.before + r.seg.sched.planned(segAt)
	s.CurrentTarget = r.seg.sched.Rate(segAt)
	done := r.state == StateDone
	r.mu.Unlock()

	s.InFlight = r.inFlight.Load()
	s.Guardrail = r.guard.snapshot()
	if starts := r.starts.Stats(now); starts.Count > 0 {
		// The window covers its span and the current second so far, or
		// less when the run is younger than that.
		covered := min(starts.Span+now.Sub(now.Truncate(time.Second)), s.Elapsed)
		if covered > 0 {
			s.CurrentRate = float64(starts.Count) / covered.Seconds()
		}
	}
	r.rec.fill(&s, done)
	if secs := s.Active.Seconds(); secs > 0 {
		s.TargetRate = planned / secs
		s.AchievedRate = float64(s.Journeys.Started) / secs
	}
	return s
}
