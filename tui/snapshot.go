package tui

import (
	"slices"
	"time"
)

// Snapshot is what the dashboard shows at one moment: the state of a shadow
// proxy, of a synthetic runner, or of both (`shadow demo`). It is plain data
// so the admin endpoint can serve it as JSON and attach mode can decode it;
// cmd fills it from the proxy, the compare engine and the runner.
//
// Durations are encoded in JSON as integer nanoseconds.
type Snapshot struct {
	// Time is when the producer took the snapshot. The dashboard derives
	// rates and its charts' time axis from successive Times; a zero Time is
	// replaced by the time the dashboard received the snapshot.
	Time time.Time `json:"time"`
	// Shadow is the proxy's state; nil when no proxy runs.
	Shadow *ShadowSnapshot `json:"shadow,omitempty"`
	// Synth is the synthetic runner's state; nil when no runner runs.
	Synth *SynthSnapshot `json:"synth,omitempty"`
}

// ShadowSnapshot is the state of a parallel run: where traffic goes, how
// much of it was mirrored and compared, and how each endpoint differs.
type ShadowSnapshot struct {
	// Primary, Candidate and Secondary are the upstreams' addresses, for
	// display; Secondary is empty when none is configured.
	Primary   string `json:"primary"`
	Candidate string `json:"candidate"`
	Secondary string `json:"secondary,omitempty"`
	// Listen is the address the proxy serves clients on, for display;
	// empty when the producer does not say.
	Listen string `json:"listen,omitempty"`
	// Started is when the proxy started; the dashboard's header shows the
	// uptime from it.
	Started time.Time `json:"started"`
	// Verdict is the judgement so far: "pass", "fail", "inconclusive"
	// (the candidate unreachable), or "" when there is not enough
	// traffic yet.
	Verdict string `json:"verdict"`
	// Reasons explains the verdict, one reason per entry.
	Reasons []string `json:"reasons,omitempty"`
	// CandidateUnreachable reports that most copies never reached the
	// candidate (refused connections, failed TLS handshakes): it is down
	// or misaddressed, and nothing it answered can be judged.
	CandidateUnreachable bool `json:"candidate_unreachable,omitempty"`

	// Received counts client requests; Mirrored those copied to the
	// candidate; Compared the pairs judged; Dropped the copies lost to
	// overload (a full queue, or a wait in it too long to line up with the
	// primary); Skipped the requests not mirrored (unsafe method, body
	// over the limit).
	Received uint64 `json:"received"`
	Mirrored uint64 `json:"mirrored"`
	Compared uint64 `json:"compared"`
	Dropped  uint64 `json:"dropped"`
	Skipped  uint64 `json:"skipped"`
	// CandidateErrors counts candidate requests that got no answer;
	// CandidateTimeouts the subset that hit the candidate timeout.
	CandidateErrors   uint64 `json:"candidate_errors"`
	CandidateTimeouts uint64 `json:"candidate_timeouts"`
	// Failures says why requests to the upstreams got no answer: one
	// entry per upstream and kind of failure, the primary's first; empty
	// when none failed. The status line shows them.
	Failures []UpstreamFailure `json:"failures,omitempty"`

	// QueueDepth is how many copies wait for a worker, out of QueueSize.
	QueueDepth int `json:"queue_depth"`
	QueueSize  int `json:"queue_size"`
	// Paused reports that mirroring is paused (the primary still serves).
	Paused bool `json:"paused"`
	// Tuning is the proxy's sample share and route switches as they are
	// now, which the dashboard shows and its sample and route keys change;
	// nil when the producer does not report them (an older instance), and
	// then those keys are off.
	Tuning *Tuning `json:"tuning,omitempty"`

	// PrimaryP99 and CandidateP99 are the 99th percentile latencies over
	// all endpoints, charted over time. When both are zero the dashboard
	// charts the highest endpoint p99s instead.
	PrimaryP99   time.Duration `json:"primary_p99"`
	CandidateP99 time.Duration `json:"candidate_p99"`

	// Endpoints holds per-endpoint results; the producer bounds its length.
	Endpoints []Endpoint `json:"endpoints,omitempty"`

	// Candidates holds each candidate's state when the run compares
	// several, in the order they are configured; the overview shows a
	// line for each, and the endpoint table a diff-rate column for each.
	// Empty with one candidate (Candidate).
	Candidates []CandidateSummary `json:"candidates,omitempty"`
}

// UpstreamFailure counts the requests to one upstream that failed one way.
type UpstreamFailure struct {
	// Upstream is "primary", "candidate" or "secondary".
	Upstream string `json:"upstream"`
	// Kind is "tls", "refused", "timeout", "protocol", "reset" or "other".
	Kind string `json:"kind"`
	// Count is how many requests failed this way.
	Count uint64 `json:"count"`
	// Reason is the error of the first of them.
	Reason string `json:"reason,omitempty"`
}

// Tuning is what can be changed about a proxy's mirroring while it runs:
// the share of eligible requests mirrored, and which of its configured
// routes are switched off.
type Tuning struct {
	// SamplePercent is the share of eligible requests mirrored, from 0
	// (none) to 100 (all).
	SamplePercent float64 `json:"sample_percent"`
	// SampleBy says what requests are sampled by, such as
	// "header:X-User-Id"; empty means at random.
	SampleBy string `json:"sample_by,omitempty"`
	// Routes are the proxy's configured routes in match order, one per
	// name; empty when none are configured.
	Routes []MirrorRoute `json:"routes,omitempty"`
}

// MirrorRoute is one of the proxy's configured routes (mirror.routes in
// the config), which is not a compared Endpoint: a route is a named path
// pattern that may cover many endpoints.
type MirrorRoute struct {
	// Name is the route's name, which switching it refers to.
	Name string `json:"name"`
	// Disabled reports that requests matching the route are not mirrored.
	Disabled bool `json:"disabled"`
}

// clone returns a copy of t that shares nothing with it; nil for nil.
func (t *Tuning) clone() *Tuning {
	if t == nil {
		return nil
	}
	c := *t
	c.Routes = slices.Clone(t.Routes)
	return &c
}

// off returns the names of the routes switched off, in order.
func (t *Tuning) off() []string {
	var names []string
	for _, r := range t.Routes {
		if r.Disabled {
			names = append(names, r.Name)
		}
	}
	return names
}

// Endpoint is the comparison result of one endpoint (method and route
// template, such as GET /orders/{id}).
type Endpoint struct {
	// Method is the HTTP method; Route the path template.
	Method string `json:"method"`
	Route  string `json:"route"`
	// Pairs counts the compared pairs; Diffs those that differed beyond
	// noise; DiffRate is Diffs/Pairs (0..1).
	Pairs    uint64  `json:"pairs"`
	Diffs    uint64  `json:"diffs"`
	DiffRate float64 `json:"diff_rate"`
	// NoisyFields counts the fields learned to differ between primary and
	// secondary on their own.
	NoisyFields int `json:"noisy_fields"`
	// PrimaryP99 and CandidateP99 are the endpoint's 99th percentile
	// latencies.
	PrimaryP99   time.Duration `json:"primary_p99"`
	CandidateP99 time.Duration `json:"candidate_p99"`
	// CandidateErrors counts candidate requests of this endpoint that got no
	// answer.
	CandidateErrors uint64 `json:"candidate_errors"`
	// Fields lists the fields that differed, with counts.
	Fields []Field `json:"fields,omitempty"`
	// Exemplars holds a few differing pairs to look at, bounded by the
	// producer.
	Exemplars []Exemplar `json:"exemplars,omitempty"`
	// Candidates holds each candidate's result on the endpoint when the
	// run compares several (ShadowSnapshot.Candidates), in their order;
	// the fields above are then the first candidate's, but DiffRate, by
	// which the table sorts, is the worst candidate's.
	Candidates []EndpointCandidate `json:"candidates,omitempty"`
}

// Field counts the differences seen at one path of an endpoint's answers.
type Field struct {
	// Path locates the field, such as $.items[0].price or header:Etag.
	Path string `json:"path"`
	// Diffs counts candidate differences; Noise the differences seen
	// between primary and secondary.
	Diffs uint64 `json:"diffs"`
	Noise uint64 `json:"noise"`
	// IsNoise reports that the field is ignored as noise.
	IsNoise bool `json:"is_noise"`
}

// Exemplar is one pair whose answers differed: the request and both
// answers, with the differences found.
type Exemplar struct {
	// Method is the request's HTTP method.
	Method string `json:"method"`
	// URL is the request URI: path and query.
	URL string `json:"url"`
	// RequestBody is the request body as text (possibly truncated or
	// redacted by the producer); empty when there was none.
	RequestBody string `json:"request_body,omitempty"`
	// PrimaryStatus and CandidateStatus are the answers' status codes.
	PrimaryStatus   int `json:"primary_status"`
	CandidateStatus int `json:"candidate_status"`
	// PrimaryBody and CandidateBody are the answers' bodies as text.
	PrimaryBody   string `json:"primary_body,omitempty"`
	CandidateBody string `json:"candidate_body,omitempty"`
	// Differences lists what differed, in path order.
	Differences []Difference `json:"differences,omitempty"`
}

// The kinds of Difference.
const (
	KindChanged     = "changed"
	KindAdded       = "added"
	KindRemoved     = "removed"
	KindTypeChanged = "type_changed"
)

// Difference is one difference between the primary's and the candidate's
// answer.
type Difference struct {
	// Path locates the value, as in Field.Path.
	Path string `json:"path"`
	// Kind is KindChanged, KindAdded (only the candidate has it),
	// KindRemoved (only the primary has it) or KindTypeChanged.
	Kind string `json:"kind"`
	// Primary and Candidate are the two values as JSON text; empty on the
	// side that lacks the value.
	Primary   string `json:"primary,omitempty"`
	Candidate string `json:"candidate,omitempty"`
	// Detail says the difference in words when the values alone do not:
	// for an outbound call ("outbound POST payments /charges $.amount"),
	// "candidate called POST payments /charges with $.amount 10.01 where
	// the primary sent 10.00". Empty for most.
	Detail string `json:"detail,omitempty"`
}

// SynthSnapshot is the state of a synthetic run: pacing, progress, per-step
// results and the guardrail.
type SynthSnapshot struct {
	// Scenario names the scenario; RunID identifies the run (it tags every
	// request); Target is the base URL traffic goes to.
	Scenario string `json:"scenario"`
	RunID    string `json:"run_id"`
	Target   string `json:"target"`
	// Started is when the run started; Elapsed how long it has run;
	// Duration how long it is planned to run (zero: until stopped).
	Started  time.Time     `json:"started"`
	Elapsed  time.Duration `json:"elapsed"`
	Duration time.Duration `json:"duration"`

	// TargetRate is the journey starts per second the pacer aims at now;
	// AchievedRate the rate actually started; Ceiling the configured
	// maximum (zero: none). All are per second.
	TargetRate   float64 `json:"target_rate"`
	AchievedRate float64 `json:"achieved_rate"`
	Ceiling      float64 `json:"ceiling"`
	// InFlight counts journeys running now.
	InFlight int `json:"in_flight"`
	// JourneysStarted counts journeys started, JourneysCompleted those that
	// ended (passed or failed), JourneysDropped the starts that could not
	// run because too many were in flight.
	JourneysStarted   uint64 `json:"journeys_started"`
	JourneysCompleted uint64 `json:"journeys_completed"`
	JourneysDropped   uint64 `json:"journeys_dropped"`

	// Paused reports that no journeys are being started; Done that the run
	// has ended (see Result).
	Paused bool `json:"paused"`
	Done   bool `json:"done"`
	// Stage describes where the pacer is, such as "stage 2/3"; empty for
	// a constant rate.
	Stage string `json:"stage,omitempty"`
	// Progress is how far through the run it is, 0..1.
	Progress float64 `json:"progress"`

	// Steps holds results per journey step.
	Steps []Step `json:"steps,omitempty"`
	// StatusCodes counts answers by HTTP status code ("200", "503"), with
	// "error" for requests that got no answer.
	StatusCodes map[string]uint64 `json:"status_codes,omitempty"`
	// AssertionFailures groups failed assertions by step and message.
	AssertionFailures []AssertionFailure `json:"assertion_failures,omitempty"`
	// Guardrail is the state of the automatic abort.
	Guardrail Guardrail `json:"guardrail"`
	// Result is "", "passed", "failed" or "aborted".
	Result string `json:"result,omitempty"`
}

// Step is the result so far of one step of a journey.
type Step struct {
	// Journey names the journey; Name the step within it.
	Journey string `json:"journey"`
	Name    string `json:"name"`
	// Count counts executions; Errors those that failed (no answer, bad
	// status or failed assertion); SuccessRate is 1 - Errors/Count (0..1).
	Count       uint64  `json:"count"`
	Errors      uint64  `json:"errors"`
	SuccessRate float64 `json:"success_rate"`
	// P50, P90 and P99 are latency percentiles, measured from the intended
	// start.
	P50 time.Duration `json:"p50"`
	P90 time.Duration `json:"p90"`
	P99 time.Duration `json:"p99"`
}

// AssertionFailure counts the failures of one assertion of one step.
type AssertionFailure struct {
	// Step names the step; Message says what was expected and found.
	Step    string `json:"step"`
	Message string `json:"message"`
	// Count counts the failures.
	Count uint64 `json:"count"`
}

// The states of a Guardrail.
const (
	GuardrailArmed   = "armed"
	GuardrailTripped = "tripped"
	GuardrailOff     = "off"
)

// Guardrail is the state of the automatic abort that watches error rate and
// latency.
type Guardrail struct {
	// State is GuardrailArmed, GuardrailTripped or GuardrailOff; empty
	// means off.
	State string `json:"state"`
	// Reason says why it tripped, such as "error rate 6.1% > 5% over 30s".
	Reason string `json:"reason,omitempty"`
}
