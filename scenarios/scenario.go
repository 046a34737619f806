// Package scenarios runs synthetic transactions: multi-step journeys of
// fake, clearly tagged requests (an order placed, fetched, cancelled), sent
// at a controlled rate to a live service, checked with assertions, watched
// by guardrails that abort the run on trouble, and stoppable at once.
//
// A Scenario is loaded from YAML (Load, Parse), checked (Validate) and run
// by a Runner. Every request the Runner sends carries synthetic tags
// (X-Synthetic, X-Synthetic-Run, X-Synthetic-Journey and W3C baggage) so the
// service can keep synthetic data out of its real data, and a W3C
// traceparent (one trace per journey) so it can be found in tracing.
//
// The rate is constant, a ramp, stages, or relative to a production metric
// read from Prometheus (a MetricSource); guardrails watch the run's own
// requests and, as QueryGuardrails, production's metrics. Journeys draw
// rows from data feeders and think between steps. A Runner checks the
// target answers before its first journey, and may run a Share of a load
// split between runners. Its state has one owner, the loop in Run, which
// takes the controls (Pause, Resume, SetRate, Stop, Kill) as messages.
// Merger rebuilds one Result from the requests of many runs.
package scenarios

import (
	"time"

	"github.com/understudy-dev/understudy/notify"
	"github.com/understudy-dev/understudy/protoschema"
	"github.com/understudy-dev/understudy/wire"
)

// Defaults applied to a Scenario's zero fields.
const (
	// DefaultMaxInFlight caps concurrent journeys when max_in_flight is 0.
	DefaultMaxInFlight = 100
	// DefaultTimeout bounds each request when timeout is 0.
	DefaultTimeout = 30 * time.Second
	// DefaultGuardrailWindow is the guardrail window when window is 0.
	DefaultGuardrailWindow = 10 * time.Second
	// DefaultMinSamples is the guardrail sample floor when min_samples is 0.
	DefaultMinSamples = 20
	// DefaultLiveInterval is how often a production query (a relative
	// rate, a query guardrail) is evaluated when interval is 0.
	DefaultLiveInterval = 15 * time.Second
	// DefaultLiveHold is how long a failing production query is tolerated
	// when hold is 0: the relative rate holds its last value, a query
	// guardrail its last judgement.
	DefaultLiveHold = time.Minute
)

// Scenario is one synthetic-traffic plan: where to send it, how fast, for
// how long, what journeys to run, and when to give up. Its fields mirror
// the YAML file; zero values take the defaults documented on each field.
type Scenario struct {
	// Name identifies the scenario in reports. Required.
	Name string `yaml:"name"`
	// Target is the base URL every step path is appended to, such as
	// http://127.0.0.1:8080. Required.
	Target string `yaml:"target"`
	// TLS secures requests to an https target: the CA that signs its
	// certificate (a private CA), a client certificate for mTLS, the name
	// to verify, or no verification at all. The zero value verifies
	// against the system's roots. Only for an https target.
	TLS wire.ClientTLS `yaml:"tls"`
	// Protocol is the HTTP version spoken to the target: "auto" (the zero
	// value: h2 when an https target offers it, HTTP/1.1 otherwise),
	// "http1", "h2" (https only) or "h2c" (http only, prior knowledge).
	Protocol wire.Protocol `yaml:"protocol"`
	// Rate is how many journeys start per second. Exactly one of Rate and
	// Stages must be set.
	Rate *Rate `yaml:"rate"`
	// Stages is a sequence of constant rates, each held for its duration.
	Stages []Stage `yaml:"stages"`
	// Duration is how long journeys are started for, not counting paused
	// time. Required with Rate; with Stages it defaults to their total,
	// and a longer Duration holds the last stage's rate.
	Duration time.Duration `yaml:"duration"`
	// MaxInFlight caps how many journeys run at once; starts beyond it are
	// dropped and counted. Zero means DefaultMaxInFlight.
	MaxInFlight int `yaml:"max_in_flight"`
	// Ceiling is the hard cap on the rate: the scenario's rates must stay
	// under it and nothing (overrides, SetRate) can push the rate above it.
	// Zero means the highest rate the scenario itself plans.
	Ceiling float64 `yaml:"ceiling"`
	// Timeout bounds each request. Zero means DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// Seed makes the fake data reproducible. Zero picks a random seed.
	Seed uint64 `yaml:"seed"`
	// Prometheus is the base URL of the Prometheus server (or one that
	// speaks its HTTP API) that relative rates and query guardrails ask,
	// such as http://prometheus:9090, unless they name their own.
	Prometheus string `yaml:"prometheus"`
	// Guardrails abort the run when the target is in trouble. The zero
	// value checks nothing.
	Guardrails Guardrails `yaml:"guardrails"`
	// Data are the feeders journeys draw rows from, by name:
	// {{ .Data.users.email }} is the email column of this journey's row of
	// the feeder users.
	Data map[string]DataSource `yaml:"data"`
	// Notify posts the run's summary to webhooks when it ends.
	Notify []notify.Target `yaml:"notify"`
	// Thresholds decide whether a finished run passed.
	Thresholds Thresholds `yaml:"thresholds"`
	// GRPC says where the descriptors of gRPC steps' methods come from:
	// descriptor sets, .proto files (relative to the scenario file) or
	// the target's server reflection. Required with gRPC steps.
	GRPC protoschema.Config `yaml:"grpc"`
	// Journeys are the user paths to run, chosen by weight. At least one.
	Journeys []Journey `yaml:"journeys"`

	file    string               // file name for error messages
	lines   map[string]int       // field path -> line in file
	tables  map[string]*table    // the feeders' files, read by Parse
	schemas *protoschema.Schemas // the descriptor sets and .proto files, read by Parse
}

// Rate kinds accepted in Rate.Type.
const (
	// RateConstant starts Rate.Rate journeys every second.
	RateConstant = "constant"
	// RateRamp moves linearly from Rate.From to Rate.To over Rate.Over,
	// then holds Rate.To.
	RateRamp = "ramp"
	// RateRelative follows production: Rate.Query's value times
	// Rate.Factor (or, with stages, each stage's factor), re-evaluated
	// every Rate.Interval, never above Rate.Max.
	RateRelative = "relative"
)

// What a relative rate does when its query has failed for Rate.Hold.
const (
	// OnLostAbort aborts the run (exit 2), like a guardrail.
	OnLostAbort = "abort"
	// OnLostStop stops it gracefully, as Stop does.
	OnLostStop = "stop"
)

// Rate is a journey start rate: constant, a linear ramp, or relative to a
// live production metric.
type Rate struct {
	// Type is RateConstant, RateRamp or RateRelative. Empty means
	// RateConstant.
	Type string `yaml:"type"`
	// Rate is the constant rate in journeys per second.
	Rate float64 `yaml:"rate"`
	// From and To are the ramp's first and last rate; Over is how long the
	// ramp takes. Over is required for a ramp.
	From float64       `yaml:"from"`
	To   float64       `yaml:"to"`
	Over time.Duration `yaml:"over"`

	// Query is the PromQL expression a relative rate follows, one number
	// (wrap it in sum() when it has labels), such as
	// sum(rate(http_requests_total{service="orders"}[5m])).
	Query string `yaml:"query"`
	// Factor multiplies the query's value. Zero means 1; with stages,
	// each stage has its own.
	Factor float64 `yaml:"factor"`
	// Max is the highest rate the relative rate may reach. Required.
	Max float64 `yaml:"max"`
	// Prometheus is the server to ask; empty means Scenario.Prometheus.
	Prometheus string `yaml:"prometheus"`
	// Interval is how often the query is evaluated. Zero means
	// DefaultLiveInterval.
	Interval time.Duration `yaml:"interval"`
	// Hold is how long a failed or empty query holds the last rate before
	// OnLost applies. Zero means DefaultLiveHold.
	Hold time.Duration `yaml:"hold"`
	// OnLost is OnLostAbort or OnLostStop. Empty means OnLostAbort.
	OnLost string `yaml:"on_lost"`
}

// Stage is one step of a staged rate: Rate journeys per second (or, with
// a relative rate, Factor times the query's value) held for Duration. A
// rate or factor of zero pauses starts for the stage.
type Stage struct {
	// Duration is how long the stage lasts. Required.
	Duration time.Duration `yaml:"duration"`
	// Rate is the stage's journeys per second.
	Rate float64 `yaml:"rate"`
	// Factor multiplies a relative rate's query in this stage; only with
	// rate: {type: relative}.
	Factor float64 `yaml:"factor"`
}

// Guardrails describe trouble: when the error rate or p99 latency over the
// last Window stays above its limit for a whole Window, with at least
// MinSamples requests in it, the run aborts. A request counts as an error
// when it got no answer, a 5xx, or failed one of its assertions.
type Guardrails struct {
	// MaxErrorRate is the highest tolerated error ratio (0.05 = 5%).
	// Zero disables the check.
	MaxErrorRate float64 `yaml:"max_error_rate"`
	// MaxP99 is the highest tolerated p99 request latency. Zero disables
	// the check.
	MaxP99 time.Duration `yaml:"max_p99"`
	// Window is the sliding window the figures cover, and how long a
	// breach must last to abort. Zero means DefaultGuardrailWindow.
	Window time.Duration `yaml:"window"`
	// MinSamples is how many requests the window must hold before it is
	// judged. Zero means DefaultMinSamples.
	MinSamples int `yaml:"min_samples"`
	// Queries watch production itself: each aborts the run when its query
	// stays above (or below) its limit. In YAML they may also be written
	// as a list under guardrails (see QueryGuardrail).
	Queries []QueryGuardrail `yaml:"queries"`
}

// QueryGuardrail aborts the run when a production metric crosses a limit:
// when Query's value is above Above (or below Below) at every evaluation
// for For. A query that fails for Hold aborts the run too: a guardrail that
// cannot see is not guarding. In a scenario file, guardrails may be a list
// of these (with at most one item of the window limits, max_error_rate
// and the rest) or a mapping with queries:.
type QueryGuardrail struct {
	// Name identifies the guardrail in the abort reason. Required, unique.
	Name string `yaml:"name"`
	// Query is the PromQL expression, one number.
	Query string `yaml:"query"`
	// Above and Below are the limits; at least one.
	Above *float64 `yaml:"above"`
	Below *float64 `yaml:"below"`
	// For is how long the limit must be crossed before the run aborts.
	// Zero aborts at the first evaluation that sees it crossed.
	For time.Duration `yaml:"for"`
	// Prometheus is the server to ask; empty means Scenario.Prometheus.
	Prometheus string `yaml:"prometheus"`
	// Interval is how often the query is evaluated. Zero means
	// DefaultLiveInterval.
	Interval time.Duration `yaml:"interval"`
	// Hold is how long a failing query is tolerated before the run
	// aborts. Zero means DefaultLiveHold.
	Hold time.Duration `yaml:"hold"`

	field string // where it was written: guardrails[2] or guardrails.queries[0]
}

// Data feeder modes; see DataSource.Mode.
const (
	// DataSequential hands rows out in file order, wrapping at the end.
	DataSequential = "sequential"
	// DataRandom hands out a random row to each journey.
	DataRandom = "random"
	// DataUnique never hands one row to two journeys at once; see
	// DataSource.OnExhausted.
	DataUnique = "unique"
)

// What a unique feeder does when every row has been used once.
const (
	// ExhaustedStop ends the run: no journey starts without a row.
	ExhaustedStop = "stop"
	// ExhaustedWrap starts over from the first row that no journey holds.
	ExhaustedWrap = "wrap"
)

// DataSource is a feeder: a table of rows each journey takes one of.
type DataSource struct {
	// File is a CSV file with a header row, or a JSON array of objects
	// (.json), relative to the scenario file. Required.
	File string `yaml:"file"`
	// Mode is DataSequential, DataRandom or DataUnique. Empty means
	// DataSequential.
	Mode string `yaml:"mode"`
	// OnExhausted is ExhaustedStop or ExhaustedWrap, for DataUnique.
	// Empty means ExhaustedStop.
	OnExhausted string `yaml:"on_exhausted"`
}

// Think is a pause between two steps of a journey, as a person would
// take: Min, or a uniformly random time between Min and Max. In YAML it
// is a duration (think: 500ms) or a mapping (think: {min: 1s, max: 3s}).
// It is not counted in any step's latency.
type Think struct {
	Min time.Duration `yaml:"min"`
	Max time.Duration `yaml:"max"`
}

// Thresholds decide whether a run that was not aborted passed.
type Thresholds struct {
	// MinSuccessRate is the lowest ratio of journeys that must succeed.
	// Nil means 1: every journey must succeed.
	MinSuccessRate *float64 `yaml:"min_success_rate"`
}

// Journey is one user path: steps run in order, each fed by the captures
// of the steps before it, then cleanup steps that undo what it created.
type Journey struct {
	// Name identifies the journey in reports. Required, unique.
	Name string `yaml:"name"`
	// Weight is the journey's share of starts relative to the others.
	// Zero means 1.
	Weight int `yaml:"weight"`
	// Think is the pause after each step before the next one; a step's
	// own think replaces it. The zero value does not pause.
	Think Think `yaml:"think"`
	// Steps are the requests, in order. A failing step ends the journey.
	Steps []Step `yaml:"steps"`
	// Cleanup steps run after the steps, even when a step failed; one
	// whose variables were never captured is skipped and counted.
	Cleanup []Step `yaml:"cleanup"`
}

// Step is one templated request and what its answer must look like.
// Path, Body and header values are text/template templates (see
// TemplateData for the data and funcs they get). A step with GRPC makes a
// gRPC call instead (see GRPCCall): it has no Method, Path or Body, and
// its Headers are sent as metadata.
type Step struct {
	// Name identifies the step in reports. Required, unique in its journey.
	Name string `yaml:"name"`
	// Method is the HTTP method. Empty means GET.
	Method string `yaml:"method"`
	// Path is appended to the scenario's Target; it may hold a query.
	Path string `yaml:"path"`
	// Headers are added to the request; the synthetic tags are set after
	// them and win.
	Headers map[string]string `yaml:"headers"`
	// Body is the request body; empty sends none.
	Body string `yaml:"body"`
	// GRPC makes the step a unary gRPC call to the target.
	GRPC *GRPCCall `yaml:"grpc"`
	// Capture stores values from the JSON answer for later steps, as
	// name: gjson path. A path that matches nothing fails the step.
	Capture Captures `yaml:"capture"`
	// Assert is what the answer must satisfy.
	Assert Assert `yaml:"assert"`
	// Think, when set, replaces the journey's think after this step.
	Think *Think `yaml:"think"`
}

// Captures is an ordered list of values to capture from a JSON answer.
type Captures []Capture

// Capture names one value taken from a JSON answer.
type Capture struct {
	// Name is the variable, used as {{ .Vars.Name }} in later steps.
	Name string
	// Path is a gjson path into the answer body, such as "id" or
	// "items.0.sku".
	Path string
}

// Assert is what a step's answer must satisfy. The zero value accepts
// any 2xx or 3xx answer (a gRPC step's: OK).
type Assert struct {
	// Status lists the accepted status codes. Empty accepts 200-399, and
	// OK for a gRPC step, whose codes are gRPC's (OK, NOT_FOUND or 5).
	Status Statuses `yaml:"status"`
	// JSON maps gjson paths to the values they must equal.
	JSON JSONAssertions `yaml:"json"`
	// MaxLatency fails answers slower than this. Zero disables the check.
	MaxLatency time.Duration `yaml:"max_latency"`
}

// JSONAssertions is an ordered list of JSON equality checks.
type JSONAssertions []JSONAssertion

// JSONAssertion says the value at Path must equal Want.
type JSONAssertion struct {
	// Path is a gjson path into the answer body.
	Path string
	// Want is the expected value as decoded from YAML: a string, number,
	// bool, nil, list or map; it is compared as JSON. A string holding
	// {{ }} is a template (such as "{{ .Vars.order_id }}"), rendered per
	// journey and compared with the answer's value as text.
	Want any
}

// File returns the name the scenario was loaded from, or "".
func (s *Scenario) File() string { return s.file }

// WithDefaults returns a copy of s with every zero setting that stands
// for a default replaced by it, as a run without overrides applies them:
// the duration (the stages' total), in-flight cap, ceiling (the highest
// rate planned), request timeout, success rate threshold and guardrail
// window and samples. It shares s's journeys, feeders and webhooks.
func (s *Scenario) WithDefaults() Scenario {
	c := *s
	c.Duration, c.MaxInFlight, c.Ceiling, c.Timeout = s.duration(), s.maxInFlight(), s.ceiling(), s.timeout()
	rate := s.minSuccessRate()
	c.Thresholds.MinSuccessRate = &rate
	c.Guardrails.Window, c.Guardrails.MinSamples = s.Guardrails.window(), s.Guardrails.minSamples()
	return c
}

// peakRate returns the highest rate the scenario plans: for a relative
// rate, its max.
func (s *Scenario) peakRate() float64 {
	peak := 0.0
	if s.Rate != nil {
		peak = max(s.Rate.Rate, s.Rate.From, s.Rate.To, s.Rate.Max)
	}
	for _, st := range s.Stages {
		peak = max(peak, st.Rate)
	}
	return peak
}

// relative reports whether the scenario's rate follows a query.
func (s *Scenario) relative() bool { return s.Rate != nil && s.Rate.Type == RateRelative }

// ceiling returns the effective ceiling.
func (s *Scenario) ceiling() float64 {
	if s.Ceiling > 0 {
		return s.Ceiling
	}
	return s.peakRate()
}

// duration returns the effective duration.
func (s *Scenario) duration() time.Duration {
	if s.Duration > 0 {
		return s.Duration
	}
	var total time.Duration
	for _, st := range s.Stages {
		total += st.Duration
	}
	return total
}

func (s *Scenario) maxInFlight() int {
	if s.MaxInFlight > 0 {
		return s.MaxInFlight
	}
	return DefaultMaxInFlight
}

func (s *Scenario) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

func (s *Scenario) minSuccessRate() float64 {
	if s.Thresholds.MinSuccessRate != nil {
		return *s.Thresholds.MinSuccessRate
	}
	return 1
}

func (g Guardrails) window() time.Duration {
	if g.Window > 0 {
		return g.Window
	}
	return DefaultGuardrailWindow
}

func (g Guardrails) minSamples() int {
	if g.MinSamples > 0 {
		return g.MinSamples
	}
	return DefaultMinSamples
}

func (g Guardrails) enabled() bool { return g.MaxErrorRate > 0 || g.MaxP99 > 0 }

func liveInterval(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return DefaultLiveInterval
}

func liveHold(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return DefaultLiveHold
}

// sample returns a think time drawn with u, a uniform number in [0, 1).
func (th Think) sample(u float64) time.Duration {
	if th.Max <= th.Min {
		return th.Min
	}
	return th.Min + time.Duration(u*float64(th.Max-th.Min))
}

// thinkAfter returns the think after step i of j.
func (j *Journey) thinkAfter(i int) Think {
	if t := j.Steps[i].Think; t != nil {
		return *t
	}
	return j.Think
}

func (j *Journey) weight() int {
	if j.Weight > 0 {
		return j.Weight
	}
	return 1
}

func (st *Step) method() string {
	if st.Method != "" {
		return st.Method
	}
	return "GET"
}
