package mirror

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/understudy-dev/understudy/internal/testio"
	"github.com/understudy-dev/understudy/wire"
)

// BenchmarkProxyTLS is BenchmarkProxy over TLS end to end: the client
// speaks HTTPS to the front, HTTP/1.1 ("https1") or h2 by ALPN ("h2"), and
// the front speaks to an https primary (and candidate) signed by a private
// CA, keeping the client's protocol. Read the ratios to direct and to the
// plain ReverseProxy (the same transport) within one run.
//
//	go test -run '^$' -bench BenchmarkProxyTLS -benchtime 5000x ./mirror/
func BenchmarkProxyTLS(b *testing.B) {
	ca, err := testio.NewCA("bench")
	if err != nil {
		b.Fatal(err)
	}
	pair, err := ca.Server("bench", "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	cert, err := pair.TLS()
	if err != nil {
		b.Fatal(err)
	}
	caFile, err := testio.WriteFile(b.TempDir(), "ca.pem", ca.PEM)
	if err != nil {
		b.Fatal(err)
	}
	startTLS := func(h http.Handler) *httptest.Server {
		s := httptest.NewUnstartedServer(h)
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.EnableHTTP2 = true
		s.StartTLS()
		return s
	}
	primary, fast := startTLS(http.HandlerFunc(benchHandler)), startTLS(http.HandlerFunc(benchHandler))
	defer primary.Close()
	defer fast.Close()
	primaryURL, _ := url.Parse(primary.URL)
	trust := Target{TLS: wire.ClientTLS{CAFile: caFile}}

	for _, cl := range []struct {
		name  string
		major int
	}{{"https1", 1}, {"h2", 2}} {
		proxyCase := func(cfg Config) func(b *testing.B) (http.Handler, func() Stats, func()) {
			return func(b *testing.B) (http.Handler, func() Stats, func()) {
				cfg.Primary, cfg.Logger, cfg.PrimaryTarget, cfg.CandidateTarget = primary.URL, discardLogger, trust, trust
				p, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				return p, p.Stats, func() { _ = p.Close() }
			}
		}
		cases := []struct {
			name  string
			setup func(b *testing.B) (http.Handler, func() Stats, func()) // nil: the primary directly
		}{
			{name: "direct"},
			{name: "reverseproxy", setup: func(b *testing.B) (http.Handler, func() Stats, func()) {
				t, err := wire.NewTransport(newTransport(512), trust.TLS, wire.Auto.Protocols("https", cl.major))
				if err != nil {
					b.Fatal(err)
				}
				rp := &httputil.ReverseProxy{
					Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(primaryURL); pr.SetXForwarded() },
					Transport:  t,
					BufferPool: &bufferPool{},
				}
				return rp, nil, t.CloseIdleConnections
			}},
			{name: "proxy-no-mirror", setup: proxyCase(Config{Candidate: fast.URL, Routes: []Route{{Disabled: true}}})},
			{name: "proxy-fast-candidate", setup: proxyCase(Config{Candidate: fast.URL})},
		}
		for _, bc := range cases {
			b.Run(cl.name+"/"+bc.name, func(b *testing.B) {
				target := primary.URL
				var proxyStats func() Stats
				if bc.setup != nil {
					h, st, stop := bc.setup(b)
					front := startTLS(h)
					defer stop()
					defer front.Close()
					target, proxyStats = front.URL+"/orders/42", st
				}
				tr := &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true,
					TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, Protocols: wire.Auto.Protocols("https", cl.major)}
				client := &http.Client{Transport: tr}
				defer tr.CloseIdleConnections()
				get := func() {
					resp, err := client.Get(target)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || resp.ProtoMajor != cl.major {
						b.Fatalf("got %s %d, want HTTP/%d 200", resp.Proto, resp.StatusCode, cl.major)
					}
				}
				get() // warm up: handshakes done, pools filled
				measureLatency(b, get)
				reportDropped(b, proxyStats)
			})
		}
	}
}
