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
	r.tell(control{kind: ctlRate, rate: applied})
	return applied
}

// Pause holds new starts until Resume: once Pause returns no journey
// starts. Journeys in flight carry on, and paused time does not count
// towards the duration. Safe to call twice.
func (r *Runner) Pause() { r.tell(control{kind: ctlPause}) }

// Resume lets a paused run start journeys again. Safe to call twice.
func (r *Runner) Resume() { r.tell(control{kind: ctlResume}) }

// Stop ends the run gracefully: once Stop returns no journey starts;
// journeys in flight finish their steps and cleanups, then Run returns.
// Safe to call twice and together with Kill.
func (r *Runner) Stop() {
	r.log.Info("synth run stopping")
	r.tell(control{kind: ctlStop})
}

// Kill ends the run now: once Kill returns no journey starts, requests in
// flight are cancelled and remaining steps and cleanups are skipped. Safe
// to call twice and together with Stop.
func (r *Runner) Kill() {
	r.log.Warn("synth run killed")
	r.tell(control{kind: ctlKill, reason: "killed"})
}

// Snapshot returns a consistent copy of the run's figures, bounded in size
// (one entry per configured step). It is safe to call at any time; after
// Run has returned it gives the final figures, histograms included.
func (r *Runner) Snapshot() Snapshot {
	st := r.state()
	now := time.Now()
	s := Snapshot{
		Scenario:       r.plan.scenario.Name,
		RunID:          r.runID,
		Target:         r.target,
		State:          st.state,
		Reason:         st.reason,
		Started:        st.started,
		Ceiling:        r.ceiling,
		MaxInFlight:    int(r.maxInFlight),
		MinSuccessRate: r.plan.scenario.minSuccessRate(),
	}
	done := st.state == StateDone
	if done {
		s.Outcome = st.outcome
		now = st.ended
	} else if st.outcome != OutcomeCompleted {
		s.Outcome = st.outcome // known early for stop, abort and kill
	}
	if !st.started.IsZero() {
		s.Elapsed = now.Sub(st.started)
	}
	s.Active = st.elapsed(now)
	segAt := s.Active - st.seg.at
	planned := st.seg.before + st.seg.sched.planned(segAt)
	s.CurrentTarget = st.seg.sched.Rate(segAt)

	s.Live = st.live
	s.InFlight = r.inFlight.Load()
	s.Guardrail = r.guard.snapshot(now)
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
