package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/understudy-dev/understudy/notify"
	"github.com/understudy-dev/understudy/scenarios"
)

// Job is one attempt the scheduler asks a Launcher to start.
type Job struct {
	// Entry is the schedule entry's name.
	Entry string
	// Scenario is the scenario file.
	Scenario string
	// RunID tags the run's requests; "<entry>-<UTC start>-<sequence>".
	RunID string
	// Rate and Duration override the scenario's when above 0.
	Rate     float64
	Duration time.Duration
	// Attempt counts from 1; above 1 it is a retry.
	Attempt int
}

// Launcher starts runs. The scheduler uses RunnerLauncher unless told
// otherwise; tests put a fake in its place.
type Launcher interface {
	// Start begins the run and returns without waiting for it. Ending ctx
	// kills the run (the scheduler does so only through Scheduler.Kill).
	Start(ctx context.Context, job Job) (Running, error)
}

// Running is a run in progress. One that also has a NotifyTargets()
// []notify.Target method names webhooks to tell when its run has ended,
// besides Config.Notify (RunnerLauncher's runs give their scenario's).
type Running interface {
	// Snapshot returns the run's figures so far (final once Wait returned).
	Snapshot() scenarios.Snapshot
	// Stop ends the run gracefully: no new journeys, those in flight
	// finish. Kill ends it now. Both return at once, without waiting for
	// the run, and are safe to call twice.
	Stop()
	Kill()
	// Wait blocks until the run has ended and returns its result.
	Wait() (*scenarios.Result, error)
}

// RunnerLauncher runs scenarios with scenarios.Runner: it loads the file
// afresh for each run (edits take effect at the next one), applies the
// job's overrides and runs it. The zero value is ready to use.
type RunnerLauncher struct {
	// Client sends the requests. Nil means the runner's own client.
	Client *http.Client
	// Logger receives each run's events. Nil means none.
	Logger *slog.Logger
}

// Start loads job.Scenario and starts a Runner on it.
func (l RunnerLauncher) Start(ctx context.Context, job Job) (Running, error) {
	sc, err := scenarios.Load(job.Scenario)
	if err != nil {
		return nil, err
	}
	logger := l.Logger
	if logger != nil {
		logger = logger.With("entry", job.Entry)
	}
	r, err := scenarios.NewRunner(sc, scenarios.RunnerOptions{
		Client: l.Client, Rate: job.Rate, Duration: job.Duration, RunID: job.RunID, Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("scenario %q: %w", job.Scenario, err)
	}
	run := &runnerRun{Runner: r, done: make(chan struct{}), notify: sc.Notify}
	go func() {
		defer close(run.done)
		run.res, run.err = r.Run(ctx)
	}()
	return run, nil
}

// runnerRun is a Runner running in its own goroutine.
type runnerRun struct {
	*scenarios.Runner
	done   chan struct{}
	res    *scenarios.Result
	err    error
	notify []notify.Target
}

// NotifyTargets returns the webhooks the run's scenario file names.
func (r *runnerRun) NotifyTargets() []notify.Target { return r.notify }

func (r *runnerRun) Wait() (*scenarios.Result, error) {
	<-r.done
	return r.res, r.err
}
