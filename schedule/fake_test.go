package schedule

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/understudy-dev/understudy/notify"
	"github.com/understudy-dev/understudy/scenarios"
)

// fakeLauncher starts fake runs that behave as its plan says, and keeps
// count of how many run at once.
type fakeLauncher struct {
	// plan decides how the run for a job behaves; nil means every run
	// passes at once.
	plan func(Job) fakePlan
	// release lets blocking runs complete (closed by the test).
	release chan struct{}

	mu   sync.Mutex
	jobs []Job
	runs []*fakeRun

	running, maxRunning atomic.Int32
}

// fakePlan is how one fake run behaves.
type fakePlan struct {
	startErr error             // Start fails with it
	block    bool              // wait for release, Stop or Kill
	drain    chan struct{}     // after Stop, wait for this too (nil: end at once)
	outcome  scenarios.Outcome // how it ends when not stopped ("" = completed)
	fail     bool              // the journey failed
	notify   []notify.Target   // what NotifyTargets returns
}

func newFakeLauncher(plan func(Job) fakePlan) *fakeLauncher {
	return &fakeLauncher{plan: plan, release: make(chan struct{})}
}

func (l *fakeLauncher) Start(ctx context.Context, job Job) (Running, error) {
	p := fakePlan{}
	if l.plan != nil {
		p = l.plan(job)
	}
	l.mu.Lock()
	l.jobs = append(l.jobs, job)
	l.mu.Unlock()
	if p.startErr != nil {
		return nil, p.startErr
	}
	n := l.running.Add(1)
	for {
		m := l.maxRunning.Load()
		if n <= m || l.maxRunning.CompareAndSwap(m, n) {
			break
		}
	}
	r := &fakeRun{l: l, job: job, plan: p, ctx: ctx, stop: make(chan struct{}), kill: make(chan struct{})}
	l.mu.Lock()
	l.runs = append(l.runs, r)
	l.mu.Unlock()
	return r, nil
}

func (l *fakeLauncher) started() []Job {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Job(nil), l.jobs...)
}

func (l *fakeLauncher) lastRun() *fakeRun {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.runs) == 0 {
		return nil
	}
	return l.runs[len(l.runs)-1]
}

// fakeRun is one fake attempt.
type fakeRun struct {
	l    *fakeLauncher
	job  Job
	plan fakePlan
	ctx  context.Context

	stop, kill         chan struct{}
	stopOnce, killOnce sync.Once
	stopped, killed    atomic.Bool
	ended              atomic.Bool // set before Wait returns
	waitOnce           sync.Once
	res                *scenarios.Result
}

func (r *fakeRun) Stop() { r.stopped.Store(true); r.stopOnce.Do(func() { close(r.stop) }) }
func (r *fakeRun) Kill() { r.killed.Store(true); r.killOnce.Do(func() { close(r.kill) }) }

func (r *fakeRun) NotifyTargets() []notify.Target { return r.plan.notify }

func (r *fakeRun) Snapshot() scenarios.Snapshot {
	return scenarios.Snapshot{Scenario: r.job.Entry, RunID: r.job.RunID, MinSuccessRate: 1}
}

func (r *fakeRun) Wait() (*scenarios.Result, error) {
	r.waitOnce.Do(func() {
		outcome := r.plan.outcome
		if r.plan.block {
			select {
			case <-r.l.release:
			case <-r.stop:
				outcome = scenarios.OutcomeStopped
				if r.plan.drain != nil {
					select {
					case <-r.plan.drain:
					case <-r.kill:
						outcome = scenarios.OutcomeKilled
					}
				}
			case <-r.kill:
				outcome = scenarios.OutcomeKilled
			case <-r.ctx.Done():
				outcome = scenarios.OutcomeKilled
			}
		}
		if outcome == "" {
			outcome = scenarios.OutcomeCompleted
		}
		j := scenarios.JourneyCounts{Started: 1, Succeeded: 1}
		if r.plan.fail {
			j = scenarios.JourneyCounts{Started: 1, Failed: 1}
		}
		r.res = &scenarios.Result{Snapshot: scenarios.Snapshot{
			Scenario: r.job.Entry, RunID: r.job.RunID, State: scenarios.StateDone,
			Outcome: outcome, MinSuccessRate: 1, Journeys: j,
			Steps: []scenarios.StepStats{{Journey: "j", Step: "s", Requests: 1, Failures: j.Failed}},
		}}
		r.l.running.Add(-1)
		r.ended.Store(true)
	})
	return r.res, nil
}

// errStart is a start failure.
var errStart = errors.New("scenario file vanished")

// scenarioFile writes a placeholder scenario file (fake launchers never
// read it) and returns its path.
func scenarioFile(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("name: "+name+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeClock is a settable clock for blackout checks.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.set(t)
	return c
}
func (c *fakeClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }

// bubble runs f in a synctest bubble, in parallel with other tests: the
// cron timing, retry delays and blackout checks run on the bubble's clock,
// so a test of minutes takes no time at all.
func bubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	t.Parallel()
	synctest.Test(t, f)
}

// startScheduler runs s in the background and returns a function that
// ends Run's context, and a channel closed when Run has returned.
func startScheduler(t *testing.T, s *Scheduler) (cancel func(), done <-chan struct{}) {
	t.Helper()
	ctx, cancelCtx := context.WithCancel(context.Background())
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		if err := s.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { // bounded even when a test failed half-way
		cancelCtx()
		select {
		case <-ch:
		case <-time.After(20 * time.Second):
			s.Kill()
			<-ch
		}
	})
	return cancelCtx, ch
}

// stopScheduler ends Run's context and waits, bounded, for Run to return.
func stopScheduler(t *testing.T, cancel func(), done <-chan struct{}) {
	t.Helper()
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// status returns the named entry's status.
func status(t *testing.T, s *Scheduler, name string) EntryStatus {
	t.Helper()
	for _, st := range s.Status() {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no entry %q", name)
	return EntryStatus{}
}
