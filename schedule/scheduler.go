package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/understudy-dev/understudy/notify"
	"github.com/understudy-dev/understudy/scenarios"
)

// blackoutCheck is how often running attempts are checked against their
// entry's blackouts.
const blackoutCheck = time.Second

// Options adjust how a Scheduler runs. The zero value runs scenarios with
// RunnerLauncher, logs nothing and reads the real clock.
type Options struct {
	// Launcher starts runs. Nil means RunnerLauncher{Logger: Logger}.
	Launcher Launcher
	// Logger receives the scheduler's events: starts, skips, retries,
	// results. Nil means no logging.
	Logger *slog.Logger
	// Now tells the time for blackout checks, run ids and history. Nil
	// means time.Now. The cron timing itself always follows the real clock.
	Now func() time.Time
	// Watch, when set, is called as each attempt starts with a function
	// returning its live figures; the scheduler calls the returned done
	// function (if not nil) once the attempt has ended, when the figures
	// are final. metrics.SynthMetrics.Watch has this shape.
	Watch func(snapshot func() scenarios.Snapshot) (done func())
}

// Scheduler runs scenarios on cron schedules: at most one run of a
// scenario file at a time, none in a blackout, a failed run retried,
// every run kept in a bounded history. Create one with New, start it with
// Run.
type Scheduler struct {
	cfg        Config
	entries    []*entry
	launcher   Launcher
	log        *slog.Logger
	now        func() time.Time
	watch      func(func() scenarios.Snapshot) func()
	checkEvery time.Duration
	cron       *cron.Cron

	runCtx    context.Context // every run's parent; cancelled by Kill and when Run returns
	runCancel context.CancelFunc
	stopCh    chan struct{} // closed once no new runs may start
	stopOnce  sync.Once
	ran       atomic.Bool
	seq       atomic.Uint64

	saveMu sync.Mutex // orders history writes, so the file never goes back in time

	mu       sync.Mutex // guards the fields below and the entries' counters
	stopping bool
	busy     map[string]string  // scenario file -> entry running it
	running  map[*active]*entry // attempts in progress
	history  []RunRecord
}

// entry is a compiled Entry with its counters.
type entry struct {
	Entry
	key       string // the scenario file, absolute: runs of one key never overlap
	sched     cron.Schedule
	blackouts []blackout
	id        cron.EntryID

	// Guarded by Scheduler.mu.
	counts     map[Result]int64
	retried    int64
	last       *RunRecord
	lastPassed time.Time
}

// active is an attempt in progress.
type active struct {
	run   Running
	runID string
	note  string // why the scheduler stopped it; "" when it has not
}

// New validates cfg, creates ResultDir, reads the history file (a missing
// one starts an empty history) and prepares the schedule. Nothing runs
// until Run.
func New(cfg Config, opts Options) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("schedule config: %w", err)
	}
	s := &Scheduler{
		cfg:        cfg,
		launcher:   opts.Launcher,
		log:        opts.Logger,
		now:        opts.Now,
		watch:      opts.Watch,
		checkEvery: blackoutCheck,
		stopCh:     make(chan struct{}),
		busy:       map[string]string{},
		running:    map[*active]*entry{},
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.launcher == nil {
		s.launcher = RunnerLauncher{Logger: opts.Logger}
	}
	if s.now == nil {
		s.now = time.Now
	}
	logger := cronLogger{s.log}
	s.cron = cron.New(cron.WithLogger(logger), cron.WithChain(cron.Recover(logger)))
	for _, ce := range cfg.Entries {
		e, err := s.compile(ce)
		if err != nil {
			return nil, fmt.Errorf("schedule config: entry %s: %w", ce.Name, err)
		}
		if e.IsEnabled() {
			e.id = s.cron.Schedule(e.sched, cron.FuncJob(func() { s.fire(e) }))
		}
		s.entries = append(s.entries, e)
	}
	if cfg.ResultDir != "" {
		if err := os.MkdirAll(cfg.ResultDir, 0o700); err != nil {
			return nil, fmt.Errorf("schedule config: result_dir: %w", err)
		}
	}
	if cfg.HistoryFile != "" {
		h, err := ReadHistory(cfg.HistoryFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		default:
			s.history = h.Runs[max(0, len(h.Runs)-cfg.historySize()):]
		}
	}
	s.runCtx, s.runCancel = context.WithCancel(context.Background())
	return s, nil
}

// compile resolves an entry's time zones, cron spec and blackouts.
func (s *Scheduler) compile(ce Entry) (*entry, error) {
	cronTZ, zone := s.cfg.zones(ce)
	sched, err := compileCron(ce.Cron, cronTZ)
	if err != nil {
		return nil, err
	}
	var loc *time.Location // local
	if zone != "" {
		loc, _ = loadLocation(zone) // Validate resolved it; blackouts follow the entry's zone
	}
	e := &entry{Entry: ce, sched: sched, counts: map[Result]int64{}}
	for _, b := range ce.Blackouts {
		cb, errs := compileBlackout(b, loc)
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		e.blackouts = append(e.blackouts, cb)
	}
	if e.key, err = filepath.Abs(ce.Scenario); err != nil {
		return nil, fmt.Errorf("scenario %q: %w", ce.Scenario, err)
	}
	return e, nil
}

// blackedOut reports whether t falls in one of the entry's blackouts.
func (e *entry) blackedOut(t time.Time) bool {
	for _, b := range e.blackouts {
		if b.active(t) {
			return true
		}
	}
	return false
}

// Run starts runs as their schedules fall due until ctx is done or Kill is
// called. Then no new run starts, the running ones are stopped gracefully
// (journeys in flight finish and clean up), and Run returns once they have
// ended and been recorded. A Scheduler runs once.
func (s *Scheduler) Run(ctx context.Context) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errors.New("run schedule: this scheduler has already run")
	}
	defer s.runCancel()
	enabled := 0
	for _, e := range s.entries {
		if e.IsEnabled() {
			enabled++
		}
	}
	s.log.Info("scheduler started", "entries", len(s.entries), "enabled", enabled)
	s.cron.Start()
	tick := time.NewTicker(s.checkEvery)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-s.stopCh:
			break loop
		case <-tick.C:
			s.enforceBlackouts()
		}
	}
	s.stop("scheduler stopping", false)
	<-s.cron.Stop().Done() // every fire, retries included, has returned
	s.log.Info("scheduler stopped")
	return nil
}

// Kill ends the scheduler now: no new runs start, running ones are killed
// (requests in flight cancelled, cleanups skipped), and Run returns once
// they are recorded. Safe to call at any time, and twice.
func (s *Scheduler) Kill() {
	s.stop("scheduler killed", true)
	s.runCancel()
}

// stop makes starts cease and stops (or kills) the running attempts.
func (s *Scheduler) stop(note string, kill bool) {
	s.mu.Lock()
	s.stopping = true
	for a := range s.running {
		if a.note == "" {
			a.note = note
		}
		if kill {
			a.run.Kill()
		} else {
			a.run.Stop()
		}
	}
	s.mu.Unlock()
	s.stopOnce.Do(func() { close(s.stopCh) })
}

// enforceBlackouts stops attempts whose entry has entered a blackout.
func (s *Scheduler) enforceBlackouts() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for a, e := range s.running {
		if a.note == "" && e.blackedOut(now) {
			a.note = "blackout began"
			s.log.Info("scheduled run stopped: blackout began", "entry", e.Name, "run_id", a.runID)
			a.run.Stop()
		}
	}
}

// fire is the cron job of one entry: it decides whether the due start may
// run, runs it (with retries) and records it.
func (s *Scheduler) fire(e *entry) {
	now := s.now()
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return
	}
	if e.blackedOut(now) {
		e.counts[ResultSkippedBlackout]++
		s.mu.Unlock()
		s.log.Info("scheduled run skipped: blackout", "entry", e.Name)
		return
	}
	if owner, ok := s.busy[e.key]; ok {
		e.counts[ResultSkippedOverlap]++
		s.mu.Unlock()
		s.log.Warn("scheduled run skipped: the scenario is still running", "entry", e.Name,
			"scenario", e.Scenario, "running_entry", owner)
		return
	}
	s.busy[e.key] = e.Name
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.busy, e.key)
		s.mu.Unlock()
	}()

	rec := RunRecord{Entry: e.Name, Scenario: e.Scenario, Started: now}
	var final *scenarios.Result
	var targets []notify.Target
	for n := 1; ; n++ {
		a, res, note, result, tg := s.attempt(e, n)
		final, targets = result, tg
		rec.Attempts = append(rec.Attempts, a)
		rec.Result, rec.Note = res, note
		if (res != ResultFailed && res != ResultError) || n > e.retries() {
			break
		}
		s.mu.Lock()
		e.retried++
		s.mu.Unlock()
		s.log.Warn("scheduled run failed; retrying", "entry", e.Name, "run_id", a.RunID,
			"result", res, "attempt", n, "in", e.retryDelay())
		if !s.sleep(e.retryDelay()) {
			rec.Note = "retry cancelled: scheduler stopping"
			break
		}
		if e.blackedOut(s.now()) {
			rec.Note = "retry skipped: blackout"
			break
		}
	}
	rec.Ended = s.now()
	s.record(e, rec)
	s.tell(e, rec, final, targets)
}

// notifyTime bounds telling the webhooks about one run.
const notifyTime = 30 * time.Second

// tell posts a finished run's summary to the schedule's webhooks and its
// scenario's. A webhook that fails is logged and changes nothing.
func (s *Scheduler) tell(e *entry, rec RunRecord, res *scenarios.Result, scenarioTargets []notify.Target) {
	targets := append(slices.Clone(s.cfg.Notify), scenarioTargets...)
	if len(targets) == 0 {
		return
	}
	final := rec.Attempts[len(rec.Attempts)-1]
	var sum notify.Summary
	if res != nil {
		var reports []string
		if final.ResultFile != "" {
			reports = []string{final.ResultFile}
		}
		sum = scenarios.Notification(res, reports)
	} else {
		sum = notify.Summary{Tool: "synth", RunID: final.RunID, Event: notify.Failed, Verdict: "ERROR",
			Reason: final.Error, Started: final.Started, Ended: final.Ended}
	}
	sum.Tool, sum.Name = "synth schedule", e.Name
	if rec.Note != "" {
		sum.Reason = strings.TrimPrefix(sum.Reason+"; "+rec.Note, "; ")
	}
	ctx, cancel := context.WithTimeout(context.Background(), notifyTime)
	defer cancel()
	n := notify.Notifier{Targets: targets, Logger: s.log.With("entry", e.Name)}
	n.Notify(ctx, sum)
}

// attempt runs one attempt and waits for it. It returns the attempt, how
// it counts, why the scheduler stopped it (if it did), its result (nil if
// it could not start) and the webhooks its run names.
func (s *Scheduler) attempt(e *entry, n int) (Attempt, Result, string, *scenarios.Result, []notify.Target) {
	start := s.now()
	a := Attempt{
		RunID:   fmt.Sprintf("%s-%s-%d", e.Name, start.UTC().Format("20060102T150405Z"), s.seq.Add(1)),
		Started: start,
	}
	job := Job{Entry: e.Name, Scenario: e.Scenario, RunID: a.RunID, Rate: e.Rate, Duration: e.Duration, Attempt: n}
	run, err := s.launcher.Start(s.runCtx, job)
	if err != nil {
		a.Ended, a.Error = s.now(), err.Error()
		s.log.Error("scheduled run could not start", "entry", e.Name, "run_id", a.RunID, "err", err)
		return a, ResultError, "", nil, nil
	}
	var targets []notify.Target
	if nt, ok := run.(interface{ NotifyTargets() []notify.Target }); ok {
		targets = nt.NotifyTargets()
	}
	act := &active{run: run, runID: a.RunID}
	s.mu.Lock()
	s.running[act] = e
	if s.stopping { // Stop came between the check in fire and now
		act.note = "scheduler stopping"
		run.Stop()
	}
	s.mu.Unlock()
	s.log.Info("scheduled run started", "entry", e.Name, "run_id", a.RunID, "attempt", n)

	var done func()
	if s.watch != nil {
		done = s.watch(run.Snapshot)
	}
	res, err := run.Wait()
	if done != nil {
		done()
	}
	s.mu.Lock()
	delete(s.running, act)
	note := act.note
	s.mu.Unlock()
	a.Ended = s.now()
	if err == nil && res == nil {
		err = errors.New("the launcher returned no result")
	}
	if err != nil {
		a.Error = err.Error()
		return a, ResultError, note, nil, targets
	}
	a.summarise(&res.Snapshot)
	if s.cfg.ResultDir != "" {
		path := filepath.Join(s.cfg.ResultDir, a.RunID+".json")
		if err := scenarios.WriteReportFile(path, res); err != nil {
			a.Error = err.Error()
			s.log.Error("scheduled run result not written", "entry", e.Name, "err", err)
		} else {
			a.ResultFile = path
		}
	}
	return a, classify(&res.Snapshot), note, res, targets
}

// classify says how a finished run counts.
func classify(s *scenarios.Snapshot) Result {
	switch s.Outcome {
	case scenarios.OutcomeAborted:
		return ResultAborted
	case scenarios.OutcomeStopped, scenarios.OutcomeKilled:
		return ResultStopped
	}
	if s.Passed() {
		return ResultPassed
	}
	return ResultFailed
}

// sleep waits for d; it returns false when the scheduler stops first.
func (s *Scheduler) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stopCh:
		return false
	}
}

// record counts a finished run, adds it to the history and saves it.
func (s *Scheduler) record(e *entry, rec RunRecord) {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	e.counts[rec.Result]++
	last := rec
	e.last = &last
	if rec.Result == ResultPassed {
		e.lastPassed = rec.Ended
	}
	s.history = append(s.history, rec)
	if size := s.cfg.historySize(); len(s.history) > size {
		s.history = slices.Clone(s.history[len(s.history)-size:])
	}
	var h *History
	if s.cfg.HistoryFile != "" {
		h = &History{Schema: HistorySchema, Updated: s.now(), Runs: slices.Clone(s.history)}
	}
	s.mu.Unlock()

	final := rec.Attempts[len(rec.Attempts)-1]
	s.log.Info("scheduled run finished", "entry", e.Name, "result", rec.Result, "attempts", len(rec.Attempts),
		"run_id", final.RunID, "result_file", final.ResultFile, "note", rec.Note, "err", final.Error)
	if h != nil {
		if err := writeHistory(s.cfg.HistoryFile, h); err != nil {
			s.log.Error("schedule history not saved", "err", err)
		}
	}
}

// Status returns every entry's state, in configuration order.
func (s *Scheduler) Status() []EntryStatus {
	s.mu.Lock()
	stopping := s.stopping
	s.mu.Unlock()
	next := map[cron.EntryID]time.Time{}
	if s.ran.Load() && !stopping {
		for _, ce := range s.cron.Entries() {
			next[ce.ID] = ce.Next
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]EntryStatus, 0, len(s.entries))
	for _, e := range s.entries {
		st := EntryStatus{
			Name: e.Name, Scenario: e.Scenario, Cron: e.Cron, Enabled: e.IsEnabled(),
			Counts: maps.Clone(e.counts), Retries: e.retried, LastPassed: e.lastPassed,
		}
		if e.IsEnabled() {
			st.Next = next[e.id]
		}
		for _, r := range Results {
			st.Counts[r] += 0
		}
		for a, ae := range s.running {
			if ae == e {
				st.Running, st.RunID = true, a.runID
			}
		}
		if e.last != nil {
			st.LastResult, st.LastStarted, st.LastEnded = e.last.Result, e.last.Started, e.last.Ended
		}
		out = append(out, st)
	}
	return out
}

// Snapshots returns the live figures of every attempt running now.
func (s *Scheduler) Snapshots() []scenarios.Snapshot {
	s.mu.Lock()
	runs := make([]Running, 0, len(s.running))
	for a := range s.running {
		runs = append(runs, a.run)
	}
	s.mu.Unlock()
	out := make([]scenarios.Snapshot, 0, len(runs))
	for _, r := range runs {
		out = append(out, r.Snapshot())
	}
	slices.SortFunc(out, func(a, b scenarios.Snapshot) int { return strings.Compare(a.RunID, b.RunID) })
	return out
}

// History returns the runs recorded so far (those read from the history
// file included), oldest first.
func (s *Scheduler) History() []RunRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.history)
}
