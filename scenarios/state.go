package scenarios

import (
	"context"
	"slices"
	"time"
)

// runState is everything about a run that changes while it runs: where it
// is, how it ends, its clock and its rate. One goroutine owns it at a
// time: the run's loop while Run runs (see loop), otherwise whichever call
// holds Runner.token. Nothing else reads or writes it, so it needs no lock.
type runState struct {
	state   State
	outcome Outcome
	reason  string

	paused bool // Pause was called and not Resume
	ending bool // no more starts: stop, abort, kill or the end of the schedule
	halt   bool // abort or kill: journeys take no further steps
	kill   bool // kill: requests in flight are cancelled, cleanups skipped

	started, ended time.Time
	active         time.Duration // active time before runStart
	runStart       time.Time     // start of the current active stretch; zero when the clock stands

	seg  segment
	last time.Duration // intended active time of the last start
	seq  uint64        // journeys numbered so far

	checking bool         // the pre-flight request is out
	live     []LiveStatus // one per Runner.live
	haveBase bool         // the relative rate's query has answered once
	pinned   bool         // SetRate replaced the relative rate
}

// segment is the schedule in force since the last rate change.
type segment struct {
	sched  schedule
	at     time.Duration // active time at which it began
	hits   uint64        // starts asked of it so far
	before float64       // starts planned by earlier segments
}

// control is one message to a run's state: a control call, an abort from
// a guardrail, or a request for a copy of the state.
type control struct {
	kind   controlKind
	rate   float64
	reason string
	reply  chan runState // ctlState: where the copy goes (buffered)
	index  int           // ctlLive: which of Runner.live
	value  float64       // ctlLive: what it read
	err    error         // ctlLive: why it read nothing; ctlPreflight: why the target is unreachable
}

type controlKind int

const (
	ctlState controlKind = iota
	ctlPause
	ctlResume
	ctlRate
	ctlStop
	ctlKill
	ctlAbort
	ctlLive      // an evaluation of a production query
	ctlPreflight // the pre-flight request's answer
)

// elapsed is the active time as of now.
func (st *runState) elapsed(now time.Time) time.Duration {
	if st.runStart.IsZero() {
		return st.active
	}
	return st.active + now.Sub(st.runStart)
}

// standClock stops the active clock if it runs.
func (st *runState) standClock(now time.Time) {
	if !st.runStart.IsZero() {
		st.active += now.Sub(st.runStart)
		st.runStart = time.Time{}
	}
}

// apply carries out one control at now; once the run is done only the
// state can still be read. It never blocks: the side effects on journeys
// (halt, kill) are flags the loop turns into signals.
func (r *Runner) apply(st *runState, c control, now time.Time) {
	if c.kind == ctlState {
		cp := *st
		cp.live = slices.Clone(st.live) // the owner goes on writing its own
		c.reply <- cp
		return
	}
	if st.state == StateDone {
		return // the run is over: nothing left to control
	}
	switch c.kind {
	case ctlPause:
		if st.paused {
			return
		}
		st.paused = true
		st.standClock(now)
		if st.state == StateRunning {
			st.state = StatePaused
			r.log.Info("synth run paused")
		}
	case ctlResume:
		if !st.paused {
			return
		}
		st.paused = false
		if st.state == StatePaused {
			st.runStart, st.state = now, StateRunning
			r.log.Info("synth run resumed")
		}
	case ctlRate:
		st.setRate(newConstant(c.rate), now)
		if r.relative != nil && !st.pinned {
			st.pinned = true
			r.log.Info("synth rate set; the relative rate no longer sets it", "rate", c.rate)
			return
		}
		r.log.Info("synth rate set", "rate", c.rate)
	case ctlStop:
		st.end(OutcomeStopped, "stopped")
	case ctlKill:
		st.halt, st.kill = true, true
		st.end(OutcomeKilled, c.reason)
	case ctlAbort:
		if st.halt {
			return // already aborted or killed
		}
		r.log.Warn("synth run aborted", "reason", c.reason)
		st.halt = true
		st.end(OutcomeAborted, c.reason)
	case ctlLive:
		r.applyLive(st, c, now)
	case ctlPreflight:
		st.checking = false
		if c.err != nil {
			r.apply(st, control{kind: ctlAbort, reason: c.err.Error()}, now)
		}
	}
}

// setRate puts sched in force from now on.
func (st *runState) setRate(sched schedule, now time.Time) {
	el := st.elapsed(now)
	st.seg = segment{sched: sched, at: el, before: st.seg.before + st.seg.sched.planned(el-st.seg.at)}
	st.last = el
}

// outcomeRank orders outcomes: a kill outranks an abort, which outranks a
// stop, which outranks completion.
var outcomeRank = map[Outcome]int{"": 0, OutcomeCompleted: 1, OutcomeStopped: 2, OutcomeAborted: 3, OutcomeKilled: 4}

// end records how the run ends, unless a weightier end came first, and
// makes starts cease.
func (st *runState) end(o Outcome, reason string) {
	if outcomeRank[o] > outcomeRank[st.outcome] {
		st.outcome, st.reason = o, reason
	}
	st.ending = true
	if st.state != StateDone && st.state != StateReady {
		st.state = StateStopping
	}
}

// tell delivers c to the run's state: to the loop while Run runs, else
// straight to the state, which the call then holds for the moment. Once
// tell returns, the control has taken effect or is the loop's next action:
// the loop starts no journey between receiving a control and applying it.
func (r *Runner) tell(c control) {
	select {
	case st := <-r.token:
		r.apply(st, c, time.Now())
		r.token <- st
	case r.ctl <- c:
	}
}

// tellCtx is tell for goroutines of the run that must end with ctx: it
// gives up when ctx ends first.
func (r *Runner) tellCtx(ctx context.Context, c control) {
	select {
	case st := <-r.token:
		r.apply(st, c, time.Now())
		r.token <- st
	case r.ctl <- c:
	case <-ctx.Done():
	}
}

// state returns a copy of the run's state.
func (r *Runner) state() runState {
	c := control{kind: ctlState, reply: make(chan runState, 1)}
	r.tell(c)
	return <-c.reply
}
