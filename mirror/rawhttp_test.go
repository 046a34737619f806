package mirror

import (
	"bufio"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The fault matrix and the differential fuzz test speak raw HTTP/1.x on
// both sides, so that what they compare is what a client sees on the wire
// and what an upstream sends is exactly what it means to send, broken or
// not: no client library smooths over a stray byte.

// answer is what a raw client saw for one request.
type answer struct {
	Info    []int       // 1xx informational statuses before the final answer
	Proto   string      // of the final answer
	Status  int         // 0 when none arrived
	Header  http.Header // without Date, which differs by the second
	Body    string
	Trailer http.Header
	Err     string // what went wrong reading it: "" when nothing did
}

// ok reports whether a is a complete answer from the upstream: no read
// error, and not made up by a proxy (502, and the 408 and 400 shadow gives
// a client whose body stalled or broke, carry no upstream header).
func (a answer) ok() bool {
	if a.Err != "" || a.Status == 0 {
		return false
	}
	switch a.Status {
	case http.StatusBadGateway, http.StatusRequestTimeout, http.StatusBadRequest:
		return a.Header.Get("X-Upstream") != ""
	}
	return true
}

// rawReq is one request a raw client sends.
type rawReq struct {
	method string
	raw    string // the request as written on the wire; "": only read an answer (to one pipelined before)
}

// request builds a raw HTTP/1.1 request for path with extra header lines
// and a body with its Content-Length.
func request(method, path, body string, header ...string) rawReq {
	var b strings.Builder
	b.WriteString(method + " " + path + " HTTP/1.1\r\nHost: shadow.test\r\n")
	for _, h := range header {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n" + body)
	return rawReq{method: method, raw: b.String()}
}

// rawClient sends requests one after the other on one keep-alive
// connection to addr, opening a new one after a connection ends, and
// returns what it saw for each. between, when set, runs after each answer.
func rawClient(t testing.TB, addr string, reqs []rawReq, between func(i int, a answer)) []answer {
	t.Helper()
	var (
		conn net.Conn
		br   *bufio.Reader
	)
	defer func() {
		if conn != nil {
			_ = conn.Close()
		}
	}()
	out := make([]answer, len(reqs))
	for i, rq := range reqs {
		if conn == nil && rq.raw == "" {
			out[i] = answer{Err: "closed"} // nothing was pipelined on a new connection
			continue
		}
		if conn == nil {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("dial %s: %v", addr, err)
			}
			conn, br = c, bufio.NewReader(c)
		}
		_ = conn.SetDeadline(time.Now().Add(wait))
		a, keep := roundTrip(conn, br, rq)
		out[i] = a
		if !keep {
			_ = conn.Close()
			conn = nil
		}
		if between != nil {
			between(i, a)
		}
	}
	return out
}

// roundTrip writes rq on conn and reads its answer; keep reports whether
// the connection may carry another request.
func roundTrip(conn net.Conn, br *bufio.Reader, rq rawReq) (a answer, keep bool) {
	if _, err := io.WriteString(conn, rq.raw); rq.raw != "" && err != nil {
		a.Err = errClass(err)
		return a, false
	}
	req := &http.Request{Method: rq.method}
	for {
		res, err := http.ReadResponse(br, req)
		if err != nil {
			a.Err = errClass(err)
			return a, false
		}
		if res.StatusCode >= 100 && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols {
			a.Info = append(a.Info, res.StatusCode)
			continue
		}
		a.Proto, a.Status, a.Header = res.Proto, res.StatusCode, res.Header
		a.Header.Del("Date")
		body, err := io.ReadAll(res.Body)
		a.Body = string(body)
		if err != nil {
			a.Err = errClass(err)
			return a, false
		}
		if len(res.Trailer) > 0 {
			a.Trailer = res.Trailer
		}
		return a, !res.Close && res.StatusCode != http.StatusSwitchingProtocols
	}
}

// errClass names a read or write error by kind, so that the same failure
// compares equal whichever syscall noticed it first.
func errClass(err error) string {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "closed"
	}
	return "malformed"
}

// neverWorse fails t unless every answer the client got through shadow is
// as good as the one it got through the plain proxy: the same complete
// answer where the plain proxy gave one, and no complete answer where it
// gave none (the error may differ: shadow's 502 has a body, and a stalled
// body gets 408 from shadow).
func neverWorse(t testing.TB, shadow, plain []answer) {
	t.Helper()
	for i := range plain {
		s, p := shadow[i], plain[i]
		switch {
		case p.ok() && s.ok():
			if diff := cmp.Diff(p, s); diff != "" {
				t.Errorf("request %d: shadow's client saw another answer than the plain proxy's (-plain +shadow):\n%s", i, diff)
			}
		case p.ok():
			t.Errorf("request %d: shadow's client got no answer (%d %q, %s) where the plain proxy's got %d %q",
				i, s.Status, s.Body, s.Err, p.Status, p.Body)
		case s.ok():
			t.Errorf("request %d: shadow's client got %d %q where the plain proxy's got none (%d, %s): an answer that is not its own?",
				i, s.Status, s.Body, p.Status, p.Err)
		}
	}
}

// upConn is one connection of an upstream.
type upConn struct {
	net.Conn
	br *bufio.Reader
}

// closedByPeer waits, at most wait, for the other side (the proxy's
// transport) to close the connection, and reports whether it did; bytes
// it sends instead are left for the next ReadRequest.
func (c *upConn) closedByPeer() bool {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	defer func() { _ = c.SetReadDeadline(time.Now().Add(wait)) }()
	_, err := c.br.Peek(1)
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// startUpstream starts a raw TCP upstream on loopback, for upstreams that
// break HTTP on purpose: serve gets every request, read with
// http.ReadRequest, and its connection, and says whether to read another
// one from it. Cleanup closes the listener and every connection, then
// waits for serve to return.
func startUpstream(t testing.TB, serve func(c *upConn, req *http.Request) (more bool)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					_ = c.Close()
				}()
				uc := &upConn{Conn: c, br: bufio.NewReader(c)}
				for {
					_ = c.SetDeadline(time.Now().Add(wait))
					req, err := http.ReadRequest(uc.br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if !serve(uc, req) {
						return
					}
				}
			})
		}
	})
	return "http://" + ln.Addr().String()
}

// plainProxy is the baseline: an httputil.ReverseProxy with a default
// http.Transport in front of primary, nothing else.
func plainProxy(t testing.TB, primary string) (http.Handler, *http.Transport) {
	t.Helper()
	u, err := url.Parse(primary)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
		Transport: tr,
		ErrorLog:  discardLogLogger,
	}
	return rp, tr
}

// discardLogLogger keeps the servers' and the plain proxy's expected
// complaints about broken upstreams out of the test output.
var discardLogLogger = log.New(io.Discard, "", 0)

// shadowFront starts a Proxy for cfg (newTestProxy) served on loopback
// with adjust applied to its server, and returns it with its address.
func shadowFront(t testing.TB, cfg Config, adjust func(*http.Server)) (*Proxy, string) {
	t.Helper()
	p := newTestProxy(t, cfg)
	return p, serveFront(t, p, adjust)
}

// serveFront serves h on loopback with adjust applied to its server (nil
// for the defaults) and returns its address. Cleanup closes it.
func serveFront(t testing.TB, h http.Handler, adjust func(*http.Server)) string {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = discardLogLogger
	if adjust != nil {
		adjust(s.Config)
	}
	s.Start()
	t.Cleanup(func() { closeServer(s) })
	return s.Listener.Addr().String()
}
