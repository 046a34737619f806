// Package egress lets a parallel run mirror writes without their side
// effects. The candidate (and the secondary) run the real write path, but
// every call they make to a dependency is answered from what the
// primary's call to the same dependency got, and never reaches the
// dependency; what they would have sent is recorded and compared.
//
//	client ─► shadow ─► primary ──► egress(primary side) ──► real dependency   (forwarded, recorded)
//	              ├───► candidate ─► egress(candidate side) ─┐ answered from the primary's record,
//	              └───► secondary ─► egress(secondary side) ─┘ never forwarded; requests diffed
//
// # Listeners
//
// Each dependency (Config.Dependencies) gets one listener per side, and
// each service instance is given its own side's listener as the
// dependency's base URL, the usual way a service is pointed at a
// dependency in Kubernetes or environment config: the primary reaches
// "payments" at PrimaryListen, the candidate at CandidateListen. For
// services that send their calls through an HTTP proxy instead,
// Config.Proxy opens one forward-proxy listener per side for all
// dependencies (the service's HTTP_PROXY), which picks the dependency by
// the host asked for and serves nothing else.
//
// # Correlation
//
// Trace, in front of the mirror proxy, gives every client request one W3C
// traceparent (the client's when it is valid, else a new one); the proxy
// copies it to the secondary and candidate with the other headers.
// TraceEach gives every request a new trace instead, so that requests that
// share a client's trace id never share a record; Config.Trace picks one
// of the two (TraceMode.Middleware), TraceEach by default.
// Services that propagate trace context (any OpenTelemetry-instrumented
// service does) carry its trace id to their outbound calls. A call is
// keyed by trace id + method + dependency + path template + ordinal among
// the side's calls with the same trace id, method, dependency and
// template. The template is the first of the dependency's Routes that
// matches the path ("/charges/{id}"), or the path itself.
//
// # The sides
//
//   - Primary: forwarded to the real dependency by httputil.ReverseProxy,
//     its answer streamed back unchanged and undelayed, and recorded on
//     the way: request and answer bodies up to Limits.MaxBodyBytes, within
//     Limits.MaxMemoryBytes. Recording never fails or delays the
//     primary's call; a call with no traceparent is forwarded and not
//     recorded.
//   - Secondary and candidate: never forwarded; their handlers have no
//     transport at all. A call waits (at most Limits.MaxWait; the copies
//     start together with the primary's request) for the primary's call
//     with the same key to be answered whole, and gets that answer. A call
//     with no match, no traceparent, or a primary answer that was not
//     recorded whole gets a 503 whose body says why and whose
//     X-Shadow-Egress-Refused header names the Reason, and is counted in
//     Stats.
//
// Take returns a trace's calls from every side, redacted like capture
// files (capture.Redactor), to attach to the exchange; Differ pairs the
// candidate's calls with the primary's per endpoint and ordinal and diffs
// their requests with the compare engine: "candidate called POST payments
// /charges with $.amount 10.01 where the primary sent 10.00", "candidate
// made 2 calls to POST payments /charges where the primary made 1",
// "candidate did not call POST payments /notify".
//
// # Bounds
//
// Everything held is bounded by Limits: body bytes per call, calls per
// side per trace, the age of a trace (RecordTTL) and the bytes of all
// records together (MaxMemoryBytes; the oldest traces are evicted first,
// counted). Expired traces are swept when new ones arrive: the store runs
// no goroutine of its own. The id of an evicted trace is remembered for
// RecordTTL (at most 4096 of them), and the trace's later calls are
// refused as evicted (the primary's forwarded, not recorded) rather than
// recorded afresh, where they would be misread as calls the primary never
// made.
//
// # Limits of the approach
//
//   - Only calls made through egress are covered. A database, queue or
//     cache the candidate reaches directly is written for real: give the
//     candidate its own copy (a scratch database or schema, a
//     per-candidate queue), or keep its routes unmirrored.
//   - A service must propagate the traceparent of the request it serves
//     to its outbound calls, and take its dependency URLs from config. A
//     call without trace context is refused on the copy sides, never sent.
//   - Calls are matched by key, not by content: a candidate that sends a
//     different body gets the primary's answer to the primary's body (and
//     the difference is reported). Calls to the same endpoint in one
//     trace pair up in the order each side made them.
//   - With Trace (TraceClient), several client requests that share one
//     trace id (a client that sends its own traceparent for many
//     requests) share one record, so their calls pair up by arrival order
//     across those requests, and the first exchange to complete takes
//     them all. TraceEach, the default, avoids this.
//   - HTTP only: CONNECT tunnels (https through the forward proxy) are
//     refused on every side; a protocol upgrade (WebSocket) is forwarded
//     for the primary but not recorded, and refused on the other sides.
//     An https dependency is reached by base URL: egress speaks TLS to
//     Upstream.
//   - Trailers of the dependency's answers are not recorded.
package egress
