// Package mirror is the shadow proxy's core: a reverse proxy that serves
// every request from the primary (the live service), copies eligible
// requests to a candidate (the version under test) and optionally a
// secondary (a second copy of the live version), joins the answers into one
// exchange.Exchange and hands it to an Observer.
//
// The client only ever talks to the primary. Everything mirror related
// happens off the client's path: copies go through a bounded queue to a
// fixed pool of workers, a full queue drops the copy (and counts it), and a
// slow, dead or hostile candidate costs the client nothing. The primary's
// answer is streamed to the client by net/http/httputil.ReverseProxy and teed
// into a bounded buffer on the way.
//
// What reaches each upstream is set per upstream by a Target: the Host
// header (its own, the client's, or a literal, with an optional suffix such
// as Envoy's "-shadow") and headers set or removed; the forwarding headers
// are the same for all. Which requests are mirrored is decided by routes,
// method safety and a sample, random or keyed by a header, cookie or query
// parameter so that a user is mirrored whole, the same way by every
// replica. The sample, the routes and a pause can be changed while the
// proxy runs (SetSamplePercent, SetRouteDisabled, Pause, Resume, Settings).
// Request bodies too large to hold in memory are spooled to a temp file on
// their way to the primary and mirrored from there, up to
// MaxStreamBodyBytes.
//
// Each upstream has transports of its own, built from its Target's TLS
// settings (a private CA, a client certificate, a server name) and
// Protocol (see package wire): a request keeps the HTTP version its client
// spoke where the upstream can, so that an HTTP/2 client (gRPC, trailers)
// reaches it over HTTP/2 and an HTTP/1.1 client over HTTP/1.1. A failure
// reaching an upstream is sorted by kind (tls, refused, timeout, protocol,
// reset, other), recorded on the exchange, counted per upstream
// (Stats.Failures) and, the first of each kind, logged with its reason.
//
// gRPC calls (HTTP/2 with a gRPC Content-Type) have a path of their own
// (grpc.go): their body is a stream, forwarded as it arrives and copied
// for the candidate once the client half-closes; unary and
// server-streaming calls are mirrored, client-streaming and bidi ones
// only on a route with GRPCStreams; the client's deadline goes to the
// copies; and a trailers-only answer reaches the client whole.
package mirror
