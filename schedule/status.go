package schedule

import "time"

// Result says how a scheduled start counted.
type Result string

// The results of a scheduled start. Every start counts exactly once.
const (
	// ResultPassed: the run (or its retry) met its thresholds.
	ResultPassed Result = "passed"
	// ResultFailed: the run and its retries missed their thresholds.
	ResultFailed Result = "failed"
	// ResultAborted: a guardrail aborted the run; it is not retried.
	ResultAborted Result = "aborted"
	// ResultStopped: the run was stopped or killed before its end (the
	// scheduler shutting down, a blackout beginning, an operator).
	ResultStopped Result = "stopped"
	// ResultError: the run could not start (a bad scenario file) or ended
	// in an error, retries included.
	ResultError Result = "error"
	// ResultSkippedOverlap: the start was due while the same scenario file
	// was still running, so it was skipped.
	ResultSkippedOverlap Result = "skipped_overlap"
	// ResultSkippedBlackout: the start was due in a blackout window, so it
	// was skipped.
	ResultSkippedBlackout Result = "skipped_blackout"
)

// Results lists every Result, in a fixed order, for metrics that want
// every series present from the start.
var Results = []Result{ResultPassed, ResultFailed, ResultAborted, ResultStopped,
	ResultError, ResultSkippedOverlap, ResultSkippedBlackout}

// EntryStatus is what the scheduler knows about one entry now, for
// metrics and dashboards.
type EntryStatus struct {
	// Name and Scenario are the entry's; Cron its spec as written.
	Name     string `json:"name"`
	Scenario string `json:"scenario"`
	Cron     string `json:"cron"`
	// Enabled says whether the entry is scheduled.
	Enabled bool `json:"enabled"`
	// Running says whether an attempt of the entry runs now; RunID is its
	// run id.
	Running bool   `json:"running"`
	RunID   string `json:"run_id,omitempty"`
	// Next is when the entry is next due; zero when it is disabled or the
	// scheduler is not running.
	Next time.Time `json:"next,omitzero"`
	// Counts counts the entry's starts by Result since the scheduler
	// started; every Result is present.
	Counts map[Result]int64 `json:"counts"`
	// Retries counts retries made.
	Retries int64 `json:"retries"`
	// LastResult, LastStarted and LastEnded describe the latest finished
	// run; LastPassed is when a run last passed. Zero before any.
	LastResult  Result    `json:"last_result,omitempty"`
	LastStarted time.Time `json:"last_started,omitzero"`
	LastEnded   time.Time `json:"last_ended,omitzero"`
	LastPassed  time.Time `json:"last_passed,omitzero"`
}
