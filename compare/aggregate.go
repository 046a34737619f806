package compare

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/stats"
)

// OtherField collects the differences of fields beyond Config.MaxFields
// on one endpoint.
const OtherField = "(other fields)"

// Bounds of per-endpoint state besides fields and exemplars.
const (
	maxSignatures   = 256 // distinct sets of differing body fields
	maxErrorSamples = 10  // distinct candidate error messages
	maxErrorLen     = 200
	otherErrors     = "(other errors)"
)

// endpointAgg holds the running aggregates of one endpoint. Every method
// takes mu, so a snapshot is always consistent.
type endpointAgg struct {
	ep  Endpoint
	rng *rand.Rand // reservoir sampling; used under mu

	mu     sync.Mutex
	c      counters
	fields map[string]*fieldAgg
	// proxy holds the fields whose differences shadow itself made
	// (Difference.Proxy), bounded like fields.
	proxy map[string]*fieldAgg
	// sigs counts pairs with body differences by the set of differing
	// fields, so that diff counts can be decided at report time with the
	// noise learned from all exchanges, whatever their order.
	sigs map[string]*signature
	errs map[string]int64

	primaryLat, candidateLat stats.Histogram

	msgs *messageAgg // WebSocket messages (websocket.go); nil when none
}

type counters struct {
	exchanges, pairs                                  int64
	primaryErrors, candidateErrors, candidateTimeouts int64
	truncated, tooLarge, secondary                    int64
	hardDiffs, statusDiffs, headerDiffs               int64
	// Pairs whose signature did not fit in sigs, judged on arrival.
	overflowDiffs, overflowNoise int64
	// proxyOnly counts pairs whose only differences were the proxy's.
	proxyOnly int64
	// errorKinds counts candidate errors by kind (exchange.Response.ErrorKind).
	errorKinds map[string]int64
	// outboundDiffs counts pairs whose outbound calls differ;
	// outboundRefused the candidate's outbound calls egress refused.
	outboundDiffs, outboundRefused int64
}

type fieldAgg struct {
	diffs, noise int64
	kinds        map[Kind]int64
	seen         int64 // exemplar candidates so far
	exemplars    []Exemplar
}

type signature struct {
	fields []string
	count  int64
}

func newEndpointAgg(ep Endpoint, rng *rand.Rand) *endpointAgg {
	return &endpointAgg{
		ep:     ep,
		rng:    rng,
		fields: map[string]*fieldAgg{},
		proxy:  map[string]*fieldAgg{},
		sigs:   map[string]*signature{},
		errs:   map[string]int64{},
	}
}

// fold maps a field to the name it is counted under, creating it when
// there is room. Callers hold mu.
func (a *endpointAgg) fold(f string, maxFields int) (string, *fieldAgg) {
	if fa := a.fields[f]; fa != nil {
		return f, fa
	}
	if len(a.fields) >= maxFields {
		f = OtherField
		if fa := a.fields[f]; fa != nil {
			return f, fa
		}
	}
	fa := &fieldAgg{kinds: map[Kind]int64{}}
	a.fields[f] = fa
	return f, fa
}

// lookup is fold without creating. Callers hold mu.
func (a *endpointAgg) lookup(f string) *fieldAgg {
	if fa := a.fields[f]; fa != nil {
		return fa
	}
	return a.fields[OtherField]
}

// record adds one judged exchange.
func (a *endpointAgg) record(res *Result, x *exchange.Exchange, e *Engine) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.c.exchanges++
	a.c.outboundRefused += refusedCalls(x)
	switch res.Outcome {
	case PrimaryFailed:
		a.c.primaryErrors++
		return
	case CandidateFailed, CandidateTimedOut:
		a.c.candidateErrors++
		if res.Outcome == CandidateTimedOut {
			a.c.candidateTimeouts++
		}
		a.noteError(x.Candidate.Error)
		if k := x.Candidate.ErrorKind; k != "" {
			if a.c.errorKinds == nil {
				a.c.errorKinds = map[string]int64{}
			}
			a.c.errorKinds[k]++
		}
		a.primaryLat.Record(x.Primary.Latency)
		return
	}
	a.c.pairs++
	a.primaryLat.Record(x.Primary.Latency)
	a.candidateLat.Record(x.Candidate.Latency)
	if res.Truncated {
		a.c.truncated++
	}
	if res.TooLarge {
		a.c.tooLarge++
	}
	maxFields := e.cfg.MaxFields
	if res.hasSecond {
		a.c.secondary++
		var done []string
		for _, f := range res.noiseFields {
			name, fa := a.fold(f, maxFields)
			if !slices.Contains(done, name) {
				done = append(done, name)
				fa.noise++
			}
		}
	}

	firsts := firstDifferences(res)
	var smp *sample
	var body []string // folded body fields, for the signature
	var done []string
	for i, f := range res.fields {
		name, fa := a.fold(f, maxFields)
		if slices.Contains(done, name) {
			continue // several fields folded into OtherField count once
		}
		done = append(done, name)
		if isBodyField(f) {
			body = append(body, name)
		}
		fa.diffs++
		d := firsts[i]
		if d == nil {
			continue // its differences were omitted
		}
		fa.kinds[d.Kind]++
		fa.offer(e.cfg.Exemplars, a.rng, func() Exemplar {
			if smp == nil {
				smp = newSample(x, res, e.cfg.ExemplarBytes)
			}
			return smp.exemplar(*d, res)
		})
	}
	a.recordProxy(res, x, e, &smp)
	if res.outbound {
		a.c.outboundDiffs++
	}
	switch {
	case res.hard:
		a.c.hardDiffs++
		if len(res.Status) > 0 {
			a.c.statusDiffs++
		}
		if slices.ContainsFunc(res.Headers, isReal) {
			a.c.headerDiffs++
		}
	case len(body) > 0:
		slices.Sort(body)
		key := strings.Join(body, "\x00")
		switch s := a.sigs[key]; {
		case s != nil:
			s.count++
		case len(a.sigs) < maxSignatures:
			a.sigs[key] = &signature{fields: body, count: 1}
		case a.allNoise(body, e.noise):
			a.c.overflowNoise++
		default:
			a.c.overflowDiffs++
		}
	}
}

// recordProxy counts the fields whose differences were all the proxy's,
// with exemplars, and the pair as proxy-only when nothing else differs.
// Callers hold mu.
func (a *endpointAgg) recordProxy(res *Result, x *exchange.Exchange, e *Engine, smp **sample) {
	if len(res.proxyFields) == 0 {
		return
	}
	if len(res.fields) == 0 {
		a.c.proxyOnly++
	}
	for _, f := range res.proxyFields {
		fa := a.proxy[f]
		if fa == nil {
			if len(a.proxy) >= e.cfg.MaxFields {
				continue // bounded; they do not count anyway
			}
			fa = &fieldAgg{kinds: map[Kind]int64{}}
			a.proxy[f] = fa
		}
		fa.diffs++
		var d *Difference
		for _, list := range [][]Difference{res.Headers, res.Body} {
			for i := range list {
				if list[i].Proxy && list[i].Field() == f {
					d = &list[i]
					break
				}
			}
			if d != nil {
				break
			}
		}
		if d == nil {
			continue
		}
		fa.kinds[d.Kind]++
		fa.offer(e.cfg.Exemplars, a.rng, func() Exemplar {
			if *smp == nil {
				*smp = newSample(x, res, e.cfg.ExemplarBytes)
			}
			return (*smp).exemplar(*d, res)
		})
	}
}

// firstDifferences returns, for each of res.fields, its first listed
// difference (nil when all of them were omitted).
func firstDifferences(res *Result) []*Difference {
	out := make([]*Difference, len(res.fields))
	for _, list := range [][]Difference{res.Status, res.Headers, res.Body, res.Outbound} {
		for j := range list {
			if i, ok := slices.BinarySearch(res.fields, list[j].Field()); ok && out[i] == nil {
				out[i] = &list[j]
			}
		}
	}
	return out
}

// offer considers one more exemplar: the first half of the slots keep the
// first ones, the rest hold a uniform reservoir sample of all later ones.
func (f *fieldAgg) offer(k int, rng *rand.Rand, mk func() Exemplar) {
	f.seen++
	first := int64((k + 1) / 2)
	switch {
	case k == 0:
	case f.seen <= first || len(f.exemplars) < k:
		f.exemplars = append(f.exemplars, mk())
	default:
		if j := rng.Int64N(f.seen - first); j < int64(k)-first {
			f.exemplars[first+j] = mk()
		}
	}
}

// noteError counts a candidate error message. Callers hold mu.
func (a *endpointAgg) noteError(msg string) {
	msg = clipTo(msg, maxErrorLen)
	if _, ok := a.errs[msg]; !ok && len(a.errs) >= maxErrorSamples {
		msg = otherErrors
	}
	a.errs[msg]++
}

// allNoise reports whether every field is currently noise. Callers hold mu.
func (a *endpointAgg) allNoise(fields []string, rule noiseRule) bool {
	for _, f := range fields {
		if !a.isNoise(f, rule) {
			return false
		}
	}
	return true
}

// isNoise applies the noise rule to one (folded) field. Callers hold mu.
func (a *endpointAgg) isNoise(f string, rule noiseRule) bool {
	fa := a.fields[f]
	return fa != nil && isBodyField(f) && rule.isNoise(fa.diffs, fa.noise, a.c.pairs, a.c.secondary)
}

// learnedNoise reports which of the fields are noise by what the
// endpoint has learned; nil when none is.
func (a *endpointAgg) learnedNoise(fields []string, rule noiseRule) []bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []bool
	for i, f := range fields {
		fa := a.lookup(f)
		if fa == nil || !isBodyField(f) || !rule.isNoise(fa.diffs, fa.noise, a.c.pairs, a.c.secondary) {
			continue
		}
		if out == nil {
			out = make([]bool, len(fields))
		}
		out[i] = true
	}
	return out
}

// sample is the part of an exchange that exemplars keep, built once per
// exchange and shared by the exemplars of all its fields.
type sample struct {
	id, method, url                string
	reqBody, primaryBody, candBody string
	primaryStatus, candidateStatus int
	truncated                      bool
	diffs                          []Difference // every difference, shared read-only by the exemplars
	omitted                        int
}

// maxExemplarDiffs bounds the differences an exemplar lists. The list is
// shared by every exemplar taken from one exchange, so it costs once per
// exchange kept, not once per field.
const maxExemplarDiffs = 16

func newSample(x *exchange.Exchange, res *Result, limit int) *sample {
	s := &sample{
		id:              x.Request.ID,
		method:          upper(x.Request.Method),
		url:             clip(x.Request.URL),
		primaryStatus:   x.Primary.Status,
		candidateStatus: x.Candidate.Status,
		truncated:       x.Primary.Truncated || x.Candidate.Truncated,
	}
	var cut bool
	s.reqBody, cut = excerpt(x.Request.Body, limit)
	s.truncated = s.truncated || cut
	s.primaryBody, cut = excerpt(res.primaryBody, limit)
	s.truncated = s.truncated || cut
	s.candBody, cut = excerpt(res.candidateBody, limit)
	s.truncated = s.truncated || cut
	all := res.Differences()
	s.omitted = res.Omitted
	if len(all) > maxExemplarDiffs {
		s.omitted += len(all) - maxExemplarDiffs
		all = all[:maxExemplarDiffs]
	}
	s.diffs = slices.Clip(slices.Clone(all))
	return s
}

func (s *sample) exemplar(d Difference, res *Result) Exemplar {
	ex := Exemplar{
		ExchangeID:         s.id,
		Method:             s.method,
		URL:                s.url,
		Difference:         d,
		PrimaryStatus:      s.primaryStatus,
		CandidateStatus:    s.candidateStatus,
		RequestBody:        s.reqBody,
		PrimaryBody:        s.primaryBody,
		CandidateBody:      s.candBody,
		Truncated:          s.truncated,
		Differences:        s.diffs,
		OmittedDifferences: s.omitted,
	}
	for _, n := range res.Noise {
		if n.Path == d.Path {
			ex.Secondary = &n
			break
		}
	}
	return ex
}

// excerpt copies at most limit bytes of a body as text; binary bodies are
// described, not copied.
func excerpt(b []byte, limit int) (string, bool) {
	if len(b) == 0 {
		return "", false
	}
	if !isText(b) {
		return "<" + strconv.Itoa(len(b)) + " bytes of binary data>", false
	}
	if len(b) <= limit {
		return string(b), false
	}
	return clipTo(string(b[:limit+1]), limit), true
}
