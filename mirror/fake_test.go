package mirror

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// wait bounds every wait in the tests: generous, so a slow CI machine never
// fails a correct test, and finite, so a broken one fails instead of hanging.
const wait = 10 * time.Second

// gate is a channel a test closes to let a fake backend go on. Closing it
// twice is harmless, so cleanups can always close it.
type gate struct {
	ch   chan struct{}
	once sync.Once
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

// seen is one request as a fake backend received it.
type seen struct {
	Method, URI, Host string
	Proto             string // the HTTP version it arrived in
	Header            http.Header
	Body              []byte
}

// closeServer closes s without waiting on requests still in progress: in a
// passing test there are none, and in a failing one a handler stuck on a
// gate must not turn the failure into a hang. Closing the connections
// cancels the handlers' contexts, which every fake handler honours.
func closeServer(s *httptest.Server) {
	s.CloseClientConnections()
	s.Close()
}

// backend is a loopback HTTP server that records what it receives and
// answers with handler (200 "ok" when nil).
type backend struct {
	*httptest.Server
	got chan seen
}

func newBackend(t *testing.T, handler http.HandlerFunc) *backend {
	t.Helper()
	return newBackendWith(t, handler, (*httptest.Server).Start)
}

// newBackendWith is newBackend started by start, which may configure the
// server first (TLS, protocols).
func newBackendWith(t *testing.T, handler http.HandlerFunc, start func(*httptest.Server)) *backend {
	t.Helper()
	b := &backend{got: make(chan seen, 100)}
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.got <- seen{Method: r.Method, URI: r.RequestURI, Host: r.Host, Proto: r.Proto, Header: r.Header.Clone(), Body: body}
		if handler == nil {
			_, _ = io.WriteString(w, "ok")
			return
		}
		handler(w, r)
	}))
	start(b.Server)
	t.Cleanup(func() { closeServer(b.Server) })
	return b
}

// next returns the next request the backend received.
func (b *backend) next(t *testing.T) seen {
	t.Helper()
	select {
	case s := <-b.got:
		return s
	case <-time.After(wait):
		t.Fatal("backend received no request")
		return seen{}
	}
}

// gated answers "late" once g is open (or gives up when the request is
// cancelled); arrived receives a value when a request is waiting.
func gated(g *gate, arrived chan<- struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if arrived != nil {
			arrived <- struct{}{}
		}
		select {
		case <-g.ch:
			_, _ = io.WriteString(w, "late")
		case <-r.Context().Done():
		}
	}
}

// rawServer is a TCP server that speaks no HTTP of its own: serve gets
// every connection after the request head was read, and closes it.
func rawServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(wait))
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				serve(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// deadAddr returns a loopback URL nothing listens on: connections are
// refused.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// collector is an Observer that hands exchanges to the test.
type collector chan *exchange.Exchange

func newCollector() collector { return make(collector, 100) }

func (c collector) Observe(x *exchange.Exchange) { c <- x }

// next returns the next observed exchange.
func (c collector) next(t *testing.T) *exchange.Exchange {
	t.Helper()
	select {
	case x := <-c:
		return x
	case <-time.After(wait):
		t.Fatal("no exchange observed")
		return nil
	}
}

// none checks that nothing more is observed once the proxy is closed.
func (c collector) none(t *testing.T) {
	t.Helper()
	select {
	case x := <-c:
		t.Errorf("unexpected exchange observed: %s %s", x.Request.Method, x.Request.URL)
	default:
	}
}

// front is a Proxy served on loopback, with a client for it.
type front struct {
	*Proxy
	srv    *httptest.Server
	client *http.Client
}

// newTestProxy starts a Proxy for cfg, quiet unless cfg has a Logger.
// Cleanup closes it.
func newTestProxy(t testing.TB, cfg Config) *Proxy {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discardLogger
	}
	if cfg.MaxQueueWait == 0 {
		// Tests hold copies in the queue behind gated candidates for as long
		// as they need: the default (1s) would make them depend on how
		// loaded the machine is. Tests of MaxQueueWait set it themselves.
		cfg.MaxQueueWait = 2 * wait
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// startProxy starts a Proxy for cfg behind a loopback server. Cleanup
// stops the server, then the proxy.
func startProxy(t *testing.T, cfg Config) *front {
	t.Helper()
	return startProxyWith(t, cfg, nil)
}

// startProxyWith is startProxy with a hook that may adjust the proxy
// before it serves its first request.
func startProxyWith(t *testing.T, cfg Config, adjust func(p *Proxy)) *front {
	t.Helper()
	p := newTestProxy(t, cfg)
	if adjust != nil {
		adjust(p)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(func() { closeServer(srv) })
	return &front{Proxy: p, srv: srv, client: srv.Client()}
}

// do sends a request to the proxy and reads the whole answer.
func (f *front) do(t *testing.T, method, path string, body io.Reader, header http.Header) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return resp, got
}

// get is do for a GET without body.
func (f *front) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	return f.do(t, http.MethodGet, path, nil, nil)
}
