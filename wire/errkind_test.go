package wire

import (
	"bufio"
	"cmp"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// TestErrorKind sends real requests that fail in real ways and checks the
// kind each error is given.
func TestErrorKind(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	other := newCA(t)
	tlsServer := func(t *testing.T, ca *testio.CA, mtls bool, h1only bool) string {
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		s.Config.ErrorLog = quietLog
		s.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert(t, ca)}}
		if mtls {
			s.TLS.ClientAuth = tls.RequireAndVerifyClientCert
			s.TLS.ClientCAs = ca.Pool()
		}
		s.EnableHTTP2 = !h1only
		s.StartTLS()
		t.Cleanup(s.Close)
		return s.URL
	}
	plain := func(t *testing.T) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		t.Cleanup(s.Close)
		return s.URL
	}
	raw := func(t *testing.T, serve func(c net.Conn)) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		t.Cleanup(func() { ln.Close(); wg.Wait() })
		wg.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				wg.Go(func() {
					defer c.Close()
					_ = c.SetDeadline(time.Now().Add(wait))
					serve(c)
				})
			}
		})
		return "http://" + ln.Addr().String()
	}
	dead := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		return "http://" + ln.Addr().String()
	}
	trusting := func(ca *testio.CA) ClientTLS { return ClientTLS{CAFile: writeCA(t, ca)} }
	tests := []struct {
		name     string
		url      func(t *testing.T) string
		tls      ClientTLS
		protocol Protocol
		timeout  time.Duration
		want     string
	}{
		{name: "unknown authority", url: func(t *testing.T) string { return tlsServer(t, ca, false, false) }, tls: trusting(other), want: KindTLS},
		{name: "no client certificate", url: func(t *testing.T) string { return tlsServer(t, ca, true, false) }, tls: trusting(ca), want: KindTLS},
		{name: "no client certificate over HTTP/1.1", url: func(t *testing.T) string { return tlsServer(t, ca, true, false) }, tls: trusting(ca), protocol: HTTP1, want: KindTLS},
		{name: "wrong name", url: func(t *testing.T) string { return tlsServer(t, ca, false, false) }, tls: ClientTLS{CAFile: writeCA(t, ca), ServerName: "elsewhere.test"}, want: KindTLS},
		{name: "TLS to a plain server", url: func(t *testing.T) string { return "https" + plain(t)[4:] }, want: KindTLS},
		{name: "h2 to an HTTP/1-only server", url: func(t *testing.T) string { return tlsServer(t, ca, false, true) }, tls: trusting(ca), protocol: H2, want: KindProtocol},
		{name: "h2c to an HTTP/1-only server", url: plain, protocol: H2C, want: KindProtocol},
		{name: "garbage", url: func(t *testing.T) string {
			return raw(t, func(c net.Conn) {
				_, _ = http.ReadRequest(bufio.NewReader(c))
				_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n")
			})
		}, want: KindProtocol},
		{name: "refused", url: dead, want: KindRefused},
		{name: "reset", url: func(t *testing.T) string {
			return raw(t, func(c net.Conn) {
				_, _ = http.ReadRequest(bufio.NewReader(c))
				_ = c.(*net.TCPConn).SetLinger(0)
			})
		}, want: KindReset},
		{name: "closed", url: func(t *testing.T) string {
			return raw(t, func(c net.Conn) { _, _ = http.ReadRequest(bufio.NewReader(c)) })
		}, want: KindReset},
		{name: "timeout", url: func(t *testing.T) string {
			return raw(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
		}, timeout: 50 * time.Millisecond, want: KindTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := tc.url(t)
			scheme, _, _ := strings.Cut(u, ":")
			tr, err := NewTransport(&http.Transport{}, tc.tls, tc.protocol.Protocols(scheme, 0))
			if err != nil {
				t.Fatal(err)
			}
			defer tr.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(tc.timeout, wait))
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", u+"/", nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got %s, want an error", resp.Status)
			}
			if got := ErrorKind(err); got != tc.want {
				t.Errorf("ErrorKind(%q) = %q, want %q", err, got, tc.want)
			}
		})
	}
	if got := ErrorKind(nil); got != "" {
		t.Errorf("ErrorKind(nil) = %q, want none", got)
	}
}
