package egress

import (
	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/exchange"
)

// redact removes credentials from c the way capture files are redacted,
// with capture's public API: the call and its answer are redacted as one
// exchange, so a secret the call sent is also scrubbed from an answer that
// echoes it. Like capture.Redactor.Redact it replaces c's fields and never
// writes into the maps and arrays it found there, which the record of the
// primary's call shares with the other sides' answers.
func redact(r *capture.Redactor, c *exchange.OutboundCall) {
	x := exchange.Exchange{
		Request: exchange.Request{Method: c.Method, URL: c.URL, Header: c.Header, Body: c.Body},
		Primary: c.Response,
	}
	r.Redact(&x)
	c.URL, c.Header, c.Body = x.Request.URL, x.Request.Header, x.Request.Body
	c.Response = x.Primary
}
