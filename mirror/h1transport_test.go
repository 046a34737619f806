package mirror

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"
)

func TestH1TransportTakes(t *testing.T) {
	t.Parallel()
	tr := newH1Transport(newTransport(1), 1)
	defer tr.CloseIdleConnections()
	req := func(method, url string, body io.Reader, h ...string) *http.Request {
		r, err := http.NewRequest(method, url, body)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(h); i += 2 {
			r.Header.Set(h[i], h[i+1])
		}
		return r
	}
	tests := []struct {
		name string
		req  *http.Request
		want bool
	}{
		{"GET", req("GET", "http://a/x", nil), true},
		{"HEAD", req("HEAD", "http://a/x", nil), true},
		{"OPTIONS", req("OPTIONS", "http://a/x", nil), true},
		{"POST", req("POST", "http://a/x", nil), false},
		{"GET with a body", req("GET", "http://a/x", strings.NewReader("b")), false},
		{"https", req("GET", "https://a/x", nil), false},
		{"upgrade", req("GET", "http://a/x", nil, "Upgrade", "websocket"), false},
		{"expect", req("GET", "http://a/x", nil, "Expect", "100-continue"), false},
	}
	for _, tt := range tests {
		if got := tr.takes(tt.req); got != tt.want {
			t.Errorf("%s: takes = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// countConns returns a primary that answers "ok" and counts the
// connections it accepted.
func countConns(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	if handler == nil {
		handler = func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }
	}
	s := httptest.NewUnstartedServer(handler)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			n.Add(1)
		}
	}
	s.Start()
	t.Cleanup(func() { closeServer(s) })
	return s, &n
}

// TestH1TransportKeepsAlive checks that the primary's connection is reused
// from request to request, and not when the primary says it closes it.
func TestH1TransportKeepsAlive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		close     bool
		wantConns int64
	}{
		{"keep-alive", false, 1},
		{"Connection: close", true, 8}, // every request on its own connection
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			primary, conns := countConns(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.close {
					w.Header().Set("Connection", "close")
				}
				_, _ = io.WriteString(w, "ok")
			})
			f := startProxy(t, Config{Primary: primary.URL, Candidate: deadAddr(t), Routes: []Route{{Disabled: true}}})
			for range 4 {
				for _, method := range []string{"GET", "HEAD"} {
					res, body := f.do(t, method, "/orders/1", nil, nil)
					want := "ok"
					if method == "HEAD" {
						want = ""
					}
					if res.StatusCode != 200 || string(body) != want {
						t.Fatalf("%s: got %d %q, want 200 %q", method, res.StatusCode, body, want)
					}
				}
			}
			if got := conns.Load(); got != tt.wantConns {
				t.Errorf("primary accepted %d connections, want %d", got, tt.wantConns)
			}
		})
	}
}

// TestH1TransportRetriesClosedIdleConnection: a primary that closes each
// keep-alive connection after one answer (as a server's idle timeout
// does) costs the client nothing: the request is retried on a new one.
func TestH1TransportRetriesClosedIdleConnection(t *testing.T) {
	t.Parallel()
	primary := rawServer(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	f := startProxy(t, Config{Primary: primary, Candidate: deadAddr(t), Routes: []Route{{Disabled: true}}})
	for i := range 5 {
		res, body := f.get(t, "/x")
		if res.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("request %d: got %d %q, want 200 \"ok\"", i+1, res.StatusCode, body)
		}
	}
}

// TestH1Transport1xx: informational answers reach the client before the
// final one, as with http.Transport.
func TestH1Transport1xx(t *testing.T) {
	t.Parallel()
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		_, _ = io.WriteString(w, "final")
	})
	f := startProxy(t, Config{Primary: primary.URL, Candidate: deadAddr(t), Routes: []Route{{Disabled: true}}})
	var got []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		got = append(got, http.StatusText(code)+" "+h.Get("Link"))
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", f.srv.URL+"/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "final" {
		t.Errorf("final answer %d %q, want 200 \"final\"", res.StatusCode, body)
	}
	if want := "Early Hints </style.css>; rel=preload"; len(got) != 1 || got[0] != want {
		t.Errorf("informational answers %q, want [%q]", got, want)
	}
}
