// Package exchange holds the plain data that flows through understudy: one
// client request and the answers the primary, secondary and candidate gave to
// it. It has no logic, so the proxy, the compare engine and the capture files
// can all share it without depending on each other.
package exchange

import (
	"net/http"
	"time"
)

// Side names one of the upstreams an exchange talks to.
type Side string

// The three sides of a parallel run.
const (
	// Primary is the live version: its answer is the one the client gets.
	Primary Side = "primary"
	// Secondary is a second copy of the live version, used to learn which
	// fields differ on their own (noise).
	Secondary Side = "secondary"
	// Candidate is the version under test.
	Candidate Side = "candidate"
)

// Request is a client request as it was mirrored.
type Request struct {
	// ID identifies the exchange; unique within one proxy process.
	ID string `msgpack:"id" json:"id"`
	// Method is the HTTP method.
	Method string `msgpack:"method" json:"method"`
	// URL is the request URI as the client sent it: path and query.
	URL string `msgpack:"url" json:"url"`
	// Host is the Host the client asked for.
	Host string `msgpack:"host" json:"host"`
	// Header holds the client's headers, hop-by-hop headers removed.
	Header http.Header `msgpack:"header" json:"header"`
	// Body is the complete request body; nil when there was none.
	Body []byte `msgpack:"body" json:"body,omitempty"`
	// Received is when the proxy received the request.
	Received time.Time `msgpack:"received" json:"received"`
}

// Response is one upstream's answer to a Request.
type Response struct {
	// Side says which upstream answered.
	Side Side `msgpack:"side" json:"side"`
	// Status is the HTTP status code; 0 when no answer arrived (see Error).
	Status int `msgpack:"status" json:"status"`
	// Header holds the answer's headers, hop-by-hop headers removed.
	Header http.Header `msgpack:"header" json:"header"`
	// Trailer holds the answer's trailers, if any.
	Trailer http.Header `msgpack:"trailer,omitempty" json:"trailer,omitempty"`
	// Body holds the answer's body, up to the proxy's copy limit.
	Body []byte `msgpack:"body" json:"body,omitempty"`
	// Size is the full length of the body as it was read, which is larger
	// than len(Body) when Truncated is set. A candidate's or secondary's
	// answer is read no further than the copy limit: its Size is then its
	// Content-Length, or 0 (unknown) when it declared none.
	Size int64 `msgpack:"size" json:"size"`
	// Truncated reports that Body holds only a prefix of the answer.
	Truncated bool `msgpack:"truncated,omitempty" json:"truncated,omitempty"`
	// Latency is the time from sending the request to reading the end of
	// the body (or to the error).
	Latency time.Duration `msgpack:"latency" json:"latency"`
	// Error describes why no complete answer arrived: a refused
	// connection, a reset, a timeout. Empty on success.
	Error string `msgpack:"error,omitempty" json:"error,omitempty"`
	// Timeout reports that Error was a deadline being reached.
	Timeout bool `msgpack:"timeout,omitempty" json:"timeout,omitempty"`
	// ErrorKind sorts Error into a kind: "tls", "refused", "timeout",
	// "protocol", "reset" or "other" (wire.Kinds). Empty on success, and
	// in records made before it existed.
	ErrorKind string `msgpack:"error_kind,omitempty" json:"error_kind,omitempty"`
	// Injected holds what the proxy itself set or rewrote on the request
	// it sent to this side, beyond what the client sent: canonical header
	// name to the value sent ("Host" for the Host header; "" for a header
	// it removed). The marker header, Host, X-Forwarded-*, per-target set
	// headers and traceparent go here, so compare can tell a difference
	// the proxy made (a service echoing its request) from one the
	// candidate made. Nil in records made before it existed.
	Injected map[string]string `msgpack:"injected,omitempty" json:"injected,omitempty"`
	// Name is the candidate's name when several candidates are configured
	// ("v2"); empty with one candidate, and on the primary's and the
	// secondary's answers.
	Name string `msgpack:"name,omitempty" json:"name,omitempty"`
	// NotSent says why this candidate was not asked at all ("queue_full",
	// "stale", "candidate_down", "shutdown"): its own queue or breaker
	// kept the copy back while another candidate's was sent. Such an
	// answer is empty and is not judged. Empty when the copy was sent.
	NotSent string `msgpack:"not_sent,omitempty" json:"not_sent,omitempty"`
}

// OK reports whether a complete answer arrived.
func (r *Response) OK() bool { return r != nil && r.Error == "" }

// Exchange joins a request with the answers of every side it went to.
type Exchange struct {
	// Request is what the client sent.
	Request Request `msgpack:"request" json:"request"`
	// Route is the name of the configured route the request matched;
	// empty when it matched none.
	Route string `msgpack:"route,omitempty" json:"route,omitempty"`
	// Primary is the answer the client got.
	Primary Response `msgpack:"primary" json:"primary"`
	// Secondary is the second primary's answer; nil when no secondary is
	// configured.
	Secondary *Response `msgpack:"secondary,omitempty" json:"secondary,omitempty"`
	// Candidate is the candidate's answer: the first candidate's when
	// several are configured.
	Candidate Response `msgpack:"candidate" json:"candidate"`
	// OtherCandidates holds the answers of the second and later
	// candidates, in the order they are configured, each with its Name;
	// empty with one candidate. Every candidate is judged against the same
	// Primary and Secondary answers.
	OtherCandidates []Response `msgpack:"other_candidates,omitempty" json:"other_candidates,omitempty"`
	// Outbound holds the calls each side made to dependencies through
	// shadow's egress listeners while serving this request (see
	// OutboundCall); empty when egress is not in use.
	Outbound []OutboundCall `msgpack:"outbound,omitempty" json:"outbound,omitempty"`
	// WebSocket is set on the exchanges of a mirrored WebSocket
	// connection (see WebSocket); nil for every other exchange.
	WebSocket *WebSocket `msgpack:"websocket,omitempty" json:"websocket,omitempty"`
}
