package compare

import (
	"slices"
	"strings"

	"github.com/understudy-dev/understudy/exchange"
)

// OutboundPrefix starts the path of every outbound difference: what the
// candidate sent to a dependency against what the primary sent, as
// "outbound POST payments /charges $.amount" (a body field of the call),
// "outbound POST payments /charges url", "... header.Idempotency-Key" or
// "... calls" (how many calls each side made).
const OutboundPrefix = "outbound "

// OutboundCallsField is the last part of the path of a difference in the
// number of calls to a dependency endpoint.
const OutboundCallsField = "calls"

// OutboundJudge compares the outbound calls of one exchange
// (exchange.Exchange.Outbound): the candidate's calls to dependencies
// against the primary's. egress.Differ is one. Each Difference it returns
// has a path made by OutboundPath, and a Detail that says it in a
// sentence ("candidate called POST payments /charges with $.amount 10.01
// where the primary sent 10.00"); differences marked Noise (the
// secondary's calls differ the same way) do not count.
type OutboundJudge interface {
	JudgeOutbound(calls []exchange.OutboundCall) []Difference
}

// OutboundPath names an outbound difference: endpoint is the dependency
// endpoint ("POST payments /charges"), field what differs in its calls
// ("$.amount", "url", "header.X-Request-Id", OutboundCallsField).
func OutboundPath(endpoint, field string) string {
	return OutboundPrefix + endpoint + " " + field
}

// isOutboundPath reports whether a path names an outbound difference.
func isOutboundPath(p string) bool { return strings.HasPrefix(p, OutboundPrefix) }

// generalizeOutbound generalizes the array indexes of the field part of an
// outbound path, as Difference.Field does for answers' fields. The
// endpoint is three words (method, dependency, template), none with a
// space.
func generalizeOutbound(p string) string {
	rest := p[len(OutboundPrefix):]
	i := 0
	for range 3 {
		j := strings.IndexByte(rest[i:], ' ')
		if j < 0 {
			return p
		}
		i += j + 1
	}
	return p[:len(OutboundPrefix)+i] + generalize(rest[i:])
}

// judgeOutbound adds the outbound differences of x to res when the engine
// has an OutboundJudge: they are hard differences, like a status or a
// header (noise among them was already marked by the judge, from the
// secondary's calls).
func (e *Engine) judgeOutbound(x *exchange.Exchange, res *Result) {
	if e.cfg.Outbound == nil || len(x.Outbound) == 0 {
		return
	}
	ds := capList(e.cfg.Outbound.JudgeOutbound(x.Outbound), &res.Omitted)
	var fields []string
	for i := range ds {
		ds[i].field = generalizeOutbound(ds[i].Path)
		if !ds[i].Noise {
			fields = append(fields, ds[i].field)
		}
	}
	res.Outbound = ds
	if len(fields) == 0 {
		return
	}
	res.hard = true
	res.outbound = true
	res.fields = append(res.fields, fields...)
	slices.Sort(res.fields)
	res.fields = slices.Compact(res.fields)
}

// refusedCalls counts the candidate's outbound calls that egress refused
// (answered 503 instead of the primary's answer).
func refusedCalls(x *exchange.Exchange) int64 {
	var n int64
	for i := range x.Outbound {
		if c := &x.Outbound[i]; c.Side == exchange.Candidate && c.Refused != "" {
			n++
		}
	}
	return n
}
