package scenarios

import "time"

// StepResult is one request a step sent, as RunnerOptions.OnResult sees
// it: enough to record the request and rebuild the step's figures (a
// latency histogram, status codes, failed checks) elsewhere, for example
// from the result files of many runners.
type StepResult struct {
	// Scenario names the scenario; RunID is the run's tag and JourneyID
	// the journey's (see Tags).
	Scenario  string
	RunID     string
	JourneyID string
	// Journey and Step name the step; Cleanup marks a cleanup step.
	Journey string
	Step    string
	Cleanup bool
	// Method and URL are what was requested.
	Method string
	URL    string
	// Tags are the synthetic tag headers the request carried, by name,
	// its traceparent among them.
	Tags map[string]string
	// TraceID is the W3C trace id of the request's journey; SpanID the
	// request's own (both in hex, as in its traceparent header).
	TraceID string
	SpanID  string
	// Status is the answer's status code; 0 when none arrived (ErrorKind
	// says why).
	Status int
	// Start is when the latency began counting: the journey's intended
	// start for a first step, the send for the others.
	Start time.Time
	// Latency is from Start to the end of the answer (or the error).
	Latency time.Duration
	// ErrorKind names why no answer arrived ("timeout",
	// "connection_refused", ...; see StepStats.Errors); empty when one did.
	ErrorKind string
	// Failures are the checks the answer did not pass.
	Failures []CheckFailure
}

// CheckFailure is one check a step's answer did not pass.
type CheckFailure struct {
	// Check names it as StepStats.Checks does ("status", "max_latency",
	// "json.<path>", "capture.<name>").
	Check string
	// Msg says what was wrong; it names the expectation and quotes at
	// most a short excerpt of the answer.
	Msg string
}

// Passed reports that an answer arrived and passed every check.
func (r *StepResult) Passed() bool { return r.ErrorKind == "" && len(r.Failures) == 0 }
