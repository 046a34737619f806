// Package scenarios runs synthetic transactions: multi-step journeys of
// fake, clearly tagged requests (an order placed, fetched, cancelled), sent
// at a controlled rate to a live service, checked with assertions, watched
// by guardrails that abort the run on trouble, and stoppable at once.
//
// A Scenario is loaded from YAML (Load, Parse), checked (Validate) and run
// by a Runner. Every request the Runner sends carries synthetic tags
// (X-Synthetic, X-Synthetic-Run, X-Synthetic-Journey and W3C baggage) so the
// service can keep synthetic data out of its real data.
package scenarios

import "time"

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
	// Guardrails abort the run when the target is in trouble. The zero
	// value checks nothing.
	Guardrails Guardrails `yaml:"guardrails"`
	// Thresholds decide whether a finished run passed.
	Thresholds Thresholds `yaml:"thresholds"`
	// Journeys are the user paths to run, chosen by weight. At least one.
	Journeys []Journey `yaml:"journeys"`

	file  string         // file name for error messages
	lines map[string]int // field path -> line in file
}

// Rate kinds accepted in Rate.Type.
const (
	// RateConstant starts Rate.Rate journeys every second.
	RateConstant = "constant"
	// RateRamp moves linearly from Rate.From to Rate.To over Rate.Over,
	// then holds Rate.To.
	RateRamp = "ramp"
)

// Rate is a journey start rate: constant, or a linear ramp.
type Rate struct {
	// Type is RateConstant or RateRamp. Empty means RateConstant.
	Type string `yaml:"type"`
	// Rate is the constant rate in journeys per second.
	Rate float64 `yaml:"rate"`
	// From and To are the ramp's first and last rate; Over is how long the
	// ramp takes. Over is required for a ramp.
	From float64       `yaml:"from"`
	To   float64       `yaml:"to"`
	Over time.Duration `yaml:"over"`
}

// Stage is one step of a staged rate: Rate journeys per second held for
// Duration. A rate of zero pauses starts for the stage.
type Stage struct {
	// Duration is how long the stage lasts. Required.
	Duration time.Duration `yaml:"duration"`
	// Rate is the stage's journeys per second.
	Rate float64 `yaml:"rate"`
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
	// Steps are the requests, in order. A failing step ends the journey.
	Steps []Step `yaml:"steps"`
	// Cleanup steps run after the steps, even when a step failed; one
	// whose variables were never captured is skipped and counted.
	Cleanup []Step `yaml:"cleanup"`
}

// Step is one templated request and what its answer must look like.
// Path, Body and header values are text/template templates (see
// TemplateData for the data and funcs they get).
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
	// Capture stores values from the JSON answer for later steps, as
	// name: gjson path. A path that matches nothing fails the step.
	Capture Captures `yaml:"capture"`
	// Assert is what the answer must satisfy.
	Assert Assert `yaml:"assert"`
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
// any 2xx or 3xx answer.
type Assert struct {
	// Status lists the accepted status codes. Empty accepts 200-399.
	Status []int `yaml:"status"`
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

// peakRate returns the highest rate the scenario plans.
func (s *Scenario) peakRate() float64 {
	peak := 0.0
	if s.Rate != nil {
		peak = max(s.Rate.Rate, s.Rate.From, s.Rate.To)
	}
	for _, st := range s.Stages {
		peak = max(peak, st.Rate)
	}
	return peak
}

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
