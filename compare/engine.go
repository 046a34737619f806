package compare

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/stats"
)

// Engine judges exchanges and aggregates the judgements per endpoint. It
// is safe for concurrent use: Observe is meant to be called from many
// proxy workers while Report is read by a dashboard.
type Engine struct {
	cfg      Config
	headers  headerFilter
	norms    []*normalizer
	filtered bool // some normalizer has a route filter
	// comparators are the compiled Config.Comparators.
	comparators []comparatorRule
	tmpl        *templater
	noise       noiseRule
	seed        uint64

	mu        sync.RWMutex
	endpoints map[Endpoint]*endpointAgg

	// Latencies over all endpoints.
	primaryLat, candidateLat stats.Histogram

	// others holds the aggregates of the second and later candidates
	// (exchange.Exchange.OtherCandidates), and name this engine's own
	// candidate's name; see candidates.go.
	others otherCandidates
}

// New returns an Engine for a valid Config; zero fields take their
// documented defaults.
func New(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	routes := make([]route, 0, len(cfg.Routes))
	for _, r := range cfg.Routes {
		rt, err := parseRoute(r)
		if err != nil {
			return nil, fmt.Errorf("compare config: %w", err)
		}
		routes = append(routes, rt)
	}
	norms, err := compileNormalizers(cfg.Normalizers)
	if err != nil {
		return nil, fmt.Errorf("compare config: %w", err)
	}
	e := &Engine{
		cfg:         cfg,
		headers:     newHeaderFilter(cfg.IgnoreHeaders, cfg.ReplaceIgnoreHeaders),
		norms:       norms,
		comparators: compileComparators(cfg.Comparators),
		tmpl:        newTemplater(routes, cfg.MaxSegmentValues, cfg.MaxEndpoints),
		noise:       newNoiseRule(cfg.Noise),
		seed:        cfg.Seed,
		endpoints:   map[Endpoint]*endpointAgg{},
	}
	if e.seed == 0 {
		e.seed = rand.Uint64()
	}
	for _, n := range norms {
		e.filtered = e.filtered || n.route != "" || n.method != ""
	}
	return e, nil
}

// Observe judges an exchange and adds it to the aggregates. It has the
// shape of the proxy's observer.
func (e *Engine) Observe(x *exchange.Exchange) { e.Record(x) }

// Record is Observe that also returns the judgement, with Differs decided
// by the noise learned so far (including this exchange).
func (e *Engine) Record(x *exchange.Exchange) Result {
	ep := e.endpoint(x, true)
	if x.Candidate.Name != "" || len(x.OtherCandidates) > 0 {
		return e.recordCandidates(x, ep)
	}
	return e.record(x, ep, nil)
}

// record judges x's Candidate and adds it to the aggregates of ep.
func (e *Engine) record(x *exchange.Exchange, ep Endpoint, memo *noiseMemo) Result {
	agg := e.aggregate(ep)
	res := e.judge(x, ep, agg.ep, memo)
	agg.record(&res, x, e)
	agg.recordMessage(&res, x, e)
	switch res.Outcome { // as the endpoint records them
	case Compared:
		e.primaryLat.Record(x.Primary.Latency)
		e.candidateLat.Record(x.Candidate.Latency)
	case CandidateFailed, CandidateTimedOut:
		e.primaryLat.Record(x.Primary.Latency)
	}
	e.classify(&res, agg)
	return res
}

// Compare judges one exchange without adding it to the aggregates. A body
// difference is marked Noise when the exchange's own secondary differs on
// the same field, or when the engine has learned from earlier exchanges
// that the field is noise on this endpoint.
func (e *Engine) Compare(x *exchange.Exchange) Result {
	ep := e.endpoint(x, false)
	if x.Candidate.Name != "" || len(x.OtherCandidates) > 0 {
		return e.compareCandidates(x, ep)
	}
	return e.compare(x, ep, nil)
}

// compare is Compare for x's Candidate.
func (e *Engine) compare(x *exchange.Exchange, ep Endpoint, memo *noiseMemo) Result {
	e.mu.RLock()
	agg := e.endpoints[ep]
	e.mu.RUnlock()
	res := e.judge(x, ep, ep, memo)
	e.classify(&res, agg)
	return res
}

// endpoint names the exchange's endpoint (before folding into OtherRoute).
// A gRPC call's is its full method name (see grpcEndpoint).
func (e *Engine) endpoint(x *exchange.Exchange, learn bool) Endpoint {
	method := upper(x.Request.Method)
	if route, ok := grpcEndpoint(&x.Request); ok {
		return Endpoint{Method: method, Route: route}
	}
	return Endpoint{Method: method, Route: e.tmpl.template(method, x.Request.URL, learn)}
}

// aggregate returns the aggregate for an endpoint, creating it, or the
// OtherRoute one once MaxEndpoints exist.
func (e *Engine) aggregate(ep Endpoint) *endpointAgg {
	e.mu.RLock()
	a := e.endpoints[ep]
	e.mu.RUnlock()
	if a != nil {
		return a
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if a = e.endpoints[ep]; a != nil {
		return a
	}
	other := Endpoint{Method: "*", Route: OtherRoute}
	if len(e.endpoints) >= e.cfg.MaxEndpoints-1 && ep != other {
		ep = other // one slot stays reserved for the overflow endpoint
		if a = e.endpoints[ep]; a != nil {
			return a
		}
	}
	h := fnv.New64a()
	h.Write([]byte(ep.String()))
	a = newEndpointAgg(ep, rand.New(rand.NewPCG(e.seed, h.Sum64())))
	e.endpoints[ep] = a
	return a
}

// judge compares one exchange. ep selects normalizers; at is the endpoint
// the result is filed under.
func (e *Engine) judge(x *exchange.Exchange, ep, at Endpoint, memo *noiseMemo) Result {
	res := Result{Endpoint: at}
	switch {
	case !x.Primary.OK():
		res.Outcome = PrimaryFailed
		return res
	case !x.Candidate.OK() && x.Candidate.Timeout:
		res.Outcome = CandidateTimedOut
		return res
	case !x.Candidate.OK():
		res.Outcome = CandidateFailed
		return res
	}
	res.Outcome = Compared
	kind := e.comparatorFor(ep)
	rl := rules{kind: kind, formats: formatsFor(kind), ns: e.normalizersFor(ep), budget: e.cfg.Budget,
		request: x.Request.URL, schemas: e.cfg.Schemas}
	pbv, cbv := newBody(&x.Primary), newBody(&x.Candidate)
	res.primaryBody, res.candidateBody = pbv.content, cbv.content
	second := x.Secondary != nil && x.Secondary.OK()
	var pc pairDiff
	var r *rules
	var pb *body
	if !second && sameContent(&pbv, &cbv) {
		// Equal bodies need no format, so the bodies and rules stay off
		// the heap: most pairs.
		pc = e.pairHead(&x.Primary, &x.Candidate, rl.ns).withBody(bodyDiff{})
	} else {
		// One allocation for what the formats are handed by pointer, and
		// so keep on the heap.
		j := &judging{r: rl, pb: pbv, cb: cbv}
		r, pb = &j.r, &j.pb
		pc = e.pair(&x.Primary, &x.Candidate, &j.pb, &j.cb, r)
	}
	// What the proxy itself set differently on each side (marker, Host,
	// ...) and the service echoed back is shown, never counted.
	res.proxyFields = markProxy(injections{x.Primary.Injected, x.Candidate.Injected}, pbv.content, cbv.content, pc.status, pc.headers, pc.body.diffs)
	res.Status, res.Headers, res.Body = pc.status, pc.headers, capList(pc.body.diffs, &res.Omitted)
	res.Omitted += pc.body.omitted
	res.fields = withoutFields(pc.fields, res.proxyFields)
	res.hard = len(pc.status) > 0 || slices.ContainsFunc(pc.headers, isReal)
	res.Truncated, res.TooLarge = pc.body.truncated, pc.body.tooLarge

	if s := x.Secondary; second {
		n := memo.get(func() noiseDiff {
			sb := newBody(s)
			ps := e.pair(&x.Primary, s, pb, &sb, r)
			// The proxy's own differences are not noise either: learning
			// them as noise would hide a candidate that really differs
			// there.
			pf := markProxy(injections{x.Primary.Injected, s.Injected}, pb.content, sb.content, ps.status, ps.headers, ps.body.diffs)
			var n noiseDiff
			n.diffs = capList(withoutProxy(ps.all()), &n.omitted)
			n.omitted += ps.body.omitted
			n.fields, n.status = withoutFields(ps.fields, pf), len(ps.status) > 0
			n.truncated, n.tooLarge = ps.body.truncated, ps.body.tooLarge
			return n
		})
		res.Noise, res.Omitted = n.diffs, res.Omitted+n.omitted
		res.noiseFields, res.hasSecond, res.noiseStatus = n.fields, true, n.status
		res.Truncated = res.Truncated || n.truncated
		res.TooLarge = res.TooLarge || n.tooLarge
	}
	e.judgeOutbound(x, &res)
	return res
}

// judging holds the rules and the two bodies of one judgement.
type judging struct {
	r      rules
	pb, cb body
}

// noiseDiff is how one exchange's secondary answer differs from its
// primary's: the noise every candidate of the exchange is judged with.
type noiseDiff struct {
	diffs               []Difference // capped; shared read-only by every candidate's Result
	omitted             int
	fields              []string // distinct fields, the proxy's own left out, sorted
	status              bool
	truncated, tooLarge bool
}

// noiseMemo computes an exchange's noiseDiff once for all its candidates;
// a nil memo computes it every time. It is used by one goroutine.
type noiseMemo struct {
	done bool
	n    noiseDiff
}

func (m *noiseMemo) get(compute func() noiseDiff) noiseDiff {
	if m == nil {
		return compute()
	}
	if !m.done {
		m.n, m.done = compute(), true
	}
	return m.n
}

// pairDiff holds the differences between two answers.
type pairDiff struct {
	status, headers []Difference
	body            bodyDiff
	fields          []string // distinct fields, sorted
}

func (p pairDiff) all() []Difference {
	return slices.Concat(p.status, p.headers, p.body.diffs)
}

// pair compares two answers: status, headers, body.
func (e *Engine) pair(a, b *exchange.Response, ab, bb *body, r *rules) pairDiff {
	return e.pairHead(a, b, r.ns).withBody(diffBodies(ab, bb, r))
}

// sameContent reports whether two bodies are complete and equal, which
// diffBodies answers with no difference.
func sameContent(p, c *body) bool {
	return !p.truncated && !c.truncated && bytes.Equal(p.content, c.content)
}

// pairHead compares two answers' status and headers, ns the normalizers
// of their endpoint.
func (e *Engine) pairHead(a, b *exchange.Response, ns []*normalizer) pairDiff {
	var out pairDiff
	if d, ok := statusDiff(a, b); ok { // the gRPC status for gRPC answers
		out.status = []Difference{d}
		out.fields = append(out.fields, "status")
	}
	out.headers = diffHeaders(a.Header, b.Header, e.headers, ns)
	for i := range out.headers {
		out.headers[i].field = out.headers[i].Path
		out.fields = append(out.fields, out.headers[i].Path)
	}
	return out
}

// withBody adds the bodies' differences to out, a pairHead's.
func (out pairDiff) withBody(body bodyDiff) pairDiff {
	out.body = body
	if len(out.fields) == 0 {
		out.fields = out.body.fields // already sorted and distinct
		return out
	}
	out.fields = append(out.fields, out.body.fields...)
	slices.Sort(out.fields)
	out.fields = slices.Compact(out.fields)
	return out
}

// capList bounds a difference list, counting what it drops.
func capList(ds []Difference, omitted *int) []Difference {
	if len(ds) <= maxDifferences {
		return ds
	}
	*omitted += len(ds) - maxDifferences
	return ds[:maxDifferences:maxDifferences]
}

// normalizersFor returns the normalizers that apply to an endpoint.
func (e *Engine) normalizersFor(ep Endpoint) []*normalizer {
	if !e.filtered {
		return e.norms
	}
	out := make([]*normalizer, 0, len(e.norms))
	for _, n := range e.norms {
		if n.appliesTo(ep) {
			out = append(out, n)
		}
	}
	return out
}

// classify marks noise differences and decides Differs: status and header
// differences always count; a body field counts unless this exchange's
// secondary differs on it too or agg has learned that it is noise.
func (e *Engine) classify(res *Result, agg *endpointAgg) {
	if res.Outcome != Compared {
		return
	}
	var learned []bool // aligned with res.fields
	if agg != nil {
		learned = agg.learnedNoise(res.fields, e.noise)
	}
	noisy := func(f string) bool {
		if !isBodyField(f) {
			return false
		}
		if _, seen := slices.BinarySearch(res.noiseFields, f); seen {
			return true
		}
		i, ok := slices.BinarySearch(res.fields, f)
		return ok && learned != nil && learned[i]
	}
	for i := range res.Body {
		res.Body[i].Noise = !res.Body[i].Proxy && noisy(res.Body[i].Field())
	}
	res.Differs = res.hard
	for _, f := range res.fields {
		if isBodyField(f) && !noisy(f) {
			res.Differs = true
		}
	}
}

// isBodyField reports whether a field is part of the body (and so can be
// noise) rather than the status or a header.
func isBodyField(f string) bool { return f != "status" && !isHeaderPath(f) && !isOutboundPath(f) }

// isReal reports whether a difference is not the proxy's own.
func isReal(d Difference) bool { return !d.Proxy }

// upper upper-cases an HTTP method; an empty method is GET, as in
// net/http.
func upper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	if s == "" {
		return "GET"
	}
	return s
}
