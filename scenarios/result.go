package scenarios

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"maps"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/understudy-dev/understudy/stats"
)

// maxExemplars bounds the failure examples kept per step.
const maxExemplars = 5

// State is where a run is in its life.
type State string

// The states of a run.
const (
	// StateReady: Run has not been called.
	StateReady State = "ready"
	// StateRunning: journeys are being started.
	StateRunning State = "running"
	// StatePaused: starts are held until Resume.
	StatePaused State = "paused"
	// StateStopping: no new starts; in-flight journeys and cleanups finish.
	StateStopping State = "stopping"
	// StateDone: Run has returned.
	StateDone State = "done"
)

// Outcome says how a run ended.
type Outcome string

// The ways a run ends.
const (
	// OutcomeCompleted: the duration ran out (or the schedule ended).
	OutcomeCompleted Outcome = "completed"
	// OutcomeStopped: Stop was called; everything in flight finished.
	OutcomeStopped Outcome = "stopped"
	// OutcomeAborted: a guardrail tripped; see Snapshot.Reason.
	OutcomeAborted Outcome = "aborted"
	// OutcomeKilled: Kill was called or Run's context ended; in-flight
	// requests were cancelled and remaining cleanups skipped.
	OutcomeKilled Outcome = "killed"
)

// Snapshot is a consistent, bounded copy of a run's figures: one entry per
// configured step, fixed-size maps. The runner hands one out at any time
// (Runner.Snapshot) for dashboards and the admin endpoint.
type Snapshot struct {
	// Scenario is the scenario's name, RunID the run's tag and Target the
	// base URL requests go to.
	Scenario string `json:"scenario"`
	RunID    string `json:"run_id"`
	Target   string `json:"target"`
	// State is where the run is now.
	State State `json:"state"`
	// Outcome is set once the run has ended.
	Outcome Outcome `json:"outcome,omitempty"`
	// Reason says why a run was aborted or killed.
	Reason string `json:"reason,omitempty"`
	// Started is when Run began; Elapsed is wall time since then (to the
	// end for a finished run) and Active the part spent not paused.
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsed"`
	Active  time.Duration `json:"active"`
	// Rates in journeys per second. TargetRate and AchievedRate are means
	// over the active time (planned starts and actual starts); CurrentTarget
	// is the pacer's rate now and CurrentRate the starts over the last few
	// seconds.
	TargetRate    float64 `json:"target_rate"`
	AchievedRate  float64 `json:"achieved_rate"`
	CurrentTarget float64 `json:"current_target"`
	CurrentRate   float64 `json:"current_rate"`
	Ceiling       float64 `json:"ceiling"`
	InFlight      int64   `json:"in_flight"`
	MaxInFlight   int     `json:"max_in_flight"`
	// MinSuccessRate is the threshold the run is judged against.
	MinSuccessRate float64         `json:"min_success_rate"`
	Journeys       JourneyCounts   `json:"journeys"`
	Cleanups       CleanupCounts   `json:"cleanups"`
	Guardrail      GuardrailStatus `json:"guardrail"`
	// Live is what the run last read from production: its relative
	// rate's query first, then its query guardrails'.
	Live  []LiveStatus `json:"live,omitempty"`
	Steps []StepStats  `json:"steps"`
}

// Result is a finished run: its final Snapshot, with each step's latency
// histogram exported so result files can be merged.
type Result struct {
	Snapshot
}

// JourneyCounts counts journeys by how they ended.
type JourneyCounts struct {
	// Started journeys, and Dropped starts that found MaxInFlight
	// journeys already running (or every row of a unique feeder held).
	Started int64 `json:"started"`
	Dropped int64 `json:"dropped"`
	// Succeeded and Failed journeys ran to an end; Interrupted ones were
	// cut short by a guardrail abort or a kill.
	Succeeded   int64 `json:"succeeded"`
	Failed      int64 `json:"failed"`
	Interrupted int64 `json:"interrupted"`
}

// CleanupCounts counts cleanup steps.
type CleanupCounts struct {
	// Ran cleanups were sent; Failed ones of those got no answer or failed
	// an assertion.
	Ran    int64 `json:"ran"`
	Failed int64 `json:"failed"`
	// Skipped cleanups were not sent: a variable they need was never
	// captured, or the run was killed.
	Skipped int64 `json:"skipped"`
}

// GuardrailStatus is the guardrail's latest look at the sliding window.
type GuardrailStatus struct {
	// Enabled says whether any limit is set.
	Enabled bool `json:"enabled"`
	// Window holds the figures over the guardrail window.
	Window stats.WindowStats `json:"window"`
	// Breaching says a limit is exceeded now; BreachSince is when that began.
	Breaching   bool      `json:"breaching"`
	BreachSince time.Time `json:"breach_since,omitzero"`
}

// StepStats is what happened at one step.
type StepStats struct {
	// Journey and Step name the step; Cleanup marks a cleanup step.
	Journey string `json:"journey"`
	Step    string `json:"step"`
	Cleanup bool   `json:"cleanup,omitempty"`
	// Requests sent, and Failures among them (no answer or a failed
	// check). Skipped counts times the step was not sent because a
	// variable it needs was missing.
	Requests int64 `json:"requests"`
	Failures int64 `json:"failures"`
	Skipped  int64 `json:"skipped,omitempty"`
	// Latency is measured from the journey's intended start for a first
	// step, from the send for the others.
	Latency stats.Summary `json:"latency"`
	// Status counts answers by status code (a gRPC step's by gRPC code:
	// 0 is OK).
	Status map[int]int64 `json:"status,omitempty"`
	// Errors counts requests that got no answer, by kind (timeout,
	// connection_refused, ...).
	Errors map[string]int64 `json:"errors,omitempty"`
	// Checks counts failed checks by name (status, max_latency,
	// json.<path>, capture.<name>, missing_capture, template, and
	// descriptor for a gRPC method without one).
	Checks map[string]int64 `json:"checks,omitempty"`
	// Exemplars are the first few failures, for reading.
	Exemplars []Exemplar `json:"exemplars,omitempty"`
	// Histogram is the exported latency histogram; only in a Result.
	Histogram *hdrhistogram.Snapshot `json:"histogram,omitempty"`
}

// Exemplar is one failure of a step, kept for reading.
type Exemplar struct {
	// JourneyID is the journey that failed (see X-Synthetic-Journey).
	JourneyID string `json:"journey_id"`
	// Check names what failed, as in StepStats.Checks or Errors.
	Check string `json:"check"`
	// Msg says what was wrong.
	Msg string `json:"msg"`
}

// Name returns "journey/step".
func (s StepStats) Name() string { return s.Journey + "/" + s.Step }

// SuccessRate is the share of finished journeys that succeeded; 1 when
// none finished.
func (s *Snapshot) SuccessRate() float64 {
	done := s.Journeys.Succeeded + s.Journeys.Failed
	if done == 0 {
		return 1
	}
	return float64(s.Journeys.Succeeded) / float64(done)
}

// Passed reports whether the run held: not aborted or killed, the journey
// success rate at or above MinSuccessRate, and no cleanup failed (a failed
// cleanup leaves synthetic data behind).
func (s *Snapshot) Passed() bool {
	if s.Outcome == OutcomeAborted || s.Outcome == OutcomeKilled {
		return false
	}
	return s.SuccessRate() >= s.MinSuccessRate && s.Cleanups.Failed == 0
}

// recorder aggregates outcomes; one mutex keeps every copy consistent.
type recorder struct {
	mu       sync.Mutex
	steps    []*stepAgg
	journeys JourneyCounts
	cleanups CleanupCounts
}

type stepAgg struct {
	plan      *stepPlan
	hist      stats.Histogram
	requests  int64
	failures  int64
	skipped   int64
	status    map[int]int64
	errors    map[string]int64
	checks    map[string]int64
	exemplars []Exemplar
}

func newRecorder(p *plan) *recorder {
	rec := &recorder{}
	for _, sp := range p.steps {
		rec.steps = append(rec.steps, &stepAgg{plan: sp, status: map[int]int64{},
			errors: map[string]int64{}, checks: map[string]int64{}})
	}
	return rec
}

// sent records one request of a step: its status (0 when errKind says why
// there was none), latency and failed checks.
func (rec *recorder) sent(sp *stepPlan, journeyID string, status int, errKind, errMsg string, latency time.Duration, fs []failure) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	a := rec.steps[sp.index]
	a.requests++
	a.hist.Record(latency)
	if errKind != "" {
		a.errors[errKind]++
		a.exemplar(journeyID, errKind, errMsg)
	} else {
		a.status[status]++
	}
	for _, f := range fs {
		a.checks[f.check]++
		a.exemplar(journeyID, f.check, f.msg)
	}
	if errKind != "" || len(fs) > 0 {
		a.failures++
		if sp.cleanup {
			rec.cleanups.Failed++
		}
	}
	if sp.cleanup {
		rec.cleanups.Ran++
	}
}

// unsent records a step that could not be sent (a missing variable, a
// template that failed); a cleanup that is not sent counts as skipped.
func (rec *recorder) unsent(sp *stepPlan, journeyID, check, msg string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	a := rec.steps[sp.index]
	a.skipped++
	a.checks[check]++
	a.exemplar(journeyID, check, msg)
	if sp.cleanup {
		rec.cleanups.Skipped++
	}
}

func (a *stepAgg) exemplar(journeyID, check, msg string) {
	if len(a.exemplars) < maxExemplars {
		a.exemplars = append(a.exemplars, Exemplar{JourneyID: journeyID, Check: check, Msg: msg})
	}
}

func (rec *recorder) journey(f func(*JourneyCounts, *CleanupCounts)) {
	rec.mu.Lock()
	f(&rec.journeys, &rec.cleanups)
	rec.mu.Unlock()
}

// fill copies the counts into s; with histograms, it exports them too.
func (rec *recorder) fill(s *Snapshot, histograms bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	s.Journeys, s.Cleanups = rec.journeys, rec.cleanups
	s.Steps = make([]StepStats, len(rec.steps))
	for i, a := range rec.steps {
		st := StepStats{
			Journey: a.plan.journey, Step: a.plan.name, Cleanup: a.plan.cleanup,
			Requests: a.requests, Failures: a.failures, Skipped: a.skipped,
			Latency: a.hist.Summary(), Status: maps.Clone(a.status),
			Errors: maps.Clone(a.errors), Checks: maps.Clone(a.checks),
			Exemplars: append([]Exemplar(nil), a.exemplars...),
		}
		if histograms {
			st.Histogram = a.hist.Export()
		}
		s.Steps[i] = st
	}
}

// errorKind names why a request got no answer, from a fixed set so the
// Errors maps stay small.
func errorKind(err error) string {
	var netErr net.Error
	var dnsErr *net.DNSError
	var tlsErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection_reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.As(err, &tlsErr), errors.As(err, &recErr):
		return "tls"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	}
	return "other"
}
