package mirror

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"syscall"
	"time"
)

// h1Transport is the primary's default transport: plain HTTP/1.1 with
// keep-alive, writing the request and reading the answer's head in the
// calling goroutine. http.Transport hands every request to a write-loop
// goroutine and every answer back from a read-loop goroutine; on a busy
// machine each hand-off is a wake-up the client waits for, and without
// them the added latency at 0 ms fell by about a sixth (see the commit).
//
// It takes only the common case: GET, HEAD or OPTIONS over http with no
// body and no protocol upgrade. Everything else (https, HTTP/2, bodies,
// upgrades, Expect) goes to fallback, an http.Transport, unchanged. The
// bytes on the wire are Request.Write's, which http.Transport also uses,
// and the answer is read by http.ReadResponse: framing, trailers and HEAD
// are the standard library's. 1xx answers are passed to the request's
// httptrace hook as http.Transport does (ReverseProxy relays them). A
// reused connection the upstream closed while idle is retried once on a
// new one, as the requests taken are idempotent.
type h1Transport struct {
	fallback *http.Transport
	dialer   net.Dialer
	maxIdle  int // idle connections kept per host

	mu   sync.Mutex
	idle map[string][]*h1Conn // by host:port; most recently used last
}

// h1Conn is one keep-alive connection to an upstream.
type h1Conn struct {
	conn net.Conn
	lr   io.LimitedReader // bounds the answer's head; lifted for the body
	br   *bufio.Reader
	bw   *bufio.Writer
	used time.Time // when it went idle
}

// Limits shared with http.Transport's defaults.
const (
	h1MaxHeaderBytes = 10 << 20 // an answer's head, 1xx answers included
	h1IdleTimeout    = 90 * time.Second
	h1Max1xx         = 5 // 1xx answers accepted before the final one
)

// newH1Transport returns an h1Transport keeping up to maxIdle idle
// connections per host, handing what it does not take to fallback.
func newH1Transport(fallback *http.Transport, maxIdle int) *h1Transport {
	return &h1Transport{
		fallback: fallback,
		dialer:   net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		maxIdle:  maxIdle,
		idle:     make(map[string][]*h1Conn),
	}
}

// takes reports whether req is one h1Transport sends itself.
func (t *h1Transport) takes(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return false
	}
	return req.URL.Scheme == "http" && (req.Body == nil || req.Body == http.NoBody) &&
		len(req.Header["Upgrade"]) == 0 && len(req.Header["Expect"]) == 0
}

// RoundTrip sends req and returns the upstream's answer; its body must be
// closed, which returns the connection to the pool when it was read to its
// end.
func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.takes(req) {
		return t.fallback.RoundTrip(req)
	}
	ctx, host := req.Context(), req.URL.Host
	for {
		c, reused, err := t.get(ctx, host)
		if err != nil {
			return nil, err
		}
		res, err := t.exchange(ctx, c, req)
		if err == nil {
			return res, nil
		}
		_ = c.conn.Close()
		if !reused || ctx.Err() != nil || !(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
			return nil, err
		}
		// The upstream closed the idle connection: retry on another.
	}
}

// exchange writes req on c and reads the answer's head.
func (t *h1Transport) exchange(ctx context.Context, c *h1Conn, req *http.Request) (*http.Response, error) {
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err)
	}
	c.lr.N = h1MaxHeaderBytes
	trace := httptrace.ContextClientTrace(ctx)
	for n := 0; ; n++ {
		res, err := http.ReadResponse(c.br, req)
		if err != nil {
			return fail(err)
		}
		if res.StatusCode < 100 || res.StatusCode > 199 || res.StatusCode == http.StatusSwitchingProtocols {
			c.lr.N = math.MaxInt64
			res.Body = &h1Body{src: res.Body, t: t, host: req.URL.Host, c: c, stop: stop, reuse: !res.Close}
			return res, nil
		}
		if n >= h1Max1xx {
			return fail(errors.New("too many 1xx informational answers"))
		}
		if trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(res.StatusCode, textproto.MIMEHeader(res.Header)); err != nil {
				return fail(err)
			}
		}
	}
}

// get returns an idle connection to host, or dials one.
func (t *h1Transport) get(ctx context.Context, host string) (c *h1Conn, reused bool, err error) {
	now := time.Now()
	t.mu.Lock()
	for l := t.idle[host]; len(l) > 0; l = t.idle[host] {
		c, t.idle[host] = l[len(l)-1], l[:len(l)-1]
		if now.Sub(c.used) < h1IdleTimeout {
			t.mu.Unlock()
			return c, true, nil
		}
		_ = c.conn.Close()
	}
	t.mu.Unlock()
	conn, err := t.dialer.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, false, err
	}
	c = &h1Conn{conn: conn, bw: bufio.NewWriter(conn)}
	c.lr = io.LimitedReader{R: conn, N: math.MaxInt64}
	c.br = bufio.NewReader(&c.lr)
	return c, false, nil
}

// put makes c idle, or closes it when host has enough idle connections.
func (t *h1Transport) put(host string, c *h1Conn) {
	c.used = time.Now()
	t.mu.Lock()
	if l := t.idle[host]; len(l) < t.maxIdle {
		t.idle[host] = append(l, c)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	_ = c.conn.Close()
}

// CloseIdleConnections closes every idle connection, its own and the
// fallback's.
func (t *h1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = make(map[string][]*h1Conn)
	t.mu.Unlock()
	for _, l := range idle {
		for _, c := range l {
			_ = c.conn.Close()
		}
	}
	t.fallback.CloseIdleConnections()
}

// h1Body is an answer's body: it returns the connection to the pool once
// read to its end and closed, and closes it otherwise (a body abandoned
// half-way is never drained, however large).
type h1Body struct {
	src         io.ReadCloser
	t           *h1Transport
	host        string
	c           *h1Conn
	stop        func() bool // stops the cancellation hook; false once it ran
	reuse       bool
	eof, closed bool
}

// Read reads the body.
func (b *h1Body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	n, err := b.src.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// Close ends the exchange.
func (b *h1Body) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if !b.eof {
		_ = b.c.conn.Close() // before src.Close, which would drain the rest
		b.stop()
		_ = b.src.Close()
		return nil
	}
	err := b.src.Close()
	if b.stop() && b.reuse && b.c.br.Buffered() == 0 {
		b.t.put(b.host, b.c)
	} else {
		_ = b.c.conn.Close()
	}
	return err
}
