package compare

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"

	"github.com/understudy-dev/understudy/exchange"
)

// MaxCandidates bounds how many candidates one engine keeps aggregates
// for: the answers of further names (only a foreign capture file can
// hold them) are not judged, and counted in Report reasons.
const MaxCandidates = 16

// CandidateReport is one candidate's part of a Report that judges several
// (exchange.Response.Name): its verdict, judged by the same rules as a
// report of one candidate, and its own totals and endpoints.
type CandidateReport struct {
	// Name is the candidate's name.
	Name string `json:"name"`
	// Verdict is the candidate's own verdict.
	Verdict string `json:"verdict"`
	// Headline says it in one line (Report.Headline).
	Headline string `json:"headline,omitempty"`
	// Reasons explain it, failures first.
	Reasons []string `json:"reasons"`
	// FailedOn names what a failing verdict failed on (Report.FailedOn).
	FailedOn []string `json:"failed_on,omitempty"`
	// Totals sum the candidate's endpoints.
	Totals Totals `json:"totals"`
	// Endpoints are the candidate's endpoints, sorted like
	// Report.Endpoints.
	Endpoints []EndpointReport `json:"endpoints"`
}

// otherCandidates is what an Engine keeps to judge several candidates:
// its own candidate's name, and one engine per other candidate, sharing
// its compiled rules and its route templater (so every candidate's
// endpoints are the same), each with aggregates of its own.
type otherCandidates struct {
	mu      sync.RWMutex
	name    string    // the engine's own candidate's; "" until one is seen
	subs    []*Engine // in the order their names were first seen
	refused int64     // answers of names past MaxCandidates, not judged
}

// recordCandidates is Record for an exchange with named candidates: the
// first is judged by e, each other by its own engine, all against the
// same primary and secondary answers, so the noise of one exchange applies
// to every candidate.
func (e *Engine) recordCandidates(x *exchange.Exchange, ep Endpoint) Result {
	var memo noiseMemo // the secondary is compared with the primary once
	return e.eachCandidate(x, ep, func(en *Engine, xc *exchange.Exchange) Result { return en.record(xc, ep, &memo) })
}

// compareCandidates is Compare for an exchange with named candidates.
func (e *Engine) compareCandidates(x *exchange.Exchange, ep Endpoint) Result {
	var memo noiseMemo
	return e.eachCandidate(x, ep, func(en *Engine, xc *exchange.Exchange) Result { return en.compare(xc, ep, &memo) })
}

// eachCandidate calls judge with the engine of each candidate of x and a
// view of x with that candidate as its Candidate, and returns the first
// candidate's result with the others' in Others. A candidate that was
// not sent the request is not judged (Outcome NotSent).
func (e *Engine) eachCandidate(x *exchange.Exchange, ep Endpoint, judge func(*Engine, *exchange.Exchange) Result) Result {
	e.others.noteName(x.Candidate.Name)
	one := func(en *Engine, xc *exchange.Exchange) Result {
		var r Result
		if en == nil || xc.Candidate.NotSent != "" {
			r = Result{Endpoint: ep, Outcome: NotSent}
		} else {
			r = judge(en, xc)
		}
		r.Candidate = xc.Candidate.Name
		return r
	}
	res := one(e, x)
	for i := range x.OtherCandidates {
		xc := *x // shallow: the view shares every answer, read-only
		xc.Candidate, xc.OtherCandidates = x.OtherCandidates[i], nil
		// Outbound calls name their side, not which candidate made them:
		// they are judged for the first candidate only.
		xc.Outbound = nil
		res.Others = append(res.Others, one(e.other(xc.Candidate.Name), &xc))
	}
	return res
}

// noteName records the engine's own candidate's name, the first time one
// is seen.
func (o *otherCandidates) noteName(name string) {
	o.mu.RLock()
	known := o.name != "" || name == ""
	o.mu.RUnlock()
	if known {
		return
	}
	o.mu.Lock()
	if o.name == "" {
		o.name = name
	}
	o.mu.Unlock()
}

// other returns the engine of the candidate named name, creating it; nil
// when MaxCandidates have engines already.
func (e *Engine) other(name string) *Engine {
	o := &e.others
	o.mu.RLock()
	i := slices.IndexFunc(o.subs, func(s *Engine) bool { return s.others.name == name })
	var en *Engine
	if i >= 0 {
		en = o.subs[i]
	}
	o.mu.RUnlock()
	if en != nil {
		return en
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if i := slices.IndexFunc(o.subs, func(s *Engine) bool { return s.others.name == name }); i >= 0 {
		return o.subs[i]
	}
	if len(o.subs)+1 >= MaxCandidates {
		o.refused++
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	en = &Engine{
		cfg: e.cfg, headers: e.headers, norms: e.norms, filtered: e.filtered, comparators: e.comparators,
		tmpl: e.tmpl, noise: e.noise, seed: e.seed ^ h.Sum64(), endpoints: map[Endpoint]*endpointAgg{},
	}
	en.others.name = name
	o.subs = append(o.subs, en)
	return en
}

// Report returns a consistent copy of the aggregates with a verdict.
// Each endpoint is copied under its lock, so every exchange is counted
// either completely or not at all. Its size is bounded by MaxEndpoints,
// MaxFields, Exemplars, ExemplarBytes and MaxCandidates.
//
// With several candidates, each is judged on its own (Candidates); the
// report fails when any candidate fails, and its Reasons say which, each
// candidate's reasons following under its name. Totals and Endpoints
// are then the first candidate's, so a reader that knows one candidate
// still reads a valid report.
func (e *Engine) Report() *Report {
	r := e.ownReport()
	o := &e.others
	o.mu.RLock()
	name, subs, refused := o.name, slices.Clone(o.subs), o.refused
	o.mu.RUnlock()
	if name == "" && len(subs) == 0 {
		return r
	}
	cs := []CandidateReport{candidateReport(cmp.Or(name, defaultCandidate), r)}
	for _, s := range subs {
		cs = append(cs, candidateReport(s.others.name, s.ownReport()))
	}
	mergeCandidates(r, cs)
	if refused > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d answers of candidates past the first %d were not judged", refused, MaxCandidates))
	}
	return r
}

// candidateReport is the part of r, a report of one candidate, that a
// report of several holds for it.
func candidateReport(name string, r *Report) CandidateReport {
	return CandidateReport{Name: name, Verdict: r.Verdict, Headline: r.Headline, Reasons: slices.Clone(r.Reasons),
		FailedOn: slices.Clone(r.FailedOn), Totals: r.Totals, Endpoints: slices.Clone(r.Endpoints)}
}

// mergeCandidates makes r, the first candidate's report, the report of
// all of cs: the worst verdict (fail, then any verdict but pass, then
// pass), a first reason naming the candidates that fail, then each
// candidate's reasons under its name, failing candidates first.
func mergeCandidates(r *Report, cs []CandidateReport) {
	r.Candidates = cs
	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return candidateRank(cs[a].Verdict) - candidateRank(cs[b].Verdict) })
	r.Verdict = cs[order[0]].Verdict
	// "candidates v3 and v4 fail; v2 passes": the candidates grouped by
	// verdict, worst first.
	var groups []string
	for k := 0; k < len(order); {
		v := cs[order[k]].Verdict
		var names []string
		for ; k < len(order) && cs[order[k]].Verdict == v; k++ {
			names = append(names, cs[order[k]].Name)
		}
		groups = append(groups, candidateGroup(names, v, len(cs)))
	}
	reasons := []string{strings.Join(groups, "; ")}
	// The headline names the candidates by verdict, then says the worst
	// one's own headline; FailedOn joins every failing candidate's.
	r.Headline = r.Verdict + ": " + reasons[0]
	if h := cs[order[0]].Headline; h != "" && r.Verdict != Pass {
		r.Headline += " (" + cs[order[0]].Name + ": " + strings.TrimPrefix(h, cs[order[0]].Verdict+": ") + ")"
	}
	r.FailedOn = nil
	for _, f := range []string{FailDiffs, FailErrors, FailLatency} {
		for _, c := range cs {
			if c.Verdict == Fail && slices.Contains(c.FailedOn, f) {
				r.FailedOn = append(r.FailedOn, f)
				break
			}
		}
	}
	for _, i := range order {
		for _, why := range cs[i].Reasons {
			reasons = append(reasons, cs[i].Name+": "+why)
		}
	}
	r.Reasons = reasons
}

// candidateGroup says that the candidates names have verdict v, of all
// candidates: "candidate v3 fails", "candidates v3 and v4 fail", "every
// candidate passes (v2, v3)".
func candidateGroup(names []string, v string, all int) string {
	one := len(names) == 1
	verb := words(v)
	switch v {
	case Fail:
		verb = "fail"
	case Pass:
		verb = "pass"
	default:
		is := "are"
		if one {
			is = "is"
		}
		return fmt.Sprintf("%s %s %s %s", pluralWord(one, "candidate"), strings.Join(names, " and "), is, verb)
	}
	if one {
		verb = map[string]string{Fail: "fails", Pass: "passes"}[v]
	}
	if v == Pass && len(names) == all && all > 1 {
		return "every candidate passes (" + strings.Join(names, ", ") + ")"
	}
	return fmt.Sprintf("%s %s %s", pluralWord(one, "candidate"), strings.Join(names, " and "), verb)
}

func pluralWord(one bool, w string) string {
	if one {
		return w
	}
	return w + "s"
}

// candidateRank orders verdicts worst first: fail, then any other verdict
// but pass (inconclusive, not judged), then pass.
func candidateRank(v string) int {
	switch v {
	case Fail:
		return 0
	case Pass:
		return 2
	}
	return 1
}

// candidateView is what one candidate's reports show: its verdict and
// endpoints, judged against the primary. Writers that show candidates
// side by side (JUnit, HTML) range over candidates(r), so a report with
// several candidates is one more element there, not a new writer.
type candidateView struct {
	// Name is the candidate's name: "candidate" while a report holds one.
	Name string
	// Verdict, Headline and Reasons are the candidate's verdict, its one
	// line, and why.
	Verdict  string
	Headline string
	Reasons  []string
	// FailedOn names what a failing verdict failed on (Report.FailedOn).
	FailedOn []string
	// Totals are the candidate's totals.
	Totals Totals
	// Endpoints are the candidate's endpoints, in report order.
	Endpoints []EndpointReport
}

// defaultCandidate names the only candidate of a report.
const defaultCandidate = "candidate"

// candidates returns the report's candidates: Candidates when it judges
// several, else the report itself, named "candidate".
func candidates(r *Report) []candidateView {
	if len(r.Candidates) == 0 {
		return []candidateView{{Name: defaultCandidate, Verdict: r.Verdict, Headline: r.Headline, Reasons: r.Reasons,
			FailedOn: r.FailedOn, Totals: r.Totals, Endpoints: r.Endpoints}}
	}
	out := make([]candidateView, len(r.Candidates))
	for i, c := range r.Candidates {
		out[i] = candidateView(c)
	}
	return out
}

// endpointName is how reports and reasons name an endpoint.
func endpointName(ep *EndpointReport) string { return ep.Method + " " + ep.Route }

// fewestPairs folds the other candidates' endpoints into FewestPairs: the
// fewest pairs of any endpoint of any candidate, and the most endpoints
// one candidate has seen.
func (o *otherCandidates) fewestPairs(pairs int64, endpoints int) (int64, int) {
	o.mu.RLock()
	subs := slices.Clone(o.subs)
	o.mu.RUnlock()
	for _, s := range subs {
		p, n := s.FewestPairs()
		if n == 0 {
			continue
		}
		if endpoints == 0 || p < pairs {
			pairs = p
		}
		endpoints = max(endpoints, n)
	}
	return pairs, endpoints
}
