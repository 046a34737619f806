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
// # WebSockets
//
// An upgrade passes through httputil.ReverseProxy, which joins the
// client's connection to the primary's byte for byte. A route with
// Route.WebSocket mirrors the connection too, without changing a byte of
// it or waiting for anything mirrored: the primary's connection is
// tapped, its frames read as they pass in each direction (after a write,
// before a read returns, by a bounded parser that hands each message on
// without waiting), and:
//
//   - The candidate and the secondary are asked to upgrade with the
//     client's request (its headers, the forwarding headers and the
//     marker, each Target's edits), each with a key of its own and no
//     extension offered. The upgrade is an exchange of its own
//     (exchange.WebSocket.Message 0): the three answers' status and
//     headers, Sec-WebSocket-Accept and Sec-WebSocket-Extensions left out.
//     A candidate that answers another status is counted
//     (WebSocketStats.Refused), and nothing more of the connection is
//     compared.
//   - The client's text and binary messages are replayed to each side in
//     the order the client sent them, whole (fragments joined). Pings and
//     pongs are not: each end answers its own. The client's close frame is
//     passed on once the side has sent as many messages as the primary
//     did, has closed, or had Config.CandidateTimeout after the client's
//     connection ended.
//   - Server messages are paired by position: the primary's n-th message
//     on the connection with the candidate's n-th and the secondary's
//     n-th on theirs. Each pair is an exchange (Message n), its body the
//     payload, so the compare engine judges it as it judges answers (JSON
//     field by field, noise learned from the secondary's n-th message),
//     under the upgrade's endpoint; the message type (text, binary) is a
//     header, Websocket-Message.
//
// The rule's limits. Position is all the proxy knows: a message only one
// side sends (a server push the candidate does not make, one reply more)
// shifts every later pair, and shows as a run of differences from there.
// Messages whose order depends on timing (a periodic tick between
// replies) pair differently from run to run. A counterpart that has not
// come CandidateTimeout after the primary's message is a candidate
// timeout; if it comes later it is counted (Late) and dropped, and the
// next one pairs with the next. Close frames are not compared; a side
// whose connection ended leaves the primary's later messages without a
// counterpart (candidate errors). Mirrored connections never offer
// permessage-deflate (RFC 7692): when the client and the primary
// negotiated it, the messages are inflated by the session, off the
// client's path (each direction with its window, with or without context
// takeover), and the candidate's uncompressed messages are compared with
// the primary's inflated ones. Any other extension, or a message that
// does not inflate, leaves the connection passed through and not
// compared (Unfollowed).
//
// Bounds. At most Config.Workers connections are mirrored at once (more
// pass through, Skipped). Each holds at most 256 messages in each queue
// (taps to session, session to each side) and 4 times the larger of
// MaxBodyBytes and MaxResponseBytes in message bytes, which count in
// MaxBufferedBytes with request bodies; a client message over
// MaxBodyBytes cannot be replayed, and a server message is kept up to
// MaxResponseBytes (compared as a truncated prefix past it). Whatever
// does not fit is dropped and counted (Dropped), never waited for; since
// pairing is by position, the connection is not compared past a message
// lost to the candidate. A session is five goroutines at most (its own,
// and a writer and a reader per side), and ends with the client's
// connection, CandidateTimeout later at most, or at Shutdown.
package mirror
