package mirror

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/understudy-dev/understudy/wire"
)

// gRPC calls. A request over HTTP/2 with Content-Type application/grpc (or
// application/grpc+proto and the like) is a gRPC call, and is served by
// serveGRPC rather than by the body buffering of ServeHTTP:
//
//   - Its body is a stream of messages that may never end while the
//     client waits for answers (a bidi call), so it is never read ahead
//     of the primary. The primary's transport reads it as it arrives,
//     through a grpcBody that keeps a copy (at most MaxBodyBytes, taken
//     from the MaxBufferedBytes budget as it grows) and queues the job
//     once the client has half-closed its side. A unary or
//     server-streaming call sends its one message and half-closes at
//     once, so its copy starts with the primary's call.
//   - Unary and server-streaming calls are mirrored, although their
//     method is POST: gRPC has no other method, and which calls have
//     side effects is said per method (a route with disabled: true), not
//     by the HTTP method. A call whose client sends more than one message
//     (client-streaming or bidi) is passed through and not mirrored
//     (Skipped["grpc_stream"]) unless its route sets GRPCStreams; the
//     method's descriptor says so up front when Config.GRPCMethods knows
//     it, else the second message does.
//   - No per-read deadline (BodyReadTimeout) applies to its body: a
//     stream's pauses are the client's to make, as through a plain
//     ReverseProxy.
//   - The primary's answer streams to the client through ReverseProxy
//     with FlushInterval -1, headers, messages and trailers (grpc-status,
//     grpc-message, grpc-status-details-bin) as they come, a
//     trailers-only answer as one HEADERS frame.
//   - The copies get the client's grpc-timeout, less the time the call
//     has waited, and never more than CandidateTimeout (grpcTimeout).
//     Their answers are read to their trailers: past MaxResponseBytes the
//     rest is read and dropped (constant memory, at most 64 MiB, within
//     CandidateTimeout), so that the gRPC status compare judges is known.

// GRPCMethods tells the proxy which gRPC methods take a stream of request
// messages, so that their calls are passed through from the start rather
// than from their second message. A resolver of descriptors is one
// (cmd/shadow wires protoschema.Schemas). ClientStreaming is called on
// the client's path: it must return at once, with known false for a
// method it has not learned yet.
type GRPCMethods interface {
	// ClientStreaming reports whether the method with the full name
	// ("/pkg.Service/Method") is client-streaming or bidi; known is false
	// when it cannot tell now.
	ClientStreaming(fullMethod string) (streaming, known bool)
}

// isGRPCRequest reports whether r is a gRPC call: HTTP/2 with a gRPC
// Content-Type (not gRPC-Web, which is HTTP/1 and its own protocol).
func isGRPCRequest(r *http.Request) bool {
	if r.ProtoMajor != 2 {
		return false
	}
	ct := r.Header["Content-Type"]
	return len(ct) > 0 && isGRPCType(ct[0])
}

// isGRPCType reports whether a Content-Type is gRPC's: application/grpc
// or application/grpc+<codec>, parameters aside.
func isGRPCType(ct string) bool {
	rest, ok := cutPrefixFold(ct, "application/grpc")
	if !ok {
		return false
	}
	return rest == "" || rest[0] == '+' || rest[0] == ';' || rest[0] == ' '
}

// cutPrefixFold is strings.CutPrefix ignoring ASCII case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// serveGRPC forwards a gRPC call to the primary and, when it is to be
// mirrored, queues its copy once the client's messages are all in (see
// grpcBody). Called by ServeHTTP for every gRPC call.
func (p *Proxy) serveGRPC(w http.ResponseWriter, r *http.Request) {
	w = &grpcWriter{ResponseWriter: w}
	rt, reason, ok := p.admit(r)
	if ok && (rt == nil || !rt.grpcStreams) && p.cfg.GRPCMethods != nil {
		if streaming, known := p.cfg.GRPCMethods.ClientStreaming(r.URL.Path); known && streaming {
			reason, ok = skipGRPCStream, false
		}
	}
	if !ok {
		p.counters.skipped[reason].Add(1)
		p.plain.ServeHTTP(w, r)
		return
	}
	j := p.newJob(r, rt, nil, 0, time.Now())
	j.grpc = true
	var fwd io.ReadCloser
	if r.Body != nil && r.Body != http.NoBody {
		b := &grpcBody{p: p, j: j, src: r.Body, limit: p.cfg.MaxBodyBytes, streams: rt != nil && rt.grpcStreams}
		j.gbody, fwd = b, b
	} else if !p.enqueue(j) { // no message at all: nothing to wait for
		p.plain.ServeHTTP(w, r)
		return
	}
	ctx := context.WithValue(r.Context(), jobKey{}, j)
	defer p.finishPrimary(j, r.Context()) // discards a body that never ended
	j.start = time.Now()
	p.teed.ServeHTTP(w, withBody(r, ctx, fwd, r.ContentLength))
}

// grpcWriter is the client's ResponseWriter for a gRPC call. It keeps a
// trailers-only answer (an error without messages: grpc-status in the
// headers, which gRPC allows in no other answer) in one HEADERS frame
// with END_STREAM. ReverseProxy with FlushInterval -1, or with any
// interval for an answer without Content-Length, flushes the headers
// from a timer as soon as it starts copying the body; when that flush
// wins the race with the end of the (empty) body, the client gets the
// headers as response headers, then an empty end of stream, and a gRPC
// client reads "server closed the stream without sending trailers"
// (INTERNAL) instead of the status. So it flushes nothing of such an
// answer; every other answer is flushed as ReverseProxy asks.
type grpcWriter struct {
	http.ResponseWriter
	trailersOnly bool // set by WriteHeader, before ReverseProxy's flush timer starts
}

// WriteHeader sends the status code and notes a trailers-only answer.
func (w *grpcWriter) WriteHeader(code int) {
	w.trailersOnly = len(w.Header()["Grpc-Status"]) > 0
	w.ResponseWriter.WriteHeader(code)
}

// Flush flushes what was written, unless the answer is trailers-only.
func (w *grpcWriter) Flush() {
	if w.trailersOnly {
		return
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the client's writer.
func (w *grpcWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// grpcFirstChunk is the smallest buffer a gRPC body is kept in: a unary
// request is one message, usually small, that arrives in one read, so the
// buffer is made its size (at least this) rather than firstBodyChunk.
const grpcFirstChunk = 256

// grpcHeaderLen is the length of a gRPC message's prefix: a flag byte and
// a 4-byte big-endian length.
const grpcHeaderLen = 5

// grpcBody is a gRPC call's request body as the primary's transport reads
// it (often from its own goroutine): every byte and error of the client's
// body is passed on as it comes, and a copy is kept for the candidate and
// secondary. It ends in exactly one of these ways, each counted once:
// queued (Mirrored) when the client half-closes, dropped (queue full),
// skipped for shutdown, body_size (past MaxBodyBytes), body_budget (past
// MaxBufferedBytes), body_error (the client's body failed), grpc_stream (a
// second message, without GRPCStreams) or stream (the primary stopped
// reading before the end: it answered early, or the call ended).
type grpcBody struct {
	p       *Proxy
	j       *job
	src     io.ReadCloser
	limit   int64
	streams bool // more than one message may be mirrored

	mu     sync.Mutex
	state  int32 // spoolReading, spoolComplete or spoolDiscarded
	buf    []byte
	held   int64 // budget bytes buf takes, while reading
	next   int   // offset in buf of the first message whose prefix is not parsed
	msgs   int   // messages begun so far
	parsed int   // messages whose prefix was parsed
}

// Read reads the client's body for the primary, keeping a copy.
func (b *grpcBody) Read(p []byte) (int, error) {
	n, err := b.src.Read(p)
	if n > 0 {
		b.keep(p[:n])
	}
	switch {
	case err == io.EOF:
		b.complete()
	case err != nil:
		b.discard(skipBodyError)
	}
	return n, err
}

// keep appends p to the copy, growing it within the limit and the budget.
func (b *grpcBody) keep(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != spoolReading {
		return
	}
	if int64(len(b.buf)+len(p)) > b.limit {
		b.discardLocked(skipBodySize)
		return
	}
	if len(b.buf)+len(p) > cap(b.buf) {
		c := min(max(2*int64(cap(b.buf)), int64(len(b.buf)+len(p)), grpcFirstChunk), b.limit)
		if !b.p.bodies.take(c - b.held) {
			b.discardLocked(skipBodyBudget)
			return
		}
		b.held = c
		grown := make([]byte, len(b.buf), c)
		copy(grown, b.buf)
		b.buf = grown
	}
	b.buf = append(b.buf, p...)
	// Count the messages begun: a second one makes this a stream.
	for len(b.buf) > b.next {
		if b.msgs == b.parsed { // the first byte of a new message
			b.msgs++
			if b.msgs > 1 && !b.streams {
				b.discardLocked(skipGRPCStream)
				return
			}
		}
		if len(b.buf) < b.next+grpcHeaderLen {
			break
		}
		b.next += grpcHeaderLen + int(binary.BigEndian.Uint32(b.buf[b.next+1:]))
		b.parsed++
	}
}

// Close closes the client's body. The transport closes it after reading
// it to its end, or when the primary's answer ended first (see finish).
func (b *grpcBody) Close() error {
	b.finish()
	return b.src.Close()
}

// finish ends a body whose end was not read: the transport closed it, or
// the primary's answer was delivered whole first. A primary often answers
// before its transport has read the client's half-close, which follows
// the message at once; a body that holds exactly one whole message then
// is the request of a unary or server-streaming call, and its copy is
// sent. Any other is discarded (Skipped["stream"]).
func (b *grpcBody) finish() {
	b.mu.Lock()
	one := b.state == spoolReading && b.msgs == 1 && b.parsed == 1 && len(b.buf) == b.next
	b.mu.Unlock()
	if one {
		b.complete()
	}
	b.discard(skipStream)
}

// complete queues the copy of a body read to its end.
func (b *grpcBody) complete() {
	b.mu.Lock()
	if b.state != spoolReading {
		b.mu.Unlock()
		return
	}
	b.state = spoolComplete
	j := b.j
	j.body, j.held = b.buf, b.held // given back by the last letGo once queued
	if j.body == nil {
		j.body = []byte{}
	}
	b.buf, b.held = nil, 0
	b.mu.Unlock()
	j.queued = time.Now() // MaxQueueWait counts from here
	if !b.p.enqueue(j) {  // counted there as dropped or shutdown
		b.p.bodies.give(j.held) // no worker will let go of it
	}
}

// discard gives the copy up, counting why, unless it is already complete
// or discarded.
func (b *grpcBody) discard(reason skipReason) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.discardLocked(reason)
}

func (b *grpcBody) discardLocked(reason skipReason) {
	if b.state != spoolReading {
		return
	}
	b.state = spoolDiscarded
	b.p.counters.skipped[reason].Add(1)
	b.p.bodies.give(b.held)
	b.buf, b.held = nil, 0
}

// setGRPCTimeout gives the copies of a gRPC call the client's deadline:
// its grpc-timeout less the time since the call arrived, at most
// CandidateTimeout. A call without one is sent without one; the copy is
// cut at CandidateTimeout all the same.
func (p *Proxy) setGRPCTimeout(j *job, h http.Header) {
	v := h["Grpc-Timeout"]
	if len(v) == 0 {
		return
	}
	d, ok := parseGRPCTimeout(v[0])
	if !ok {
		return // passed on as the client wrote it, as to the primary
	}
	d = min(d-time.Since(j.received), p.cfg.CandidateTimeout)
	h["Grpc-Timeout"] = []string{formatGRPCTimeout(max(d, time.Nanosecond))}
}

// grpcTimeoutUnits are grpc-timeout's units, from the finest.
var grpcTimeoutUnits = [...]struct {
	unit byte
	d    time.Duration
}{{'n', time.Nanosecond}, {'u', time.Microsecond}, {'m', time.Millisecond}, {'S', time.Second}, {'M', time.Minute}, {'H', time.Hour}}

// parseGRPCTimeout reads a grpc-timeout value: at most 8 digits and a
// unit (H, M, S, m, u, n).
func parseGRPCTimeout(s string) (time.Duration, bool) {
	if len(s) < 2 || len(s) > 9 {
		return 0, false
	}
	n, err := strconv.ParseUint(s[:len(s)-1], 10, 64)
	if err != nil {
		return 0, false
	}
	for _, u := range grpcTimeoutUnits {
		if u.unit == s[len(s)-1] {
			if n > uint64(1<<63-1)/uint64(u.d) {
				return 1<<63 - 1, true
			}
			return time.Duration(n) * u.d, true
		}
	}
	return 0, false
}

// formatGRPCTimeout writes d as a grpc-timeout value: in the finest unit
// that holds it in 8 digits, rounded up so the copy never gets less time
// than it has.
func formatGRPCTimeout(d time.Duration) string {
	const maxValue = 99999999
	for _, u := range grpcTimeoutUnits {
		n := d / u.d
		if d%u.d != 0 {
			n++ // rounded up, without overflowing near the largest Duration
		}
		if n <= maxValue {
			return strconv.FormatInt(int64(n), 10) + string(u.unit)
		}
	}
	return strconv.Itoa(maxValue) + "H"
}

// maxGRPCDrain bounds the bytes of a gRPC answer read and dropped past
// MaxResponseBytes to reach its trailers: an answer longer still is cut
// there, without its status, so that an endless one costs a worker a
// bounded read, not CandidateTimeout of reading.
const maxGRPCDrain = 64 << 20

// drainForTrailers reads and drops the rest of a gRPC answer that is over
// MaxResponseBytes, at most maxGRPCDrain bytes, so that its trailers (its
// gRPC status) arrive; the copy's deadline bounds the time it takes. It
// returns the bytes dropped.
func drainForTrailers(body io.Reader) (int64, error) {
	n, err := io.CopyN(io.Discard, body, maxGRPCDrain)
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// grpcProtocol is the protocol gRPC calls are spoken in to an upstream
// whose Target says p: HTTP/2 under wire.Auto, in the clear (h2c) to an
// http upstream, by ALPN (h2) to an https one; as p says otherwise.
func grpcProtocol(p wire.Protocol, scheme string) wire.Protocol {
	if p != "" && p != wire.Auto {
		return p
	}
	if scheme == "https" {
		return wire.H2
	}
	return wire.H2C
}
