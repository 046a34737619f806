package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// maxRate is the highest rate a scenario may ask for, in journeys per
// second; far above what one process can send, low enough to pace exactly.
const maxRate = 1_000_000

// Problem is one thing wrong with a scenario, located as precisely as the
// source allows.
type Problem struct {
	// File is the scenario's file name; empty for a scenario built in code.
	File string `json:"file,omitempty"`
	// Line is the 1-based line in File; 0 when unknown.
	Line int `json:"line,omitempty"`
	// Field is the path of the field, such as journeys[0].steps[1].path.
	Field string `json:"field,omitempty"`
	// Msg says what is wrong and what was expected.
	Msg string `json:"msg"`
}

// String formats the problem as file:line: field: msg.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteString(":" + strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		b.WriteString("line " + strconv.Itoa(p.Line) + ": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ValidationError lists every problem found in a scenario, in file order.
type ValidationError struct {
	Problems []Problem
}

func newValidationError(probs []Problem) *ValidationError {
	probs = slices.Clone(probs)
	slices.SortStableFunc(probs, func(a, b Problem) int { return a.Line - b.Line })
	return &ValidationError{Problems: probs}
}

// Error returns one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Validate checks the scenario without sending anything: required fields,
// rates against the ceiling, durations, names, methods, templates, and that
// every {{ .Vars.x }} is captured by an earlier step. It returns a
// *ValidationError listing all problems, or nil.
func (s *Scenario) Validate() error {
	if probs := s.check(); len(probs) > 0 {
		return newValidationError(probs)
	}
	return nil
}

// check returns every problem with the scenario, reading its feeders'
// files once for later compiles.
func (s *Scenario) check() []Problem {
	p, probs := s.compile(gofakeit.New(1))
	if p != nil {
		s.tables = p.tables
	}
	return probs
}

// validator accumulates problems, locating fields through the scenario's
// line table.
type validator struct {
	s     *Scenario
	probs []Problem
}

func (v *validator) add(field, format string, args ...any) {
	v.probs = append(v.probs, Problem{File: v.s.file, Line: v.s.line(field), Field: field, Msg: fmt.Sprintf(format, args...)})
}

// line returns the line of field or of its nearest parent that has one.
func (s *Scenario) line(field string) int {
	for f := field; f != ""; f = parentField(f) {
		if l, ok := s.lines[f]; ok {
			return l
		}
	}
	return 0
}

var (
	identRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	methodRE = regexp.MustCompile(`^[A-Z]+$`)
	tokenRE  = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
)

func (v *validator) scenario() {
	s := v.s
	if strings.TrimSpace(s.Name) == "" {
		v.add("name", "required: name the scenario")
	}
	v.target("target", s.Target)
	v.wire(s.Target)
	v.rates()
	if s.Duration < 0 {
		v.add("duration", "must not be negative, got %v", s.Duration)
	} else if s.Duration == 0 && len(s.Stages) == 0 {
		v.add("duration", "required: how long to start journeys for, like 1m")
	}
	if s.MaxInFlight < 0 {
		v.add("max_in_flight", "must not be negative, got %d", s.MaxInFlight)
	}
	if s.Timeout < 0 {
		v.add("timeout", "must not be negative, got %v", s.Timeout)
	}
	g := s.Guardrails
	if badRatio(g.MaxErrorRate) {
		v.add("guardrails.max_error_rate", "want a ratio between 0 and 1, got %v", g.MaxErrorRate)
	}
	v.nonNegative("guardrails.max_p99", g.MaxP99)
	v.nonNegative("guardrails.window", g.Window)
	if g.MinSamples < 0 {
		v.add("guardrails.min_samples", "must not be negative, got %d", g.MinSamples)
	}
	if r := s.Thresholds.MinSuccessRate; r != nil && badRatio(*r) {
		v.add("thresholds.min_success_rate", "want a ratio between 0 and 1, got %v", *r)
	}
	if len(s.Journeys) == 0 {
		v.add("journeys", "required: at least one journey")
	}
	v.live()
	for _, p := range s.GRPC.Check() {
		v.add("grpc."+p.Key, "%s", p.Msg)
	}
	for i, t := range s.Notify {
		for _, p := range t.Check() {
			v.add(fmt.Sprintf("notify[%d].%s", i, p.Key), "%s", p.Msg)
		}
	}
}

func badRatio(r float64) bool { return math.IsNaN(r) || r < 0 || r > 1 }

func (v *validator) nonNegative(field string, d time.Duration) {
	if d < 0 {
		v.add(field, "must not be negative, got %v", d)
	}
}

func (v *validator) target(field, target string) {
	if target == "" {
		v.add(field, "required: the base URL to send to, like http://127.0.0.1:8080")
		return
	}
	u, err := url.Parse(target)
	switch {
	case !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://"):
		v.add(field, "want an http:// or https:// URL, got %q", target)
	case err != nil:
		v.add(field, "bad URL %q: %v", target, err)
	case u.Host == "":
		v.add(field, "want a URL with a host, got %q", target)
	case u.RawQuery != "" || u.Fragment != "":
		v.add(field, "want a base URL without query or fragment, got %q", target)
	}
}

// wire checks the tls block and the protocol against the target's scheme.
func (v *validator) wire(target string) {
	s := v.s
	scheme, _, _ := strings.Cut(target, "://")
	if err := s.TLS.Validate(); err != nil {
		v.add("tls", "%v", err)
	}
	if !s.TLS.IsZero() && scheme != "https" {
		v.add("tls", "set, but the target %q is not an https:// URL", target)
	}
	if err := s.Protocol.Validate(scheme); err != nil {
		v.add("protocol", "%v", err)
	}
}

// rates checks the rate or stages, and each rate against the ceiling.
func (v *validator) rates() {
	s := v.s
	ceiling := s.Ceiling
	switch {
	case math.IsNaN(ceiling) || math.IsInf(ceiling, 0) || ceiling < 0:
		v.add("ceiling", "want a positive rate in journeys per second, got %v", ceiling)
		ceiling = 0
	case ceiling > maxRate:
		v.add("ceiling", "%v is above the supported maximum %d/s", ceiling, maxRate)
	}
	if ceiling == 0 {
		ceiling = math.Inf(1)
	}
	rate := func(field string, r float64, zeroOK bool) {
		switch {
		case math.IsNaN(r) || math.IsInf(r, 0) || r < 0:
			v.add(field, "want a rate in journeys per second, got %v", r)
		case r == 0 && !zeroOK:
			v.add(field, "must be above 0")
		case r > ceiling:
			v.add(field, "%v/s is above the ceiling %v/s", r, s.Ceiling)
		case r > maxRate:
			v.add(field, "%v/s is above the supported maximum %d/s", r, maxRate)
		}
	}
	switch {
	case s.Rate == nil && len(s.Stages) == 0:
		v.add("rate", "required: set rate (constant, ramp or relative) or stages")
	case s.Rate != nil && len(s.Stages) > 0 && !s.relative():
		v.add("stages", "set rate or stages, not both (stages go with a relative rate, each with a factor)")
	}
	if r := s.Rate; r != nil {
		switch r.Type {
		case "", RateConstant:
			rate("rate.rate", r.Rate, false)
			if r.From != 0 || r.To != 0 || r.Over != 0 {
				v.add("rate", "from, to and over belong to a ramp: set type: ramp")
			}
		case RateRamp:
			rate("rate.from", r.From, true)
			rate("rate.to", r.To, true)
			if r.From == 0 && r.To == 0 {
				v.add("rate.to", "a ramp from 0 to 0 starts nothing")
			}
			if r.Over <= 0 {
				v.add("rate.over", "required for a ramp: how long it takes, like 2m")
			}
			if r.Rate != 0 {
				v.add("rate.rate", "a ramp has from and to, not rate")
			}
		case RateRelative:
			rate("rate.max", r.Max, false)
			if r.Rate != 0 || r.From != 0 || r.To != 0 || r.Over != 0 {
				v.add("rate", "a relative rate has query, factor and max, not rate, from, to or over")
			}
		default:
			v.add("rate.type", "want %q, %q or %q, got %q", RateConstant, RateRamp, RateRelative, r.Type)
		}
		if r.Type != RateRelative && (r.Query != "" || r.Factor != 0 || r.Max != 0 || r.Prometheus != "" ||
			r.Interval != 0 || r.Hold != 0 || r.OnLost != "") {
			v.add("rate", "query, factor, max, prometheus, interval, hold and on_lost belong to a relative rate: set type: relative")
		}
	}
	anyRate := false
	for i, st := range s.Stages {
		f := fmt.Sprintf("stages[%d]", i)
		if s.relative() {
			v.factor(f+".factor", st.Factor)
			if st.Rate != 0 {
				v.add(f+".rate", "a stage of a relative rate has a factor, not a rate")
			}
			anyRate = anyRate || st.Factor > 0
		} else {
			rate(f+".rate", st.Rate, true)
			if st.Factor != 0 {
				v.add(f+".factor", "factor belongs to stages of a relative rate: set rate: {type: relative, ...}")
			}
			anyRate = anyRate || st.Rate > 0
		}
		if st.Duration <= 0 {
			v.add(f+".duration", "must be above 0, like 30s")
		}
	}
	if len(s.Stages) > 0 && !anyRate {
		if s.relative() {
			v.add("stages", "every stage has factor 0: nothing would start")
		} else {
			v.add("stages", "every stage has rate 0: nothing would start")
		}
	}
}

// compile validates the scenario and builds what the runner needs, with
// templates parsed once and drawing fake data from f.
func (s *Scenario) compile(f *gofakeit.Faker) (*plan, []Problem) {
	v := &validator{s: s}
	v.scenario()
	p := &plan{scenario: s, tables: v.data()}
	funcs := templateFuncs(f)
	names := map[string]bool{}
	for ji := range s.Journeys {
		j := &s.Journeys[ji]
		field := fmt.Sprintf("journeys[%d]", ji)
		if j.Name == "" {
			v.add(field+".name", "required: name the journey")
		} else if names[j.Name] {
			v.add(field+".name", "journey %q appears twice", j.Name)
		}
		names[j.Name] = true
		if j.Weight < 0 {
			v.add(field+".weight", "must not be negative, got %d", j.Weight)
		}
		v.think(field+".think", j.Think)
		if len(j.Steps) == 0 {
			v.add(field+".steps", "required: at least one step")
		}
		jp := &journeyPlan{name: j.Name, weight: j.weight()}
		for i := range j.Steps {
			jp.think = append(jp.think, j.thinkAfter(i))
		}
		captured := map[string]bool{}
		stepNames := map[string]bool{}
		for si := range j.Steps {
			sf := fmt.Sprintf("%s.steps[%d]", field, si)
			jp.steps = append(jp.steps, v.step(p, jp, &j.Steps[si], sf, false, captured, stepNames, funcs))
		}
		for si := range j.Cleanup {
			sf := fmt.Sprintf("%s.cleanup[%d]", field, si)
			jp.cleanup = append(jp.cleanup, v.step(p, jp, &j.Cleanup[si], sf, true, captured, stepNames, funcs))
		}
		p.journeys = append(p.journeys, jp)
	}
	if len(v.probs) > 0 {
		return nil, v.probs
	}
	p.finish()
	return p, nil
}

// step checks one step and compiles its templates. captured holds the
// variables captured by the steps before it; the step adds its own.
func (v *validator) step(p *plan, jp *journeyPlan, st *Step, field string, cleanup bool,
	captured, names map[string]bool, funcs map[string]any) *stepPlan {
	sp := &stepPlan{index: len(p.steps), journey: jp.name, name: st.Name, method: st.method(),
		cleanup: cleanup, captures: st.Capture, assert: st.Assert}
	p.steps = append(p.steps, sp)
	if st.Name == "" {
		v.add(field+".name", "required: name the step")
	} else if names[st.Name] {
		v.add(field+".name", "step %q appears twice in the journey", st.Name)
	}
	names[st.Name] = true
	if !methodRE.MatchString(sp.method) {
		v.add(field+".method", "want an upper-case HTTP method like GET or POST, got %q", st.Method)
	}
	if !strings.HasPrefix(st.Path, "/") && st.GRPC == nil {
		v.add(field+".path", "want a path starting with /, got %q", st.Path)
	}
	sample := &TemplateData{Synthetic: true, RunID: "validate", JourneyID: "validate-1", Vars: map[string]string{},
		Data: firstRows(p.tables)}
	for name := range captured {
		sample.Vars[name] = "1"
	}
	compile := func(f, text string, limit int) *tmpl {
		t, err := compileTemplate(f, text, funcs, limit)
		if err != nil {
			v.add(f, "%v", err)
			return nil
		}
		ok := true
		if err := checkData(t.data, p.tables, v.s.Data); err != nil {
			v.add(f, "%v", err)
			ok = false
		}
		for _, ref := range t.data {
			ok = ok && p.tables[ref.feeder] != nil // no sample to render with
		}
		for _, name := range t.vars {
			if captured[name] {
				continue
			}
			ok = false
			if cleanup {
				v.add(f, "variable %q is not captured by any step of the journey", name)
			} else {
				v.add(f, "variable %q is not captured by an earlier step", name)
			}
		}
		if ok {
			if _, err := t.string(sample); err != nil {
				v.add(f, "%v", err)
			}
		}
		sp.needs = appendNew(sp.needs, t.vars...)
		return t
	}
	sp.path = compile(field+".path", st.Path, maxRenderLine)
	sp.body = compile(field+".body", st.Body, maxRenderBody)
	for _, name := range sortedKeys(st.Headers) {
		hf := field + ".headers." + name
		if !tokenRE.MatchString(name) {
			v.add(hf, "bad header name %q", name)
		}
		sp.headers = append(sp.headers, header{name: name, value: compile(hf, st.Headers[name], maxRenderLine)})
	}
	for _, c := range st.Capture {
		cf := field + ".capture." + c.Name
		if !identRE.MatchString(c.Name) {
			v.add(cf, "want a variable name made of letters, digits and _, got %q", c.Name)
		}
		if c.Path == "" {
			v.add(cf, "required: a JSON path into the answer, like id or items.0.sku")
		}
	}
	if st.GRPC != nil {
		v.grpcStep(st, sp, field, v.loadSchemas(), compile, sample)
	}
	for i, code := range st.Assert.Status {
		if (code < 100 || code > 599) && st.GRPC == nil {
			v.add(fmt.Sprintf("%s.assert.status[%d]", field, i), "want an HTTP status between 100 and 599 (gRPC statuses go with grpc steps), got %d", code)
		}
	}
	for _, ja := range st.Assert.JSON {
		jf := field + ".assert.json." + ja.Path
		if ja.Path == "" {
			v.add(jf, "want a JSON path, got an empty key")
		}
		jc := jsonCheck{JSONAssertion: ja}
		if text, ok := ja.Want.(string); ok && strings.Contains(text, "{{") {
			jc.tmpl = compile(jf, text, maxRenderLine)
		} else if _, err := json.Marshal(ja.Want); err != nil {
			v.add(jf, "want a value that can be compared as JSON: %v", err)
		}
		sp.json = append(sp.json, jc)
	}
	v.nonNegative(field+".assert.max_latency", st.Assert.MaxLatency)
	if st.Think != nil {
		v.think(field+".think", *st.Think)
		if cleanup {
			v.add(field+".think", "cleanups do not think: they run one after the other")
		}
	}
	for _, c := range st.Capture {
		captured[c.Name] = true
	}
	return sp
}

// maxThink bounds a think time: a journey is a short user path.
const maxThink = 10 * time.Minute

func (v *validator) think(field string, th Think) {
	switch {
	case th.Min < 0 || th.Max < 0:
		v.add(field, "must not be negative, got {min: %v, max: %v}", th.Min, th.Max)
	case th.Max != 0 && th.Max < th.Min:
		v.add(field+".max", "%v is below min %v", th.Max, th.Min)
	case max(th.Min, th.Max) > maxThink:
		v.add(field, "%v is above the longest think, %v", max(th.Min, th.Max), maxThink)
	}
}

func appendNew(list []string, names ...string) []string {
	for _, n := range names {
		if !slices.Contains(list, n) {
			list = append(list, n)
		}
	}
	return list
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
