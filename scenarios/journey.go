package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/internal/traceparent"
)

// maxBodyBytes is how much of an answer is read for captures and
// assertions; the rest is drained and discarded.
const maxBodyBytes = 1 << 20

// Default tag header names; see Tags.
const (
	DefaultSyntheticHeader = "X-Synthetic"
	DefaultRunHeader       = "X-Synthetic-Run"
	DefaultJourneyHeader   = "X-Synthetic-Journey"
	DefaultBaggageHeader   = "Baggage"
)

// Tags names the headers that mark every synthetic request. The zero value
// uses the defaults: X-Synthetic: true, X-Synthetic-Run: <run id>,
// X-Synthetic-Journey: <journey id>, and the W3C baggage header with
// synthetic=true,synthetic-run=<run id> merged into any baggage the step
// sets.
type Tags struct {
	// Synthetic is the header set to "true".
	Synthetic string
	// Run is the header that carries the run id.
	Run string
	// Journey is the header that carries the journey id.
	Journey string
	// Baggage is the W3C baggage header the synthetic members join.
	Baggage string
}

func (t Tags) withDefaults() Tags {
	t.Synthetic = cmpOr(t.Synthetic, DefaultSyntheticHeader)
	t.Run = cmpOr(t.Run, DefaultRunHeader)
	t.Journey = cmpOr(t.Journey, DefaultJourneyHeader)
	t.Baggage = cmpOr(t.Baggage, DefaultBaggageHeader)
	return t
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tagger sets a run's tags on its requests. The values every request of
// the run shares are made once: nothing writes to a request's header
// values once it is built, so requests can share them.
type tagger struct {
	// Canonical header names.
	synthetic, run, journey, baggage string
	runID                            string
	// The shared values; baggageVal is for steps that set no baggage.
	syntheticVal, runVal, baggageVal []string
}

func newTagger(t Tags, runID string) *tagger {
	t = t.withDefaults()
	return &tagger{
		synthetic: http.CanonicalHeaderKey(t.Synthetic), run: http.CanonicalHeaderKey(t.Run),
		journey: http.CanonicalHeaderKey(t.Journey), baggage: http.CanonicalHeaderKey(t.Baggage),
		runID: runID, syntheticVal: []string{"true"}, runVal: []string{runID},
		baggageVal: []string{mergeBaggage(nil, runID)},
	}
}

// apply sets the tags on h, replacing any the step set itself (as
// http.Header.Set would); baggage the step set is merged.
func (tg *tagger) apply(h http.Header, journeyID string) {
	h[tg.synthetic] = tg.syntheticVal
	h[tg.run] = tg.runVal
	h[tg.journey] = []string{journeyID}
	if existing := h[tg.baggage]; len(existing) > 0 {
		h[tg.baggage] = []string{mergeBaggage(existing, tg.runID)}
	} else {
		h[tg.baggage] = tg.baggageVal
	}
}

// mergeBaggage keeps the list members of existing baggage values, minus
// any synthetic ones, and appends the synthetic members.
func mergeBaggage(existing []string, runID string) string {
	var members []string
	for _, v := range existing {
		for m := range strings.SplitSeq(v, ",") {
			m = strings.TrimSpace(m)
			key, _, _ := strings.Cut(m, "=")
			key = strings.TrimSpace(key)
			if m == "" || key == "synthetic" || key == "synthetic-run" {
				continue
			}
			members = append(members, m)
		}
	}
	members = append(members, "synthetic=true", "synthetic-run="+runID)
	return strings.Join(members, ",")
}

// plan is a validated scenario made ready to run: templates compiled,
// steps numbered, weights summed.
type plan struct {
	scenario *Scenario
	tables   map[string]*table // the feeders' files, by feeder
	journeys []*journeyPlan
	steps    []*stepPlan // every step and cleanup, numbered by index
	cum      []int       // cumulative journey weights
}

func (p *plan) finish() {
	total := 0
	for _, j := range p.journeys {
		total += j.weight
		p.cum = append(p.cum, total)
	}
}

// pick chooses a journey by weight.
func (p *plan) pick(rng *rand.Rand) *journeyPlan {
	n := rng.IntN(p.cum[len(p.cum)-1])
	for i, c := range p.cum {
		if n < c {
			return p.journeys[i]
		}
	}
	return p.journeys[len(p.journeys)-1]
}

type journeyPlan struct {
	name    string
	weight  int
	steps   []*stepPlan
	cleanup []*stepPlan
	think   []Think // after each step
}

type stepPlan struct {
	index    int
	journey  string
	name     string
	method   string
	cleanup  bool
	path     *tmpl
	body     *tmpl
	headers  []header
	needs    []string // variables the templates read
	captures Captures
	assert   Assert
	json     []jsonCheck
	grpc     *grpcPlan // a gRPC call instead of an HTTP request
}

// jsonCheck is a JSON assertion whose wanted value may be a template
// (a string holding {{ }}), rendered per journey and compared as a string.
type jsonCheck struct {
	JSONAssertion
	tmpl *tmpl
}

type header struct {
	name  string
	value *tmpl
}

// missing returns the first variable sp needs that vars lacks, or "".
func (sp *stepPlan) missing(vars map[string]string) string {
	for _, n := range sp.needs {
		if _, ok := vars[n]; !ok {
			return n
		}
	}
	return ""
}

// runJourney runs one journey's steps, then its cleanups, with one row of
// every feeder. intended is when the pacer meant it to start. Its
// requests share one W3C trace id; each has a span id of its own.
func (r *Runner) runJourney(ctx context.Context, jp *journeyPlan, id string, intended time.Time, rows held) {
	defer r.inFlight.Add(-1)
	defer giveRows(r.feeders, rows)
	data := &TemplateData{Synthetic: true, RunID: r.runID, JourneyID: id, Vars: map[string]string{},
		Data: rowData(r.feeders, rows)}
	trace := traceparent.New() // the journey's trace; each step is a child span of it
	ok, interrupted := true, false
	for i, sp := range jp.steps {
		if i > 0 && (r.halted() || !r.think(ctx, jp.think[i-1])) {
			interrupted = true
			break
		}
		from := time.Now()
		if i == 0 {
			from = intended
		}
		if !r.step(ctx, sp, data, trace, from) {
			ok = false
			break
		}
	}
	for _, sp := range jp.cleanup {
		if r.killed() {
			r.rec.unsent(sp, id, "killed", "run killed before the cleanup")
			continue
		}
		r.step(ctx, sp, data, trace, time.Now())
	}
	r.rec.journey(func(j *JourneyCounts, _ *CleanupCounts) {
		switch {
		case interrupted:
			j.Interrupted++
		case ok:
			j.Succeeded++
		case r.killed() && ctx.Err() != nil:
			j.Interrupted++
		default:
			j.Failed++
		}
	})
}

// think pauses a journey between two steps, as a person would. It
// reports false when an abort or a kill cut the pause short.
func (r *Runner) think(ctx context.Context, th Think) bool {
	d := th.sample(rand.Float64())
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.halt:
	case <-ctx.Done():
	}
	return false
}

// step sends one step and checks its answer; it reports whether the step
// passed. from is when its latency starts counting.
func (r *Runner) step(ctx context.Context, sp *stepPlan, data *TemplateData, trace traceparent.TraceParent, from time.Time) bool {
	if name := sp.missing(data.Vars); name != "" {
		r.rec.unsent(sp, data.JourneyID, "missing_capture", fmt.Sprintf("variable %q was not captured", name))
		return false
	}
	if sp.grpc != nil {
		return r.grpcStep(ctx, sp, data, trace, from)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	span := trace.Child()
	req, err := r.newRequest(ctx, sp, data, span.String())
	if err != nil {
		r.rec.unsent(sp, data.JourneyID, "template", err.Error())
		return false
	}
	resp, err := r.send(req)
	var body *bytes.Buffer
	status := 0
	if err == nil {
		status = resp.StatusCode
		body, err = readBody(resp)
		defer putBody(body) // checkAnswer keeps nothing of it
	}
	end := time.Now()
	latency := end.Sub(from)
	if err != nil {
		kind := errorKind(err)
		r.rec.sent(sp, data.JourneyID, status, kind, clip(err.Error()), latency, nil)
		r.guard.record(end, latency, true)
		if r.onResult != nil {
			r.report(sp, req, data, span, 0, from, latency, kind, nil)
		}
		return false
	}
	fs := checkAnswer(sp, status, body.Bytes(), latency, data)
	r.rec.sent(sp, data.JourneyID, status, "", "", latency, fs)
	r.guard.record(end, latency, len(fs) > 0)
	if r.onResult != nil {
		r.report(sp, req, data, span, status, from, latency, "", fs)
	}
	return len(fs) == 0
}

// report hands one sent request to RunnerOptions.OnResult.
func (r *Runner) report(sp *stepPlan, req *http.Request, data *TemplateData, span traceparent.TraceParent, status int,
	from time.Time, latency time.Duration, errKind string, fs []failure) {
	res := r.stepResult(sp, data, span, status, from, latency, errKind, fs)
	res.Method, res.URL, res.Tags = req.Method, req.URL.String(), make(map[string]string, 5)
	for _, name := range []string{r.tags.Synthetic, r.tags.Run, r.tags.Journey, r.tags.Baggage, traceparentHeader} {
		if v := req.Header.Values(name); len(v) > 0 {
			res.Tags[name] = strings.Join(v, ", ")
		}
	}
	r.onResult(res)
}

// stepResult is the StepResult of one sent request but for what was
// requested (Method, URL, Tags).
func (r *Runner) stepResult(sp *stepPlan, data *TemplateData, span traceparent.TraceParent, status int,
	from time.Time, latency time.Duration, errKind string, fs []failure) StepResult {
	res := StepResult{
		Scenario: r.plan.scenario.Name, RunID: r.runID, JourneyID: data.JourneyID, Journey: sp.journey, Step: sp.name, Cleanup: sp.cleanup,
		TraceID: span.TraceIDString(), SpanID: span.ParentIDString(),
		Status: status, Start: from, Latency: latency, ErrorKind: errKind,
	}
	if len(fs) > 0 {
		res.Failures = make([]CheckFailure, len(fs))
		for i, f := range fs {
			res.Failures[i] = CheckFailure{Check: f.check, Msg: f.msg}
		}
	}
	return res
}

// newRequest renders a step into a tagged request with the traceparent.
func (r *Runner) newRequest(ctx context.Context, sp *stepPlan, data *TemplateData, traceparent string) (*http.Request, error) {
	path, err := sp.path.string(data)
	if err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	var body io.Reader
	if sp.body.t != nil || sp.body.text != "" {
		b, err := sp.body.string(data)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		body = strings.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, sp.method, r.target+path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for _, h := range sp.headers {
		v, err := h.value.string(data)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", h.name, err)
		}
		if strings.EqualFold(h.name, "Host") {
			req.Host = v
			continue
		}
		req.Header.Add(h.name, v)
	}
	r.tagger.apply(req.Header, data.JourneyID)
	req.Header[traceparentHeader] = []string{traceparent}
	return req, nil
}
