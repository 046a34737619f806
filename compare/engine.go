// Package compare judges the answers of a parallel run: for each exchange
// it diffs the candidate's answer against the primary's (status, headers,
// JSON bodies field by field with go-cmp, XML bodies element by element,
// form bodies key by key, other bodies as text or bytes), learns from a
// secondary which fields differ on their own (noise), and keeps
// per-endpoint aggregates from which it writes JSON and Markdown reports
// with a pass/fail verdict for a release pipeline.
//
// It works on exchange.Exchange values and does not depend on the proxy,
// so recorded traffic can be judged offline.
//
// The rules, in short:
//
//   - Headers: compared by canonical name, values joined with ", ",
//     Content-Type as a media type; DefaultIgnoreHeaders are skipped unless
//     Config.ReplaceIgnoreHeaders.
//   - Bodies: a Content-Encoding (gzip, deflate, br, zstd, or a list of
//     them) is undone first, at most 8 MiB of it, so a change of
//     compression alone shows only as a Content-Encoding header
//     difference. The comparator is chosen per body (see AutoComparator)
//     or forced per route (Config.Comparators). JSON bodies are decoded
//     with numbers kept exact and diffed structurally ("$.items[2].price");
//     XML bodies are diffed as element trees ("/order/items/item[2]/price",
//     "/order/@id"; see xml.go for namespaces, text and order); form bodies
//     key by key ("form.qty"). One structured side against a side that is
//     not of that format is a type change at "body"; anything else
//     compares as text (with a short line diff) or bytes.
//   - Numbers compare as exact decimals: 1.10 equals 1.1 and 1e2 equals
//     100, but 12345678901234567890 differs from 12345678901234567891, and
//     1 against "1" is a type change.
//   - Arrays compare index by index (an insertion shows as changes from
//     that index on); use a Set or Sort normalizer for arrays whose order
//     does not matter.
//   - Truncated bodies are compared only as far as both sides were read;
//     truncation can hide a difference but never invents one.
//   - Noise: see NoiseConfig. Status and header differences are never
//     noise. Diff counts in reports use the noise learned from all
//     exchanges, whatever their order.
//
// Memory is bounded by Config: at most MaxEndpoints endpoints (each with
// two latency histograms of about 60 KiB), MaxFields fields each, and
// Exemplars exemplars per field holding at most three ExemplarBytes
// excerpts (shared by the fields of one exchange).
package compare

import (
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
	agg := e.aggregate(ep)
	res := e.judge(x, ep, agg.ep)
	agg.record(&res, x, e)
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
	e.mu.RLock()
	agg := e.endpoints[ep]
	e.mu.RUnlock()
	res := e.judge(x, ep, ep)
	e.classify(&res, agg)
	return res
}

// endpoint names the exchange's endpoint (before folding into OtherRoute).
func (e *Engine) endpoint(x *exchange.Exchange, learn bool) Endpoint {
	method := upper(x.Request.Method)
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
func (e *Engine) judge(x *exchange.Exchange, ep, at Endpoint) Result {
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
	ns := e.normalizersFor(ep)
	w := newWalker(ns)
	text, hdr := textRewriter(ns), headerRewriter(ns)
	rules := bodyRules{kind: e.comparatorFor(ep), w: w, ns: ns}
	pv := newBodyView(&x.Primary, rules)
	cv := newBodyView(&x.Candidate, rules)
	res.primaryBody, res.candidateBody = pv.body, cv.body
	pc := e.pair(&x.Primary, &x.Candidate, pv, cv, text, hdr)
	res.Status, res.Headers, res.Body = pc.status, pc.headers, capList(pc.body, &res.Omitted)
	res.Omitted += pc.omitted
	res.fields, res.hard, res.Truncated = pc.fields, pc.hard(), pc.truncated

	if s := x.Secondary; s != nil && s.OK() {
		ps := e.pair(&x.Primary, s, pv, newBodyView(s, rules), text, hdr)
		res.Noise = capList(ps.all(), &res.Omitted)
		res.Omitted += ps.omitted
		res.noiseFields, res.hasSecond = ps.fields, true
		res.noiseStatus = len(ps.status) > 0
		res.Truncated = res.Truncated || ps.truncated
	}
	return res
}

// pairDiff holds the differences between two answers.
type pairDiff struct {
	status, headers, body []Difference
	fields                []string // distinct fields, sorted
	omitted               int
	truncated             bool
}

func (p pairDiff) hard() bool { return len(p.status) > 0 || len(p.headers) > 0 }

func (p pairDiff) all() []Difference {
	return slices.Concat(p.status, p.headers, p.body)
}

// pair compares two answers: status, headers, body.
func (e *Engine) pair(a, b *exchange.Response, av, bv *bodyView, text func(string) string, hdr func(string, string) string) pairDiff {
	var out pairDiff
	if a.Status != b.Status {
		out.status = []Difference{{Path: "status", Kind: Changed, Primary: fmt.Sprint(a.Status), Candidate: fmt.Sprint(b.Status), field: "status"}}
		out.fields = append(out.fields, "status")
	}
	out.headers = diffHeaders(a.Header, b.Header, e.headers, hdr)
	for i := range out.headers {
		out.headers[i].field = out.headers[i].Path
		out.fields = append(out.fields, out.headers[i].Path)
	}
	bd := diffBodies(av, bv, text)
	out.body, out.omitted, out.truncated = bd.diffs, bd.omitted, bd.truncated
	out.fields = append(out.fields, bd.fields...)
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
		res.Body[i].Noise = noisy(res.Body[i].Field())
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
func isBodyField(f string) bool { return f != "status" && !isHeaderPath(f) }

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
