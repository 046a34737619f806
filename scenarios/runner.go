package scenarios

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brianvoe/gofakeit/v7"

	"github.com/understudy-dev/understudy/stats"
)

// maxSleep caps one wait of the pacing loop, so controls are seen at once
// and pacers whose waits are estimates (the ramp) are asked again soon.
const maxSleep = 10 * time.Millisecond

// workerIdle is how long a journey goroutine waits for its next journey
// before it ends; see Runner.start.
const workerIdle = time.Second

// RunnerOptions adjust how a Runner runs a scenario. The zero value runs
// the scenario as written.
type RunnerOptions struct {
	// Client sends the requests. Nil means a client with its own
	// connection pool sized for the scenario's max_in_flight, which does
	// not follow redirects (a 3xx is checked as it is).
	Client *http.Client
	// Target, when set, replaces the scenario's target URL.
	Target string
	// Rate, when above 0, replaces the scenario's rate or stages with this
	// constant rate, clamped to the ceiling.
	Rate float64
	// Duration, when above 0, replaces the scenario's duration.
	Duration time.Duration
	// RunID tags every request of the run. Empty means a random id.
	RunID string
	// Tags names the tag headers; the zero value uses the defaults.
	Tags Tags
	// Seed makes fake data and journey choice reproducible; zero means the
	// scenario's seed, and if that is zero too, a random one.
	Seed uint64
	// Logger receives run events (start, rate changes, abort, end). Nil
	// means no logging.
	Logger *slog.Logger
	// OnResult, when set, is called with every request a step sent, once
	// its answer was checked (steps that could not be sent are not
	// requests and are not reported). It is called from the journeys'
	// goroutines, concurrently, and holds up its journey's next step, so
	// it should be quick: hand the result to a channel and return. Nil
	// means no calls and no cost.
	OnResult func(StepResult)
}

// Runner runs one scenario once: it starts journeys as its pacer says,
// watches the guardrails, and can be paused, re-rated, stopped or killed
// from other goroutines while it runs. Create one with NewRunner.
type Runner struct {
	plan        *plan
	rec         *recorder
	guard       *guardrail
	starts      *stats.Window // journey starts, for the current rate
	client      *http.Client
	transport   *http.Transport // ours to close; nil with RunnerOptions.Client
	log         *slog.Logger
	onResult    func(StepResult)
	tags        Tags
	tagger      *tagger
	runID       string
	target      string
	timeout     time.Duration
	ceiling     float64
	duration    time.Duration
	maxInFlight int64
	seed        uint64

	inFlight atomic.Int64
	wg       sync.WaitGroup // journey goroutines (workers)
	jobs     chan journeyJob
	paced    chan struct{} // closed when the pacing loop has returned
	ran      atomic.Bool
	halt     atomic.Bool // abort or kill: journeys take no further steps
	kill     atomic.Bool // kill: cleanups are skipped too

	ctl      chan struct{} // wakes the pacing loop after a control call
	stopCh   chan struct{} // closed when starts must cease
	killCh   chan struct{} // closed by Kill
	stopOnce sync.Once
	killOnce sync.Once

	// startMu orders starts against Stop: once stopping is set under it,
	// no journey starts.
	startMu  sync.Mutex
	stopping bool
	holding  bool   // paused: starts are skipped until Resume
	seq      uint64 // journeys numbered so far

	mu       sync.Mutex // guards the fields below
	state    State
	outcome  Outcome
	reason   string
	paused   bool
	newRate  *float64
	started  time.Time
	ended    time.Time
	active   time.Duration // active time before runStart
	runStart time.Time     // start of the current active stretch; zero when paused
	seg      segment
}

// segment is the schedule in force since the last rate change.
type segment struct {
	sched  schedule
	at     time.Duration // active time at which it began
	hits   uint64        // starts asked of it so far
	before float64       // starts planned by earlier segments
}

// NewRunner validates sc and prepares a run of it.
func NewRunner(sc *Scenario, opts RunnerOptions) (*Runner, error) {
	if err := checkOptions(sc, opts); err != nil {
		return nil, err
	}
	seed := opts.Seed
	if seed == 0 {
		seed = sc.Seed
	}
	if seed == 0 {
		seed = mrand.Uint64() | 1
	}
	p, probs := sc.compile(gofakeit.New(seed))
	if len(probs) > 0 {
		return nil, newValidationError(probs)
	}
	r := &Runner{
		plan:        p,
		rec:         newRecorder(p),
		guard:       newGuardrail(sc.Guardrails),
		starts:      stats.NewWindow(5 * time.Second),
		log:         opts.Logger,
		onResult:    opts.OnResult,
		tags:        opts.Tags.withDefaults(),
		runID:       opts.RunID,
		target:      strings.TrimRight(cmpOr(opts.Target, sc.Target), "/"),
		timeout:     sc.timeout(),
		ceiling:     sc.ceiling(),
		duration:    sc.duration(),
		maxInFlight: int64(sc.maxInFlight()),
		seed:        seed,
		ctl:         make(chan struct{}, 1),
		jobs:        make(chan journeyJob),
		paced:       make(chan struct{}),
		stopCh:      make(chan struct{}),
		killCh:      make(chan struct{}),
		state:       StateReady,
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if r.runID == "" {
		r.runID = newRunID()
	}
	r.tagger = newTagger(r.tags, r.runID)
	if opts.Duration > 0 {
		r.duration = opts.Duration
	}
	sched := newSchedule(sc)
	if opts.Rate > 0 {
		rate := min(opts.Rate, r.ceiling)
		if rate < opts.Rate {
			r.log.Warn("rate clamped to the ceiling", "asked", opts.Rate, "ceiling", r.ceiling)
		}
		sched = newConstant(rate)
	}
	r.seg = segment{sched: sched}
	r.client = opts.Client
	if r.client == nil {
		r.transport = http.DefaultTransport.(*http.Transport).Clone()
		// Keep a connection for every journey that may run at once. The
		// default's cap of 100 idle connections in all closed the extra
		// ones after every burst, and the next burst dialled them again:
		// at high rates that fed on itself until the run fell far behind.
		r.transport.MaxIdleConnsPerHost = int(r.maxInFlight)
		r.transport.MaxIdleConns = 0
		r.transport.DialContext = limitDials(r.transport.DialContext, maxDials)
		r.client = &http.Client{
			Transport:     r.transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return r, nil
}

func checkOptions(sc *Scenario, opts RunnerOptions) error {
	if sc == nil {
		return errors.New("new runner: no scenario")
	}
	v := &validator{s: &Scenario{}}
	if math.IsNaN(opts.Rate) || opts.Rate < 0 {
		v.add("Rate", "want a rate of 0 (the scenario's) or more, got %v", opts.Rate)
	}
	if opts.Duration < 0 {
		v.add("Duration", "must not be negative, got %v", opts.Duration)
	}
	if opts.Target != "" {
		v.target("Target", opts.Target)
	}
	if len(v.probs) > 0 {
		return fmt.Errorf("runner options: %w", newValidationError(v.probs))
	}
	return nil
}

func newRunID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// RunID returns the id every request of the run is tagged with.
func (r *Runner) RunID() string { return r.runID }

// Run starts journeys until the duration ends, Stop or Kill is called, a
// guardrail trips, or ctx ends (which counts as Kill). It then waits for
// journeys in flight and their cleanups, and returns the result; the
// result's Outcome says how the run ended. A Runner runs once.
func (r *Runner) Run(ctx context.Context) (*Result, error) {
	if !r.ran.CompareAndSwap(false, true) {
		return nil, errors.New("run scenario: this runner has already run")
	}
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(2)
	go func() {
		defer bg.Done()
		select {
		case <-r.killCh:
			cancel()
		case <-done:
		}
	}()
	go func() {
		defer bg.Done()
		r.watch(done)
	}()

	r.mu.Lock()
	r.started = time.Now()
	r.mu.Unlock()
	r.log.Info("synth run started", "scenario", r.plan.scenario.Name, "run_id", r.runID,
		"target", r.target, "duration", r.duration, "ceiling", r.ceiling)

	r.pace(ctx, reqCtx)
	close(r.paced) // idle workers end; busy ones end after their journey
	r.setState(StateStopping)
	r.wg.Wait()
	close(done)
	bg.Wait()
	if r.transport != nil {
		r.transport.CloseIdleConnections()
	}

	r.mu.Lock()
	r.ended = time.Now()
	r.state = StateDone
	if r.outcome == "" {
		r.outcome = OutcomeCompleted
	}
	r.mu.Unlock()
	res := &Result{Snapshot: r.Snapshot()}
	r.log.Info("synth run ended", "outcome", res.Outcome, "reason", res.Reason,
		"started", res.Journeys.Started, "failed", res.Journeys.Failed, "dropped", res.Journeys.Dropped)
	return res, nil
}

// watch runs the guardrail until done is closed.
func (r *Runner) watch(done <-chan struct{}) {
	t := time.NewTicker(guardrailTick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			if reason := r.guard.check(now); reason != "" && !r.halt.Load() {
				r.log.Warn("synth run aborted", "reason", reason)
				r.end(OutcomeAborted, reason)
				r.halt.Store(true)
			}
		}
	}
}

// pace is the pacing loop: it asks the schedule when the next journey is
// due, sleeps until then (waking for controls), and starts it.
func (r *Runner) pace(ctx, reqCtx context.Context) {
	rng := mrand.New(mrand.NewPCG(r.seed, r.seed^0x9e3779b97f4a7c15))
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	running := false
	var last time.Duration // intended active time of the last start
	for {
		select {
		case <-r.stopCh:
			r.pauseClock(&running)
			return
		case <-ctx.Done():
			r.end(OutcomeKilled, "context ended: "+context.Cause(ctx).Error())
			r.halt.Store(true)
			r.kill.Store(true)
			r.pauseClock(&running)
			return
		default:
		}
		now := time.Now()
		r.mu.Lock()
		switch {
		case r.paused && running:
			r.active += now.Sub(r.runStart)
			r.runStart, running, r.state = time.Time{}, false, StatePaused
			r.log.Info("synth run paused")
		case !r.paused && !running:
			r.runStart, running, r.state = now, true, StateRunning
		case r.paused && r.state == StateReady:
			r.state = StatePaused
		}
		elapsed := r.active
		if running {
			elapsed += now.Sub(r.runStart)
		}
		if r.newRate != nil && running {
			rate := *r.newRate
			r.newRate = nil
			r.seg = segment{sched: newConstant(rate), at: elapsed,
				before: r.seg.before + r.seg.sched.planned(elapsed-r.seg.at)}
			last = elapsed
			r.log.Info("synth rate set", "rate", rate)
		}
		seg := r.seg
		activeBefore, runStart := r.active, r.runStart
		r.mu.Unlock()

		if !running {
			r.sleep(ctx, nil)
			continue
		}
		wait, stop := seg.sched.Pace(elapsed-seg.at, seg.hits)
		due := max(elapsed+wait, last)
		if stop || due >= r.duration {
			// Starts due before the end are still made, late if need
			// be; the first one due at or after it ends the run.
			if elapsed < r.duration && !stop {
				timer.Reset(min(r.duration-elapsed, maxSleep))
				r.sleep(ctx, timer.C)
				continue
			}
			r.pauseClock(&running)
			return
		}
		if due > elapsed {
			timer.Reset(min(due-elapsed, maxSleep))
			r.sleep(ctx, timer.C)
			continue
		}
		last = due
		r.mu.Lock()
		r.seg.hits++
		r.mu.Unlock()
		r.start(reqCtx, rng, runStart.Add(due-activeBefore))
	}
}

// sleep waits for the timer (nil: none), a control call, Stop or ctx.
func (r *Runner) sleep(ctx context.Context, timer <-chan time.Time) {
	select {
	case <-timer:
	case <-r.ctl:
	case <-r.stopCh:
	case <-ctx.Done():
	}
}

// pauseClock stops the active clock if it is running.
func (r *Runner) pauseClock(running *bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if *running {
		r.active += time.Since(r.runStart)
		r.runStart, *running = time.Time{}, false
	}
}

// journeyJob is one journey handed to a worker.
type journeyJob struct {
	ctx      context.Context
	jp       *journeyPlan
	id       string
	intended time.Time
}

// start begins one journey at its intended time, or counts it dropped
// when MaxInFlight journeys are running. It never waits: the journey goes
// to an idle worker if one is waiting, else to a new one. Workers live on
// for the next journeys (see workerIdle), so at high rates the goroutine
// and its stack, grown once through net/http, are reused rather than made
// and grown again for every journey.
func (r *Runner) start(ctx context.Context, rng *mrand.Rand, intended time.Time) {
	r.startMu.Lock()
	defer r.startMu.Unlock()
	if r.stopping || r.holding {
		return
	}
	if r.inFlight.Load() >= r.maxInFlight { // only this goroutine adds
		r.rec.journey(func(j *JourneyCounts, _ *CleanupCounts) { j.Dropped++ })
		return
	}
	r.inFlight.Add(1)
	r.seq++
	job := journeyJob{ctx: ctx, jp: r.plan.pick(rng), id: r.runID + "-" + strconv.FormatUint(r.seq, 10), intended: intended}
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
		r.runJourney(job.ctx, job.jp, job.id, job.intended)
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

func (r *Runner) setState(s State) {
	r.mu.Lock()
	r.state = s
	r.mu.Unlock()
}

// end records how the run ends (a kill outranks an abort, which outranks
// a stop) and makes starts cease.
func (r *Runner) end(o Outcome, reason string) {
	rank := map[Outcome]int{"": 0, OutcomeCompleted: 1, OutcomeStopped: 2, OutcomeAborted: 3, OutcomeKilled: 4}
	r.mu.Lock()
	if rank[o] > rank[r.outcome] {
		r.outcome, r.reason = o, reason
	}
	if r.state != StateDone && r.state != StateReady {
		r.state = StateStopping
	}
	r.mu.Unlock()
	r.startMu.Lock()
	r.stopping = true
	r.startMu.Unlock()
	r.stopOnce.Do(func() { close(r.stopCh) })
}

func (r *Runner) wake() {
	select {
	case r.ctl <- struct{}{}:
	default:
	}
}

func (r *Runner) halted() bool { return r.halt.Load() }
func (r *Runner) killed() bool { return r.kill.Load() }
