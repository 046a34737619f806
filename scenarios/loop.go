package scenarios

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// maxSleep caps one wait of the pacing loop, so pacers whose waits are
// estimates (the ramp) are asked again soon. Controls do not wait for it:
// they wake the loop.
const maxSleep = 10 * time.Millisecond

// workerIdle is how long a journey goroutine waits for its next journey
// before it ends; see loop.start.
const workerIdle = time.Second

// Run starts journeys until the duration ends, Stop or Kill is called, a
// guardrail trips, or ctx ends (which counts as Kill). It then waits for
// journeys in flight and their cleanups, and returns the result; the
// result's Outcome says how the run ended. A Runner runs once.
func (r *Runner) Run(ctx context.Context) (*Result, error) {
	if !r.ran.CompareAndSwap(false, true) {
		return nil, errors.New("run scenario: this runner has already run")
	}
	if err := r.startGRPC(ctx); err != nil {
		return nil, fmt.Errorf("run scenario: %w", err)
	}
	defer r.stopGRPC()
	st := <-r.token // the loop owns the state until it hands it back
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	l := &loop{r: r, st: st, ctx: reqCtx, cancel: cancel, done: ctx.Done()}
	if r.guard.enabled { // without limits there is nothing to look at
		tick := time.NewTicker(guardrailTick)
		defer tick.Stop()
		l.tick = tick.C
	}

	now := time.Now()
	st.started = now
	if !st.ending {
		st.state = StateRunning
		if st.paused {
			st.state = StatePaused
		} else {
			st.runStart = now
		}
	}
	l.signal()
	r.log.Info("synth run started", "scenario", r.plan.scenario.Name, "run_id", r.runID,
		"target", r.target, "duration", r.duration, "ceiling", r.ceiling)

	// Background work ends with the run: the production queries, and the
	// pre-flight request if a kill cut it short.
	bgCtx, stopBG := context.WithCancel(reqCtx)
	var bg sync.WaitGroup
	for i, q := range r.live {
		bg.Go(func() { r.evaluate(bgCtx, i, q) })
	}
	l.preflight(bgCtx, &bg)
	l.pace()
	close(r.paced) // idle workers end; busy ones end after their journey
	l.drain()
	stopBG()
	if r.transport != nil {
		r.transport.CloseIdleConnections()
	}
	st.ended = time.Now()
	st.state = StateDone
	if st.outcome == "" {
		st.outcome = OutcomeCompleted
	}
	r.token <- st
	bg.Wait()

	res := &Result{Snapshot: r.Snapshot()}
	r.log.Info("synth run ended", "outcome", res.Outcome, "reason", res.Reason,
		"started", res.Journeys.Started, "failed", res.Journeys.Failed, "dropped", res.Journeys.Dropped)
	return res, nil
}

// loop is the goroutine that owns a run's state while Run runs: it paces
// the starts, takes the controls, looks at the guardrail, and waits for
// the journeys at the end.
type loop struct {
	r      *Runner
	st     *runState
	ctx    context.Context // the journeys' requests; cancelled by a kill
	cancel context.CancelFunc
	done   <-chan struct{}  // Run's context; nil once it counted as a kill
	tick   <-chan time.Time // the guardrail's ticks; nil without limits

	halted, killed bool // the signals given so far
}

// preflight holds the first start until the target has answered one
// request (unless RunnerOptions.NoPreflight) and a relative rate's query
// has answered once. Either failing aborts the run before any journey
// starts. The active clock stands meanwhile.
func (l *loop) preflight(ctx context.Context, bg *sync.WaitGroup) {
	r, st := l.r, l.st
	if r.preflight && !st.ending {
		st.checking = true
		bg.Go(func() {
			err := r.checkTarget(ctx)
			r.tellCtx(ctx, control{kind: ctlPreflight, err: err})
		})
	}
	if (!st.checking && (r.relative == nil || st.haveBase)) || st.ending {
		return
	}
	running := !st.runStart.IsZero()
	st.standClock(time.Now())
	for !st.ending && (st.checking || (r.relative != nil && !st.haveBase)) {
		l.wait(nil, nil, true)
	}
	if running && !st.paused {
		st.runStart = time.Now()
	}
}

// pace asks the schedule when the next journey is due, waits until then
// (taking controls meanwhile) and starts it, until starts must cease.
func (l *loop) pace() {
	r, st := l.r, l.st
	rng := mrand.New(mrand.NewPCG(r.seed, r.seed^0x9e3779b97f4a7c15))
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	sleep := func(d time.Duration) {
		timer.Reset(min(d, maxSleep))
		l.wait(timer.C, nil, true)
	}
	for {
		l.wait(nil, nil, false) // a control that came meanwhile goes first
		if st.ending {
			break
		}
		if st.paused {
			l.wait(nil, nil, true)
			continue
		}
		elapsed := st.elapsed(time.Now())
		wait, stop := st.seg.sched.Pace(elapsed-st.seg.at, st.seg.hits)
		due := max(elapsed+wait, st.last)
		if stop || due >= r.duration {
			// Starts due before the end are still made, late if need
			// be; the first one due at or after it ends the run.
			if elapsed < r.duration && !stop {
				sleep(r.duration - elapsed)
				continue
			}
			st.end(OutcomeCompleted, "")
			break
		}
		if due > elapsed {
			sleep(due - elapsed)
			continue
		}
		st.last = due
		st.seg.hits++
		l.start(rng, st.runStart.Add(due-st.active))
	}
	st.standClock(time.Now())
}

// drain waits for the journeys in flight, still taking controls (a kill
// after a stop cancels what is left) and watching the guardrail.
func (l *loop) drain() {
	if l.st.state != StateDone {
		l.st.state = StateStopping
	}
	drained := make(chan struct{})
	go func() {
		l.r.wg.Wait()
		close(drained)
	}()
	for !closed(drained) {
		l.wait(nil, drained, true)
	}
}

// wait takes one event: a control, a guardrail tick, the end of Run's
// context, or timer or wake firing (nil: never). Unless block is set it
// returns at once when nothing is ready.
func (l *loop) wait(timer <-chan time.Time, wake <-chan struct{}, block bool) {
	if !block {
		select {
		case c := <-l.r.ctl:
			l.r.apply(l.st, c, time.Now())
		case now := <-l.tick:
			l.guard(now)
		case <-l.done:
			l.ctxDone()
		default:
			return
		}
		l.signal()
		return
	}
	select {
	case c := <-l.r.ctl:
		l.r.apply(l.st, c, time.Now())
	case now := <-l.tick:
		l.guard(now)
	case <-l.done:
		l.ctxDone()
	case <-timer:
	case <-wake:
	}
	l.signal()
}

// guard looks at the guardrail's window.
func (l *loop) guard(now time.Time) {
	if reason := l.r.guard.check(now); reason != "" {
		l.r.apply(l.st, control{kind: ctlAbort, reason: reason}, now)
	}
}

// ctxDone counts the end of Run's context as a kill.
func (l *loop) ctxDone() {
	l.done = nil
	l.r.apply(l.st, control{kind: ctlKill, reason: "context ended: " + context.Cause(l.ctx).Error()}, time.Now())
}

// signal passes a halt or kill on to the journeys, once each.
func (l *loop) signal() {
	if l.st.halt && !l.halted {
		l.halted = true
		close(l.r.halt)
	}
	if l.st.kill && !l.killed {
		l.killed = true
		close(l.r.kill)
		l.cancel()
	}
}

// journeyJob is one journey handed to a worker.
type journeyJob struct {
	ctx      context.Context
	jp       *journeyPlan
	id       string
	intended time.Time
	rows     held // one row of every feeder
}

// start begins one journey at its intended time, or counts it dropped
// when MaxInFlight journeys are running. It never waits: the journey goes
// to an idle worker if one is waiting, else to a new one. Workers live on
// for the next journeys (see workerIdle), so at high rates the goroutine
// and its stack, grown once through net/http, are reused rather than made
// and grown again for every journey.
func (l *loop) start(rng *mrand.Rand, intended time.Time) {
	r := l.r
	if r.inFlight.Load() >= r.maxInFlight { // only the loop adds
		r.rec.journey(func(j *JourneyCounts, _ *CleanupCounts) { j.Dropped++ })
		return
	}
	rows, why, exhausted := takeRows(r.feeders, rng)
	switch {
	case exhausted:
		r.log.Info("synth run ending: its data ran out", "reason", why)
		l.st.end(OutcomeCompleted, why)
		return
	case why != "":
		r.rec.journey(func(j *JourneyCounts, _ *CleanupCounts) { j.Dropped++ })
		return
	}
	r.inFlight.Add(1)
	l.st.seq++
	job := journeyJob{ctx: l.ctx, jp: r.plan.pick(rng), id: r.runID + "-" + strconv.FormatUint(l.st.seq, 10),
		intended: intended, rows: rows}
	r.rec.journey(func(j *JourneyCounts, _ *CleanupCounts) { j.Started++ })
	r.starts.Mark(time.Now(), false)
	select {
	case r.jobs <- job:
	default:
		r.wg.Add(1)
		go r.worker(job)
	}
}

// worker runs job, then the journeys start hands it, until it has waited
// workerIdle for one or the pacing loop has returned.
func (r *Runner) worker(job journeyJob) {
	defer r.wg.Done()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		r.runJourney(job.ctx, job.jp, job.id, job.intended, job.rows)
		idle.Reset(workerIdle)
		select {
		case job = <-r.jobs:
		case <-idle.C:
			return
		case <-r.paced:
			return
		}
	}
}

// halted reports an abort or a kill: journeys take no further steps.
func (r *Runner) halted() bool { return closed(r.halt) }

// killed reports a kill: cleanups are skipped too.
func (r *Runner) killed() bool { return closed(r.kill) }

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
