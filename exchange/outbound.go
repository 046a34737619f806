package exchange

import (
	"net/http"
	"time"
)

// OutboundCall is one call a side made to a dependency while it served the
// exchange's request, as shadow's egress listeners saw it. The primary's
// calls reached the real dependency; the secondary's and candidate's never
// did: they were answered from the primary's call with the same key, or
// refused.
//
// A call is keyed by the trace id of its traceparent, Dependency, Method,
// Template and Ordinal; calls of different sides with equal keys are the
// same call made by different versions.
type OutboundCall struct {
	// Side is the side that made the call.
	Side Side `msgpack:"side" json:"side"`
	// Dependency is the configured name of the dependency called.
	Dependency string `msgpack:"dependency" json:"dependency"`
	// Method is the HTTP method of the call.
	Method string `msgpack:"method" json:"method"`
	// URL is the path and query of the call, relative to the dependency's
	// base URL.
	URL string `msgpack:"url" json:"url"`
	// Template is the path template the call was keyed by: the
	// dependency's configured route that matched the path, or the path
	// itself.
	Template string `msgpack:"template" json:"template"`
	// Ordinal counts the side's earlier calls in the trace with the same
	// dependency, method and template, from 0.
	Ordinal int `msgpack:"ordinal" json:"ordinal"`
	// Header holds the call's headers, hop-by-hop headers removed.
	Header http.Header `msgpack:"header" json:"header"`
	// Body holds the call's body, up to the egress recording limit.
	Body []byte `msgpack:"body" json:"body,omitempty"`
	// BodySize is the full length of the body as it was read, larger than
	// len(Body) when BodyTruncated is set.
	BodySize int64 `msgpack:"body_size" json:"body_size"`
	// BodyTruncated reports that Body holds only a prefix of the body.
	BodyTruncated bool `msgpack:"body_truncated,omitempty" json:"body_truncated,omitempty"`
	// Started is when the call reached the egress listener.
	Started time.Time `msgpack:"started" json:"started"`
	// Response is the answer the side got: for the primary the
	// dependency's (or the egress listener's 502 when the dependency could
	// not be reached); for the other sides the primary's answer replayed,
	// or a 503 refusal whose reason is in Response.Error and Refused.
	// Response.Latency runs from Started to the end of the answer.
	Response Response `msgpack:"response" json:"response"`
	// Matched reports, for the secondary and candidate, that the call was
	// answered from the primary's call with the same key.
	Matched bool `msgpack:"matched,omitempty" json:"matched,omitempty"`
	// Refused names why a secondary or candidate call was not answered
	// from the primary's ("no_trace", "no_match", ...); empty when it was.
	Refused string `msgpack:"refused,omitempty" json:"refused,omitempty"`
}
