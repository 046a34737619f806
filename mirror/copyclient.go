package mirror

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"
)

// copyClient sends the copies of plain HTTP/1.1 requests to one upstream
// (the candidate or the secondary) from the worker's own goroutine: it
// writes the request with net/http's writer (http.Request.Write, the one
// http.Transport uses) and reads the answer with net/http's parser
// (http.ReadResponse), on connections it keeps alive itself. What it
// saves over http.Transport is the hand-offs: a Transport request goes
// from the caller's goroutine to the connection's write loop and its
// answer back from the read loop, three goroutines woken per request,
// which on a machine where a wake-up is dear is about a fifth of a
// copy's CPU (BenchmarkCopyClient).
//
// Only the copies use it, never the primary: a client's answer never
// depends on it, and FuzzCopyDifferential holds what it makes of every
// answer (status, headers, body, trailers, the kind of failure) to what
// http.Transport makes of it. Requests it is not made for go through
// fallback, the upstream's http.Transport: a body that is not in memory
// or is larger than copyMaxBody (the request is written whole before its
// answer is read: a server that answers early could otherwise block the
// write), "Expect: 100-continue", upgrades, CONNECT.
//
// The zero value is not usable; see newCopyClient.
type copyClient struct {
	addr     string // host:port
	dialer   net.Dialer
	maxIdle  int
	fallback http.RoundTripper

	mu   sync.Mutex
	idle []*copyConn // most recently used last
}

// Limits of a copyClient, as http.Transport's in newTransport.
const (
	// copyMaxBody is the largest request body sent by a copyClient: small
	// enough to sit in the socket's buffers whether or not the upstream
	// reads it before answering.
	copyMaxBody = 64 << 10
	// copyMaxHeaderBytes bounds an answer's head, 1xx answers included:
	// http.Transport's default MaxResponseHeaderBytes.
	copyMaxHeaderBytes = 10 << 20
	// copyIdleTimeout is how long an idle connection is kept.
	copyIdleTimeout = 90 * time.Second
	// copyConnBuffer is the size of each connection's read and write
	// buffers, http.Transport's default.
	copyConnBuffer = 4 << 10
)

// newCopyClient returns a copyClient to the host:port addr, keeping at
// most maxIdle idle connections, that sends what it is not made for
// through fallback.
func newCopyClient(addr string, maxIdle int, fallback http.RoundTripper) *copyClient {
	return &copyClient{
		addr:     addr,
		dialer:   net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		maxIdle:  maxIdle,
		fallback: fallback,
	}
}

// fits reports whether req is a request the copyClient sends itself.
func fits(req *http.Request) bool {
	switch {
	case req.URL.Scheme != "http", req.Method == http.MethodConnect, req.Trailer != nil,
		len(req.Header["Upgrade"]) > 0, len(req.Header["Expect"]) > 0:
		return false
	case req.Body == nil || req.Body == http.NoBody:
		return true
	}
	return req.GetBody != nil && req.ContentLength > 0 && req.ContentLength <= copyMaxBody
}

// RoundTrip sends req and reads its answer's head; the body is read from
// the connection as the caller reads it. Like http.Transport, it sends a
// request once more on a new connection when a kept-alive one turns out
// to have been closed by the upstream, if nothing of it was written or it
// may be repeated (http.Request's rules: GET, HEAD, OPTIONS, TRACE, or an
// Idempotency-Key).
func (c *copyClient) RoundTrip(req *http.Request) (*http.Response, error) {
	if !fits(req) {
		return c.fallback.RoundTrip(req)
	}
	if err := validHeader(req.Header); err != nil {
		return nil, err
	}
	ctx := req.Context()
	for retry := false; ; retry = true {
		cc, err := c.conn(ctx)
		if err != nil {
			return nil, err
		}
		res, err := cc.roundTrip(ctx, c, req)
		if err == nil {
			return res, nil
		}
		var lost *lostConnError
		if retry || !cc.reused || !errors.As(err, &lost) || !(lost.nothingWritten || replayable(req)) {
			return nil, err
		}
		if req.GetBody != nil {
			again := *req
			if again.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
			req = &again
		}
	}
}

// validHeader refuses what http.Transport refuses to send.
func validHeader(h http.Header) error {
	for k, vv := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("net/http: invalid header field name %q", k)
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("net/http: invalid header field value for %q", k)
			}
		}
	}
	return nil
}

// replayable is http.Request's rule for sending a request again.
func replayable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return len(req.Header["Idempotency-Key"]) > 0 || len(req.Header["X-Idempotency-Key"]) > 0
}

// conn returns an idle connection that is still open and quiet, or a new
// one.
func (c *copyClient) conn(ctx context.Context) (*copyConn, error) {
	now := time.Now()
	for {
		c.mu.Lock()
		n := len(c.idle)
		if n == 0 {
			c.mu.Unlock()
			break
		}
		cc := c.idle[n-1]
		c.idle[n-1] = nil
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		if now.Sub(cc.idleSince) < copyIdleTimeout && cc.quiet() {
			return cc, nil
		}
		cc.close()
	}
	nc, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	cc := &copyConn{conn: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		cc.raw, _ = sc.SyscallConn()
	}
	cc.br = bufio.NewReaderSize(&cc.counted, copyConnBuffer)
	cc.bw = bufio.NewWriterSize(&cc.counted, copyConnBuffer)
	cc.counted.conn = nc
	return cc, nil
}

// put keeps cc for the next request, unless enough are kept already.
func (c *copyClient) put(cc *copyConn) {
	if cc.br.Buffered() > 0 { // bytes nobody asked for: the next answer would not be its own
		cc.close()
		return
	}
	_ = cc.conn.SetDeadline(time.Time{}) // quiet's peek must not meet the last request's deadline
	cc.idleSince, cc.reused = time.Now(), true
	c.mu.Lock()
	if len(c.idle) < c.maxIdle {
		c.idle = append(c.idle, cc)
		cc = nil
	}
	c.mu.Unlock()
	if cc != nil {
		cc.close()
	}
}

// CloseIdleConnections closes the idle connections, and the fallback's.
func (c *copyClient) CloseIdleConnections() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, cc := range idle {
		cc.close()
	}
	closeIdle(c.fallback)
}

// copyConn is one connection of a copyClient, used by one request at a
// time.
type copyConn struct {
	conn      net.Conn
	raw       syscall.RawConn // for quiet; nil when the connection has none
	counted   countedConn     // under br and bw
	br        *bufio.Reader
	bw        *bufio.Writer
	reused    bool // it served a request before
	idleSince time.Time
}

// countedConn is a copyConn's connection as its buffers see it: it counts
// the bytes written (to tell a request that never left from one that
// did), and it limits the bytes read while limit is positive (the head of
// an answer).
type countedConn struct {
	conn    net.Conn
	written int64
	limit   int64 // bytes the head may still take; 0: no limit
}

func (c *countedConn) Read(p []byte) (int, error) {
	if c.limit == 0 {
		return c.conn.Read(p)
	}
	if c.limit < 0 {
		return 0, errHeadTooLarge
	}
	if int64(len(p)) > c.limit {
		p = p[:c.limit]
	}
	n, err := c.conn.Read(p)
	if c.limit -= int64(n); c.limit == 0 {
		c.limit = -1 // spent, not unlimited
	}
	return n, err
}

func (c *countedConn) Write(p []byte) (int, error) {
	n, err := c.conn.Write(p)
	c.written += int64(n)
	return n, err
}

var errHeadTooLarge = fmt.Errorf("net/http: server response headers exceeded %d bytes; aborted", copyMaxHeaderBytes)

// lostConnError is a kept-alive connection found closed (or failing)
// before any of its answer arrived: the request may be sent again on a
// new one (copyClient.RoundTrip).
type lostConnError struct {
	err            error
	nothingWritten bool
}

func (e *lostConnError) Error() string { return e.err.Error() }

func (e *lostConnError) Unwrap() error { return e.err }

// quiet reports whether an idle connection is still open with nothing
// unasked for to read, without waiting: one non-blocking peek at the
// socket. http.Transport learns it from a read loop that is always
// reading; a copyClient has none, so it looks when it takes the
// connection.
func (cc *copyConn) quiet() bool {
	if cc.raw == nil {
		return false
	}
	var (
		buf  [1]byte
		open bool
	)
	err := cc.raw.Read(func(fd uintptr) bool {
		open = peekWouldBlock(fd, buf[:])
		return true // never wait
	})
	return err == nil && open
}

// roundTrip sends req on cc and reads its answer's head, skipping 1xx
// answers as http.Transport does. The connection's deadline is ctx's, and
// it is cut when ctx is cancelled.
func (cc *copyConn) roundTrip(ctx context.Context, c *copyClient, req *http.Request) (*http.Response, error) {
	deadline, _ := ctx.Deadline()
	_ = cc.conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = cc.conn.SetDeadline(aLongTimeAgo) })
	fail := func(err error) (*http.Response, error) {
		stop()
		cc.close()
		return nil, err
	}

	before := cc.counted.written
	err := req.Write(cc.bw)
	if err == nil {
		err = cc.bw.Flush()
	}
	if err != nil {
		if cc.reused {
			err = &lostConnError{err: err, nothingWritten: cc.counted.written == before}
		}
		return fail(err)
	}
	cc.counted.limit = copyMaxHeaderBytes
	if _, err := cc.br.Peek(1); err != nil {
		if cc.reused && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
			err = &lostConnError{err: err} // not one byte of an answer: the upstream had closed it
		}
		return fail(err) // as http.Transport says it: not decorated
	}
	var res *http.Response
	for {
		if res, err = http.ReadResponse(cc.br, req); err != nil {
			if cc.counted.limit < 0 {
				err = errHeadTooLarge
			}
			return fail(fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", err))
		}
		if res.StatusCode < 100 || res.StatusCode > 199 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	cc.counted.limit = 0
	b := &copyBody{c: c, cc: cc, body: res.Body, stop: stop,
		keep: !res.Close && !req.Close && res.StatusCode != http.StatusSwitchingProtocols}
	if res.Body == http.NoBody {
		b.finish(true)
		return res, nil
	}
	res.Body = b
	return res, nil
}

// close closes cc's connection.
func (cc *copyConn) close() { _ = cc.conn.Close() }

// aLongTimeAgo is a deadline that has passed: setting it unblocks a
// connection's reads and writes at once.
var aLongTimeAgo = time.Unix(1, 0)

// copyBody is an answer's body as a copyClient hands it out: read to its
// end, its connection goes back to the pool (when the answer allows);
// closed before, or broken, the connection is closed. It is read and
// closed by one goroutine.
type copyBody struct {
	c    *copyClient
	cc   *copyConn
	body io.ReadCloser // http.ReadResponse's
	stop func() bool   // ends the connection's tie to the request's context
	keep bool          // the connection may serve another request
	done bool
}

func (b *copyBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, errBodyDone
	}
	n, err := b.body.Read(p)
	if err != nil {
		b.finish(err == io.EOF)
	}
	return n, err
}

func (b *copyBody) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

var errBodyDone = errors.New("http: read on closed response body")

// finish lets go of the connection: back to the pool when the body was
// read to its end, the answer allows it and the context did not cut it.
func (b *copyBody) finish(eof bool) {
	b.done = true
	if b.stop() && eof && b.keep {
		b.c.put(b.cc)
		return
	}
	b.cc.close()
}
