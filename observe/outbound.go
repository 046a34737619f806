package observe

import (
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/traceparent"
)

// OutboundSource hands over the outbound calls every side made to
// dependencies while serving one request, by the trace id of the
// request's traceparent, once (*egress.Egress is one). A Pipeline with
// one attaches them to each exchange before it is judged and recorded.
type OutboundSource interface {
	Take(traceID string) []exchange.OutboundCall
}

// withOutbound returns x, or a copy of it carrying the outbound calls made
// under its trace id when src has any. x itself is not modified: the
// proxy may still hold it.
func withOutbound(x *exchange.Exchange, src OutboundSource) *exchange.Exchange {
	tp, ok := traceparent.FromHeader(x.Request.Header)
	if !ok {
		return x
	}
	calls := src.Take(tp.TraceIDString())
	if len(calls) == 0 {
		return x
	}
	cp := *x
	cp.Outbound = calls
	return &cp
}
