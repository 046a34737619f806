package scenarios

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// maxLiveQueries bounds the production queries one scenario may evaluate
// (each has its own goroutine and requests to Prometheus).
const maxLiveQueries = 32

// minLiveInterval is the shortest evaluation interval: faster than
// Prometheus scrapes, a query only repeats itself.
const minLiveInterval = 100 * time.Millisecond

// LiveStatus is what a run last read from one production query: its
// relative rate's (Name "rate") or a query guardrail's.
type LiveStatus struct {
	// Name is "rate" or the guardrail's name; Query its PromQL.
	Name  string `json:"name"`
	Query string `json:"query"`
	// Limit says what the value is held against: "x1.5, max 2000/s" for
	// the rate, "above 0.02 for 30s" for a guardrail.
	Limit string `json:"limit"`
	// Value is the last value read; for the rate, Rate is the rate it set.
	Value float64 `json:"value"`
	Rate  float64 `json:"rate,omitempty"`
	// Evaluations counts the queries made, Failures those that failed or
	// returned nothing; LastEval is when the last one ended.
	Evaluations int64     `json:"evaluations"`
	Failures    int64     `json:"failures"`
	LastEval    time.Time `json:"last_eval,omitzero"`
	// Error is the last failure while the query is failing; LostSince is
	// when it began to fail.
	Error     string    `json:"error,omitempty"`
	LostSince time.Time `json:"lost_since,omitzero"`
	// BreachSince is when a guardrail's value crossed its limit, while it
	// stays crossed.
	BreachSince time.Time `json:"breach_since,omitzero"`
}

// liveQuery is one production query a run evaluates.
type liveQuery struct {
	name     string
	query    string
	source   MetricSource
	interval time.Duration
	hold     time.Duration
	guard    *QueryGuardrail // nil for the relative rate
}

// relativeRate is a rate that follows a query: base × factor, by stage.
type relativeRate struct {
	factor float64 // without stages
	stages []Stage // with stages: their durations and factors
	max    float64 // already scaled to this runner's share
	scale  float64 // this runner's share of the rate
	onLost string  // OnLostAbort or OnLostStop
}

// rate returns the rate base makes in force at factor f.
func (rr *relativeRate) rate(base, f, ceiling float64) float64 {
	return min(max(base*f*rr.scale, 0), rr.max, ceiling)
}

// schedule returns the schedule base makes from active time el on: one
// constant rate, or what is left of the stages with each stage's factor.
func (rr *relativeRate) schedule(base float64, el time.Duration, ceiling float64) schedule {
	if len(rr.stages) == 0 {
		return newConstant(rr.rate(base, rr.factor, ceiling))
	}
	var specs []stageSpec
	var at time.Duration
	for i, st := range rr.stages {
		end := at + st.Duration
		if end > el || i == len(rr.stages)-1 {
			specs = append(specs, stageSpec{dur: max(end-max(at, el), 0), s: newConstant(rr.rate(base, st.Factor, ceiling))})
		}
		at = end
	}
	return newStages(specs...)
}

// factorAt returns the factor in force at active time el.
func (rr *relativeRate) factorAt(el time.Duration) float64 {
	if len(rr.stages) == 0 {
		return rr.factor
	}
	var at time.Duration
	for _, st := range rr.stages {
		at += st.Duration
		if el < at {
			return st.Factor
		}
	}
	return rr.stages[len(rr.stages)-1].Factor
}

// evaluate evaluates q every interval, from now until ctx ends, and hands
// each value (or failure) to the run's state.
func (r *Runner) evaluate(ctx context.Context, index int, q *liveQuery) {
	t := time.NewTicker(q.interval)
	defer t.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, min(q.interval, maxLiveQueryTime))
		v, err := q.source.Query(qctx, q.query)
		cancel()
		if ctx.Err() != nil {
			return
		}
		r.tellCtx(ctx, control{kind: ctlLive, index: index, value: v, err: err})
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// applyLive takes one evaluation of live query c.index.
func (r *Runner) applyLive(st *runState, c control, now time.Time) {
	q, ls := r.live[c.index], &st.live[c.index]
	ls.Evaluations++
	ls.LastEval = now
	rr := r.relative
	isRate := q.guard == nil
	if c.err != nil {
		ls.Failures++
		ls.Error = c.err.Error()
		if ls.LostSince.IsZero() {
			ls.LostSince = now
			r.log.Warn("production query failed", "name", q.name, "err", c.err, "hold", q.hold)
		}
		lost := now.Sub(ls.LostSince)
		switch {
		case isRate && !st.haveBase:
			st.halt = true
			st.end(OutcomeAborted, fmt.Sprintf("relative rate: the first evaluation of its query failed: %v", c.err))
		case isRate && lost >= q.hold:
			reason := fmt.Sprintf("relative rate: its query failed for %v (the last rate, %.1f/s, was held that long): %v",
				lost.Round(time.Second), ls.Rate, c.err)
			if rr.onLost == OnLostStop {
				r.log.Warn("synth run stopping", "reason", reason)
				st.end(OutcomeStopped, reason)
			} else {
				r.apply(st, control{kind: ctlAbort, reason: reason}, now)
			}
		case !isRate && lost >= q.hold:
			r.apply(st, control{kind: ctlAbort, reason: fmt.Sprintf("guardrail %s: its query failed for %v: %v",
				q.name, lost.Round(time.Second), c.err)}, now)
		}
		return
	}
	if !ls.LostSince.IsZero() {
		r.log.Info("production query answers again", "name", q.name, "value", c.value)
	}
	ls.Value, ls.Error, ls.LostSince = c.value, "", time.Time{}
	if isRate {
		el := st.elapsed(now)
		ls.Rate = rr.rate(c.value, rr.factorAt(el), r.ceiling)
		st.haveBase = true
		if !st.pinned {
			st.setRate(rr.schedule(c.value, el, r.ceiling), now)
		}
		return
	}
	g := q.guard
	breach := (g.Above != nil && c.value > *g.Above) || (g.Below != nil && c.value < *g.Below)
	if !breach {
		ls.BreachSince = time.Time{}
		return
	}
	if ls.BreachSince.IsZero() {
		ls.BreachSince = now
	}
	if held := now.Sub(ls.BreachSince); held >= g.For {
		lasted := ""
		if g.For > 0 {
			lasted = fmt.Sprintf(" for %v", held.Round(10*time.Millisecond))
		}
		r.apply(st, control{kind: ctlAbort, reason: fmt.Sprintf("guardrail %s: %g is %s%s (query %s)",
			q.name, c.value, guardLimit(g), lasted, g.Query)}, now)
	}
}

// guardLimit says a query guardrail's limit in words: "above 0.02",
// "below 5", "above 9 or below 1".
func guardLimit(g *QueryGuardrail) string {
	var parts []string
	if g.Above != nil {
		parts = append(parts, fmt.Sprintf("above %g", *g.Above))
	}
	if g.Below != nil {
		parts = append(parts, fmt.Sprintf("below %g", *g.Below))
	}
	return strings.Join(parts, " or ")
}

// newLive prepares the production queries of sc: its relative rate
// (unless opts replaced the rate) and its query guardrails, each asking
// its Prometheus server or opts.Metrics.
func newLive(sc *Scenario, opts RunnerOptions, scale, ceiling float64) ([]*liveQuery, *relativeRate, []LiveStatus, error) {
	var live []*liveQuery
	var status []LiveStatus
	sources := map[string]MetricSource{}
	source := func(url string) (MetricSource, error) {
		if opts.Metrics != nil {
			return opts.Metrics, nil
		}
		url = cmpOr(url, sc.Prometheus)
		if s, ok := sources[url]; ok {
			return s, nil
		}
		s, err := newPrometheusSource(url, nil)
		if err != nil {
			return nil, err
		}
		sources[url] = s
		return s, nil
	}
	var rr *relativeRate
	if r := sc.Rate; sc.relative() && opts.Rate <= 0 {
		src, err := source(r.Prometheus)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("rate: %w", err)
		}
		rr = &relativeRate{factor: cmpOrFloat(r.Factor, 1), stages: sc.Stages, max: r.Max * scale, scale: scale,
			onLost: cmpOr(r.OnLost, OnLostAbort)}
		live = append(live, &liveQuery{name: "rate", query: r.Query, source: src, interval: liveInterval(r.Interval), hold: liveHold(r.Hold)})
		limit := fmt.Sprintf("x%g, max %g/s", rr.factor*scale, rr.max)
		if len(rr.stages) > 0 {
			limit = fmt.Sprintf("x each stage's factor, max %g/s", rr.max)
		}
		status = append(status, LiveStatus{Name: "rate", Query: r.Query, Limit: limit})
	}
	for i := range sc.Guardrails.Queries {
		g := &sc.Guardrails.Queries[i]
		src, err := source(g.Prometheus)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("guardrail %s: %w", g.Name, err)
		}
		live = append(live, &liveQuery{name: g.Name, query: g.Query, source: src, interval: liveInterval(g.Interval),
			hold: liveHold(g.Hold), guard: g})
		limit := guardLimit(g)
		if g.For > 0 {
			limit += fmt.Sprintf(" for %v", g.For)
		}
		status = append(status, LiveStatus{Name: g.Name, Query: g.Query, Limit: limit})
	}
	return live, rr, status, nil
}

func cmpOrFloat(a, b float64) float64 {
	if a != 0 {
		return a
	}
	return b
}

// live checks the relative rate's query and the query guardrails.
func (v *validator) live() {
	s := v.s
	n := 0
	if r := s.Rate; s.relative() {
		n++
		v.liveQuery("rate", r.Query, r.Prometheus, r.Interval, r.Hold)
		if len(s.Stages) > 0 && r.Factor != 0 {
			v.add("rate.factor", "with stages, each stage has its factor: drop rate.factor")
		}
		v.factor("rate.factor", r.Factor)
		if r.OnLost != "" && r.OnLost != OnLostAbort && r.OnLost != OnLostStop {
			v.add("rate.on_lost", "want %q or %q, got %q", OnLostAbort, OnLostStop, r.OnLost)
		}
	}
	names := map[string]bool{}
	for i := range s.Guardrails.Queries {
		g := &s.Guardrails.Queries[i]
		f := g.field
		if f == "" {
			f = fmt.Sprintf("guardrails.queries[%d]", i)
		}
		n++
		switch {
		case strings.TrimSpace(g.Name) == "":
			v.add(f+".name", "required: name the guardrail (it names the abort)")
		case names[g.Name]:
			v.add(f+".name", "guardrail %q appears twice", g.Name)
		}
		names[g.Name] = true
		v.liveQuery(f, g.Query, g.Prometheus, g.Interval, g.Hold)
		if g.Above == nil && g.Below == nil {
			v.add(f, "required: above or below, the limit that aborts the run")
		}
		for key, lim := range map[string]*float64{"above": g.Above, "below": g.Below} {
			if lim != nil && (math.IsNaN(*lim) || math.IsInf(*lim, 0)) {
				v.add(f+"."+key, "want a number, got %v", *lim)
			}
		}
		if g.Above != nil && g.Below != nil && *g.Below >= *g.Above {
			v.add(f+".below", "%g is not below above (%g): every value would be a breach", *g.Below, *g.Above)
		}
		v.nonNegative(f+".for", g.For)
	}
	if n > maxLiveQueries {
		v.add("guardrails", "%d production queries, want at most %d", n, maxLiveQueries)
	}
	if s.Prometheus != "" {
		v.prometheusURL("prometheus", s.Prometheus)
	}
}

// liveQuery checks one production query's settings; field is "rate" or
// the guardrail's.
func (v *validator) liveQuery(field, query, server string, interval, hold time.Duration) {
	if strings.TrimSpace(query) == "" {
		v.add(field+".query", "required: the PromQL expression to read, one number like sum(rate(http_requests_total[5m]))")
	}
	switch {
	case server != "":
		v.prometheusURL(field+".prometheus", server)
	case v.s.Prometheus == "":
		v.add(field+".prometheus", "required: the Prometheus server to ask, like http://prometheus:9090 (here or as the scenario's prometheus)")
	}
	if interval != 0 && interval < minLiveInterval {
		v.add(field+".interval", "want at least %v, got %v", minLiveInterval, interval)
	}
	v.nonNegative(field+".hold", hold)
}

func (v *validator) prometheusURL(field, raw string) {
	if !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") {
		v.add(field, "want an http:// or https:// URL, got %q", redactURL(raw))
	}
}

func (v *validator) factor(field string, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		v.add(field, "want a factor of 0 or more, like 1.5, got %v", f)
	}
}
