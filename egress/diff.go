package egress

import (
	"fmt"
	"slices"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
)

// Endpoint names a group of outbound calls that are paired across sides:
// a dependency, a method and a path template.
type Endpoint struct {
	Dependency string `json:"dependency"`
	Method     string `json:"method"`
	Template   string `json:"template"`
}

// String returns "POST payments /charges".
func (e Endpoint) String() string { return e.Method + " " + e.Dependency + " " + e.Template }

func endpointOf(c *exchange.OutboundCall) Endpoint {
	return Endpoint{Dependency: c.Dependency, Method: c.Method, Template: c.Template}
}

// CallPair is the primary's call to an endpoint with one ordinal and the
// other side's call with the same ordinal. Either may be nil: a call only
// one side made.
type CallPair struct {
	// Ordinal is the calls' ordinal among the trace's calls to the
	// endpoint, from 0.
	Ordinal int `json:"ordinal"`
	// Primary and Other are the two calls.
	Primary *exchange.OutboundCall `json:"primary,omitempty"`
	Other   *exchange.OutboundCall `json:"other,omitempty"`
	// Differences says how the other side's request differs from the
	// primary's when both made the call: "url" (path and query), headers
	// ("header.Idempotency-Key", under compare's ignore rules) and body
	// fields ("$.amount", compared like answers are). A difference the
	// secondary's call shows too is marked Noise.
	Differences []compare.Difference `json:"differences,omitempty"`
	// Differs reports a difference that is not noise.
	Differs bool `json:"differs"`
}

// EndpointDiff is how one side's calls to one endpoint, in one exchange,
// differ from the primary's.
type EndpointDiff struct {
	Endpoint Endpoint `json:"endpoint"`
	// Side is the side compared with the primary.
	Side exchange.Side `json:"side"`
	// PrimaryCalls and OtherCalls count each side's calls to the endpoint.
	PrimaryCalls int `json:"primary_calls"`
	OtherCalls   int `json:"other_calls"`
	// Pairs pairs the calls by ordinal.
	Pairs []CallPair `json:"pairs"`
}

// Differs reports whether the side made a different number of calls to the
// endpoint than the primary, or a call that differs.
func (d *EndpointDiff) Differs() bool {
	if d.PrimaryCalls != d.OtherCalls {
		return true
	}
	for i := range d.Pairs {
		if d.Pairs[i].Differs {
			return true
		}
	}
	return false
}

// Findings says in sentences how the side's calls differ, noise left out:
// "candidate did not call POST payments /notify", "candidate made 2 calls
// to POST payments /charges where the primary made 1", "candidate called
// POST payments /charges with $.amount 10.01 where the primary sent
// 10.00". It is empty when nothing differs.
func (d *EndpointDiff) Findings() []string {
	var out []string
	side, ep := d.Side, d.Endpoint
	switch {
	case d.OtherCalls == 0 && d.PrimaryCalls > 0:
		out = append(out, fmt.Sprintf("%s did not call %s", side, ep))
	case d.PrimaryCalls != d.OtherCalls:
		prim := "none"
		if d.PrimaryCalls > 0 {
			prim = fmt.Sprint(d.PrimaryCalls)
		}
		out = append(out, fmt.Sprintf("%s made %s to %s where the primary made %s", side, calls(d.OtherCalls), ep, prim))
	}
	for _, p := range d.Pairs {
		for _, df := range p.Differences {
			if df.Noise {
				continue
			}
			out = append(out, d.finding(p, df))
		}
	}
	return out
}

// finding says in a sentence how one call of a pair differs.
func (d *EndpointDiff) finding(p CallPair, df compare.Difference) string {
	which := ""
	if d.PrimaryCalls > 1 || d.OtherCalls > 1 {
		which = fmt.Sprintf(" (call %d)", p.Ordinal+1)
	}
	return fmt.Sprintf("%s called %s%s %s", d.Side, d.Endpoint, which, describe(df))
}

func calls(n int) string {
	if n == 1 {
		return "1 call"
	}
	return fmt.Sprintf("%d calls", n)
}

// describe words one request difference for Findings.
func describe(d compare.Difference) string {
	switch d.Kind {
	case compare.Added:
		return fmt.Sprintf("with %s %s, which the primary did not send", d.Path, d.Candidate)
	case compare.Removed:
		return fmt.Sprintf("without %s, which the primary sent as %s", d.Path, d.Primary)
	}
	return fmt.Sprintf("with %s %s where the primary sent %s", d.Path, d.Candidate, d.Primary)
}

// Differ compares the outbound calls of one exchange: it pairs each
// side's calls with the primary's per endpoint and ordinal, and diffs the
// requests of each pair with a compare.Engine, the way answers are
// diffed. It is safe for concurrent use.
type Differ struct {
	engine *compare.Engine
}

// NewDiffer returns a Differ whose request bodies and headers are compared
// under cfg: its IgnoreHeaders, Normalizers and Comparators apply to the
// requests of calls (their routes are the calls' paths). The zero Config
// is ready to use.
func NewDiffer(cfg compare.Config) (*Differ, error) {
	cfg.Outbound = nil // the Differ is the engine's outbound judge, not its own
	e, err := compare.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("egress differ: %w", err)
	}
	return &Differ{engine: e}, nil
}

// Diff compares side's calls (exchange.Secondary or exchange.Candidate)
// among calls, as Egress.Take returns them, with the primary's, one
// EndpointDiff per endpoint either side called, in the order the
// endpoints were first called (the primary's first). When side is the
// candidate, the secondary's calls with the same endpoint and ordinal
// mark noise.
func (d *Differ) Diff(calls []exchange.OutboundCall, side exchange.Side) []EndpointDiff {
	type group struct{ primary, other, secondary []*exchange.OutboundCall }
	groups := map[Endpoint]*group{}
	var order []Endpoint
	for _, want := range []exchange.Side{exchange.Primary, side} {
		for i := range calls {
			c := &calls[i]
			if c.Side != want {
				continue
			}
			ep := endpointOf(c)
			g := groups[ep]
			if g == nil {
				g = &group{}
				groups[ep] = g
				order = append(order, ep)
			}
			if want == exchange.Primary {
				g.primary = append(g.primary, c)
			} else {
				g.other = append(g.other, c)
			}
		}
	}
	if side == exchange.Candidate {
		for i := range calls {
			if c := &calls[i]; c.Side == exchange.Secondary {
				if g := groups[endpointOf(c)]; g != nil {
					g.secondary = append(g.secondary, c)
				}
			}
		}
	}
	out := make([]EndpointDiff, 0, len(order))
	for _, ep := range order {
		g := groups[ep]
		for _, cs := range [][]*exchange.OutboundCall{g.primary, g.other, g.secondary} {
			slices.SortStableFunc(cs, func(a, b *exchange.OutboundCall) int { return a.Ordinal - b.Ordinal })
		}
		ed := EndpointDiff{Endpoint: ep, Side: side, PrimaryCalls: len(g.primary), OtherCalls: len(g.other)}
		for i := range max(len(g.primary), len(g.other)) {
			p := CallPair{Ordinal: i, Primary: at(g.primary, i), Other: at(g.other, i)}
			if p.Primary != nil && p.Other != nil {
				p.Differences, p.Differs = d.compare(p.Primary, p.Other, at(g.secondary, i))
				p.Ordinal = p.Primary.Ordinal
			} else if p.Primary != nil {
				p.Ordinal = p.Primary.Ordinal
			} else {
				p.Ordinal = p.Other.Ordinal
			}
			ed.Pairs = append(ed.Pairs, p)
		}
		out = append(out, ed)
	}
	return out
}

func at(cs []*exchange.OutboundCall, i int) *exchange.OutboundCall {
	if i < len(cs) {
		return cs[i]
	}
	return nil
}

// compare diffs the requests of two calls to the same endpoint; sec, when
// not nil, is the secondary's call, whose differences from the primary's
// are noise.
func (d *Differ) compare(prim, other, sec *exchange.OutboundCall) ([]compare.Difference, bool) {
	x := &exchange.Exchange{
		Request:   exchange.Request{Method: prim.Method, URL: prim.URL},
		Primary:   asAnswer(prim),
		Candidate: asAnswer(other),
	}
	if sec != nil {
		s := asAnswer(sec)
		x.Secondary = &s
	}
	res := d.engine.Compare(x)
	var out []compare.Difference
	differs := res.Differs
	if prim.URL != other.URL {
		noise := sec != nil && sec.URL != prim.URL
		out = append(out, compare.Difference{Path: "url", Kind: compare.Changed, Primary: prim.URL, Candidate: other.URL, Noise: noise})
		differs = differs || !noise
	}
	out = append(out, res.Headers...)
	out = append(out, res.Body...)
	return out, differs
}

// asAnswer puts a call's request where the engine looks for an answer, so
// that requests are compared with the rules answers are compared with.
// The status is fixed: requests have none.
func asAnswer(c *exchange.OutboundCall) exchange.Response {
	return exchange.Response{
		Status:    200,
		Header:    c.Header,
		Body:      c.Body,
		Size:      c.BodySize,
		Truncated: c.BodyTruncated,
	}
}
