// Package admin is the operator's door into a running shadow or synth: an
// HTTP server for dashboards, Prometheus and kill switches, and the client
// that a terminal dashboard uses to attach to it from elsewhere.
//
// The server knows nothing about proxies or load runners. An instance plugs
// in through seams in [Config]: a Snapshot function that returns its
// current state as any JSON-encodable value, a [Controller] that pauses,
// resumes, re-rates, stops or kills it, and Handlers for endpoints of its
// own (a scheduler's history), guarded like the rest. A Controller that is
// also a [Tuner] can be tuned live: the share of traffic mirrored, and which
// routes.
//
// # Endpoints
//
//	GET  /                 plain-text list of these endpoints
//	GET  /healthz          200 "ok" while the process lives
//	GET  /readyz           200 "ok", or 503 with the error from Config.Ready
//	GET  /metrics          Prometheus text format from Config.Registry
//	GET  /snapshot         JSON of Config.Snapshot()                     (guarded)
//	GET  /snapshot/stream  the same as newline-delimited JSON, one line  (guarded)
//	                       per Config.StreamInterval; also /snapshot?stream=1
//	POST /control          {"action":"pause"|"resume"|"rate"|"stop"|"kill",
//	                        "rate":120} → {"ok":true,"action":"rate","rate":100}
//	                       {"action":"sample","percent":25}             (Tuner)
//	                       {"action":"route","route":"create-order",
//	                        "disabled":true}                            (Tuner)
//	                                                                     (guarded)
//	GET  /debug/pprof/     profiles from runtime/pprof and runtime/trace (guarded)
//	     /other/paths      the instance's own, from Config.Handlers       (guarded)
//
// Errors from the guarded endpoints are JSON objects {"ok":false,"error":"..."}
// whose message says what was wrong; the status tells the class: 400 bad
// command, 401 missing or wrong token, 403 host not allowed, 404 feature not
// configured, 405 wrong method, 413 body too large, 415 not JSON, 501 action
// unsupported by this instance, 503 too many streams.
//
// # Security
//
// The server binds to 127.0.0.1:9090 by default. [Config.Validate] refuses a
// non-loopback address (including an empty host such as ":9090", which means
// every interface) unless a Token of at least [MinTokenBytes] bytes is set.
// With a Token, the guarded endpoints require "Authorization: Bearer <token>"
// (compared in constant time) and answer 401 otherwise; /healthz, /readyz
// and /metrics stay open for probes and scrapers.
//
// Without a Token (loopback only), the guarded endpoints answer only
// requests whose Host is an IP address or "localhost", so a web page cannot
// reach them through DNS rebinding, and only requests that a web page on
// another site cannot send: any page the operator has open can point an
// <img> tag or a form at 127.0.0.1, and the browser sends such a "simple"
// request without asking. So a profile, a trace, a snapshot stream, /control
// and anything but GET or HEAD of the instance's own Handlers want the
// header [RequestHeader] ("X-Admin-Request: 1", which [Client] sends), or a
// request a browser would first send a CORS preflight for, which the server
// never grants (/control's Content-Type application/json is one); a browser
// navigation the user typed or that came from the server's own pages
// (Sec-Fetch-Site none or same-origin) is let through too. A plain GET of
// /snapshot and of the Handlers stays open: a cheap read whose answer the
// page cannot read. With curl:
//
//	curl -X POST -H 'Content-Type: application/json' -d '{"action":"pause"}' http://127.0.0.1:9090/control
//	curl -H 'X-Admin-Request: 1' -o heap.pprof http://127.0.0.1:9090/debug/pprof/heap
//
// The profiling handlers are written here against runtime/pprof instead of
// importing net/http/pprof, whose init registers them on
// http.DefaultServeMux: a service that serves the default mux anywhere else
// in the process would then expose profiles on its public port. The index,
// named profiles (heap, goroutine, allocs, block, mutex, threadcreate, with
// debug= and gc=), a CPU profile (seconds=, at most five minutes) and an
// execution trace are served; delta profiles, /cmdline (which would show
// tokens passed as flags) and /symbol are not. Profiles end early when the
// client goes away or the server shuts down.
//
// # Lifecycle
//
// [New] validates a Config and builds the server without touching the
// network. [Server.Listen] binds the port, so the caller can log or test
// against [Server.Addr] before serving; [Server.Run] serves until its context
// is done (listening first if Listen was not called), then shuts down
// gracefully: open snapshot streams and profiles end at once, requests in
// flight get Config.ShutdownTimeout to finish, and Run returns with the port
// closed. [Server.Close] stops everything at once and is safe to call twice.
// [Server.Handler] serves the same endpoints without a listener, for
// httptest.
//
//	srv, err := admin.New(admin.Config{Snapshot: proxy.Snapshot, Control: proxy})
//	if err != nil { return err }
//	if err := srv.Listen(); err != nil { return err }
//	slog.Info("admin listening", "addr", srv.Addr())
//	return srv.Run(ctx)
//
// # Client
//
// [Client] is what `shadow tui --attach URL` and `synth tui --attach URL` use:
// one call per snapshot, a reader for the stream, Control, and Sample and
// Route for the tuning actions. It sends [RequestHeader] on every request.
// Its errors name the URL and the status and carry the server's message; a
// 501 unwraps to [ErrUnsupported], and an answer that is not an admin
// server's (a 404 page, HTML for a snapshot) to [ErrNotAdmin].
package admin
