package mirror

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/internal/testio"
	"github.com/understudy-dev/understudy/wire"
)

// serveAs is how a test upstream speaks.
type serveAs int

const (
	asHTTP1    serveAs = iota // HTTP/1.1 in the clear
	asH2C                     // HTTP/1.1 and h2c (prior knowledge) in the clear
	asTLS                     // TLS, h2 and http/1.1 by ALPN
	asTLSHTTP1                // TLS, http/1.1 only
)

// start returns how to start a server speaking a, with a certificate of
// ca for TLS; mtls also requires a client certificate ca signed.
func (a serveAs) start(t *testing.T, ca *testio.CA, mtls bool) func(*httptest.Server) {
	return func(s *httptest.Server) {
		s.Config.ErrorLog = discardLogLogger
		switch a {
		case asHTTP1:
			s.Start()
		case asH2C:
			s.Config.Protocols = &http.Protocols{}
			s.Config.Protocols.SetHTTP1(true)
			s.Config.Protocols.SetUnencryptedHTTP2(true)
			s.Start()
		case asTLS, asTLSHTTP1:
			pair, err := ca.Server("upstream", "127.0.0.1", "localhost")
			if err != nil {
				t.Fatal(err)
			}
			cert, err := pair.TLS()
			if err != nil {
				t.Fatal(err)
			}
			s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			if mtls {
				s.TLS.ClientCAs, s.TLS.ClientAuth = ca.Pool(), tls.RequireAndVerifyClientCert
			}
			s.EnableHTTP2 = a == asTLS
			s.StartTLS()
		}
	}
}

// testCA returns a private CA for t and the path of its ca_file.
func testCA(t *testing.T) (*testio.CA, string) {
	t.Helper()
	ca, err := testio.NewCA(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	path, err := testio.WriteFile(t.TempDir(), "ca.pem", ca.PEM)
	if err != nil {
		t.Fatal(err)
	}
	return ca, path
}

// clientCert writes a client certificate of ca and returns its files.
func clientCert(t *testing.T, ca *testio.CA) (certFile, keyFile string) {
	t.Helper()
	p, err := ca.Client("shadow")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, err = testio.WriteFile(dir, "client.pem", p.CertPEM)
	if err == nil {
		keyFile, err = testio.WriteFile(dir, "client-key.pem", p.KeyPEM)
	}
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// wireFront serves h with wire's listener in the clear (HTTP/1.1 and h2c)
// and returns its base URL. Cleanup closes it.
func wireFront(t *testing.T, h http.Handler) string {
	t.Helper()
	s, err := wire.NewServer(wire.ServerConfig{Logger: discardLogger}, h)
	if err != nil {
		t.Fatal(err)
	}
	s.ErrorLog = discardLogLogger
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// protoClient returns a client speaking HTTP/major to a server in the
// clear: HTTP/1.1, or HTTP/2 with prior knowledge.
func protoClient(t *testing.T, major int) *http.Client {
	t.Helper()
	tr := &http.Transport{Protocols: &http.Protocols{}}
	if major == 2 {
		tr.Protocols.SetUnencryptedHTTP2(true)
	} else {
		tr.Protocols.SetHTTP1(true)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: wait}
}

// fetch GETs url with c and returns the answer's protocol, status and body.
func fetch(t *testing.T, c *http.Client, url string) (proto string, status int, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.Proto, resp.StatusCode, string(b)
}

// TestClientProtocolKept checks which HTTP version each upstream is
// spoken to in, as the upstream sees it (r.Proto): the client's under
// auto where the upstream can, the one configured otherwise.
func TestClientProtocolKept(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		as       serveAs
		protocol wire.Protocol
		client   int    // the client's HTTP major version
		want     string // what primary and candidate see
	}{
		{"HTTP/1.1 client, TLS upstream offering h2, auto", asTLS, wire.Auto, 1, "HTTP/1.1"},
		{"HTTP/2 client, TLS upstream offering h2, auto", asTLS, "", 2, "HTTP/2.0"},
		{"HTTP/2 client, TLS upstream without h2, auto", asTLSHTTP1, wire.Auto, 2, "HTTP/1.1"},
		{"HTTP/2 client, upstream in the clear, auto", asH2C, wire.Auto, 2, "HTTP/1.1"},
		{"HTTP/1.1 client, h2c upstream, h2c", asH2C, wire.H2C, 1, "HTTP/2.0"},
		{"HTTP/2 client, h2c upstream, h2c", asH2C, wire.H2C, 2, "HTTP/2.0"},
		{"HTTP/2 client, TLS upstream, http1", asTLS, wire.HTTP1, 2, "HTTP/1.1"},
		{"HTTP/1.1 client, TLS upstream, h2", asTLS, wire.H2, 1, "HTTP/2.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ca, caFile := testCA(t)
			var tlsCfg wire.ClientTLS
			if tc.as == asTLS || tc.as == asTLSHTTP1 {
				tlsCfg.CAFile = caFile
			}
			answer := func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "primary "+r.Proto) }
			primary := newBackendWith(t, answer, tc.as.start(t, ca, false))
			candidate := newBackendWith(t, nil, tc.as.start(t, ca, false))
			target := Target{TLS: tlsCfg, Protocol: tc.protocol}
			obs := newCollector()
			p := newTestProxy(t, Config{
				Primary: primary.URL, Candidate: candidate.URL, Observer: obs,
				PrimaryTarget: target, CandidateTarget: target,
			})
			base := wireFront(t, p)

			proto, status, body := fetch(t, protoClient(t, tc.client), base+"/p")
			if wantProto := map[int]string{1: "HTTP/1.1", 2: "HTTP/2.0"}[tc.client]; proto != wantProto || status != 200 || body != "primary "+tc.want {
				t.Errorf("client got %s %d %q, want %s 200 %q", proto, status, body, wantProto, "primary "+tc.want)
			}
			x := obs.next(t)
			if !x.Candidate.OK() {
				t.Fatalf("candidate failed: %s", x.Candidate.Error)
			}
			got := []string{primary.next(t).Proto, candidate.next(t).Proto}
			if want := []string{tc.want, tc.want}; !cmp.Equal(got, want) {
				t.Errorf("primary and candidate saw %q, want %q", got, want)
			}
		})
	}
}

// TestHTTPSUpstreams sends copies to https candidates and secondaries
// with a private CA, with and without what it takes to reach them, and
// checks the copies, the failures counted by kind and what is logged.
func TestHTTPSUpstreams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mtls      bool // the copies' upstream requires a client certificate
		tls       func(t *testing.T, caFile string, ca *testio.CA) wire.ClientTLS
		wantKind  string         // the copies' error kind; "" for answers
		wantWhy   string         // in the reason
		wantLines map[string]int // log lines that must appear, and how often
	}{
		{
			name:      "private CA trusted",
			tls:       func(_ *testing.T, caFile string, _ *testio.CA) wire.ClientTLS { return wire.ClientTLS{CAFile: caFile} },
			wantLines: map[string]int{"failed": 0, "not verified": 0},
		},
		{
			name:     "private CA unknown",
			tls:      func(*testing.T, string, *testio.CA) wire.ClientTLS { return wire.ClientTLS{} },
			wantKind: wire.KindTLS, wantWhy: "x509: certificate signed by unknown authority",
			wantLines: map[string]int{"candidate failed: the first tls failure": 1, "secondary failed: the first tls failure": 1},
		},
		{
			name:      "insecure_skip_verify",
			tls:       func(*testing.T, string, *testio.CA) wire.ClientTLS { return wire.ClientTLS{InsecureSkipVerify: true} },
			wantLines: map[string]int{"failed": 0, `msg="TLS certificates not verified`: 2}, // candidate and secondary, once each
		},
		{
			name: "mTLS without a client certificate", mtls: true,
			tls:      func(_ *testing.T, caFile string, _ *testio.CA) wire.ClientTLS { return wire.ClientTLS{CAFile: caFile} },
			wantKind: wire.KindTLS, wantWhy: "certificate",
			wantLines: map[string]int{"candidate failed: the first tls failure": 1, "secondary failed: the first tls failure": 1},
		},
		{
			name: "mTLS with a client certificate", mtls: true,
			tls: func(t *testing.T, caFile string, ca *testio.CA) wire.ClientTLS {
				c, k := clientCert(t, ca)
				return wire.ClientTLS{CAFile: caFile, CertFile: c, KeyFile: k}
			},
			wantLines: map[string]int{"failed": 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ca, caFile := testCA(t)
			primary := newBackend(t, nil)
			copies := newBackendWith(t, nil, asTLS.start(t, ca, tc.mtls))
			var logs testio.Buffer
			target := Target{TLS: tc.tls(t, caFile, ca)}
			obs := newCollector()
			f := startProxy(t, Config{
				Primary: primary.URL, Candidate: copies.URL, Secondary: strings.Replace(copies.URL, "127.0.0.1", "localhost", 1),
				CandidateTarget: target, SecondaryTarget: target, Observer: obs,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			const requests = 3
			for range requests {
				f.get(t, "/copy")
				x := obs.next(t)
				for _, r := range []struct{ side, kind, err string }{
					{"candidate", x.Candidate.ErrorKind, x.Candidate.Error},
					{"secondary", x.Secondary.ErrorKind, x.Secondary.Error},
				} {
					if r.kind != tc.wantKind || !strings.Contains(r.err, tc.wantWhy) {
						t.Errorf("%s: error %q of kind %q, want kind %q with %q", r.side, r.err, r.kind, tc.wantKind, tc.wantWhy)
					}
				}
			}
			var want []Failure
			if tc.wantKind != "" {
				want = []Failure{{Upstream: "candidate", Kind: tc.wantKind, Count: requests}, {Upstream: "secondary", Kind: tc.wantKind, Count: requests}}
			}
			got := f.Stats().Failures
			for i := range got {
				if !strings.Contains(got[i].Reason, tc.wantWhy) {
					t.Errorf("failure %d: reason %q, want %q in it", i, got[i].Reason, tc.wantWhy)
				}
				got[i].Reason = ""
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Stats.Failures (-want +got):\n%s", diff)
			}
			for line, n := range tc.wantLines {
				if got := strings.Count(logs.String(), line); got != n {
					t.Errorf("%q logged %d times, want %d:\n%s", line, got, n, logs.String())
				}
			}
		})
	}
}

// TestHTTPSPrimaryFailure checks that a primary the proxy cannot reach
// over TLS answers the client 502 and is counted and recorded as a TLS
// failure, its reason logged.
func TestHTTPSPrimaryFailure(t *testing.T) {
	t.Parallel()
	ca, _ := testCA(t)
	primary := newBackendWith(t, nil, asTLS.start(t, ca, false))
	var logs testio.Buffer
	obs := newCollector()
	f := startProxy(t, Config{
		Primary: primary.URL, Candidate: newBackend(t, nil).URL, Observer: obs,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if resp, _ := f.get(t, "/p"); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("client got %d, want 502", resp.StatusCode)
	}
	x := obs.next(t)
	if x.Primary.ErrorKind != wire.KindTLS {
		t.Errorf("primary error %q of kind %q, want tls", x.Primary.Error, x.Primary.ErrorKind)
	}
	if s := f.Stats(); len(s.Failures) != 1 || s.Failures[0].Upstream != "primary" || s.Failures[0].Kind != wire.KindTLS || s.PrimaryErrors != 1 {
		t.Errorf("failures %+v, primary errors %d; want one tls failure of the primary", s.Failures, s.PrimaryErrors)
	}
	if !strings.Contains(logs.String(), "kind=tls") || !strings.Contains(logs.String(), "unknown authority") {
		t.Errorf("the log does not name the TLS failure:\n%s", logs.String())
	}
}

// TestTargetTLSConfig checks the errors of TLS and protocol settings that
// do not fit their upstream, each named by its key.
func TestTargetTLSConfig(t *testing.T) {
	t.Parallel()
	_, caFile := testCA(t)
	missing := t.TempDir() + "/missing.pem"
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"tls on http", Config{Primary: "http://p", Candidate: "http://c", CandidateTarget: Target{TLS: wire.ClientTLS{CAFile: caFile}}},
			`candidate_target.tls: set, but candidate "http://c" is not an https:// URL`},
		{"h2 on http", Config{Primary: "http://p", Candidate: "http://c", PrimaryTarget: Target{Protocol: wire.H2}},
			`primary_target.protocol: "h2" needs an https:// upstream`},
		{"h2c on https", Config{Primary: "http://p", Candidate: "http://c", Secondary: "https://s", SecondaryTarget: Target{Protocol: wire.H2C}},
			`secondary_target.protocol: "h2c" needs an http:// upstream`},
		{"unknown protocol", Config{Primary: "http://p", Candidate: "http://c", CandidateTarget: Target{Protocol: "spdy"}},
			`candidate_target.protocol: "spdy" is not a protocol`},
		{"cert without key", Config{Primary: "https://p", Candidate: "http://c", PrimaryTarget: Target{TLS: wire.ClientTLS{CertFile: caFile}}},
			`primary_target.tls: cert_file and key_file: want both`},
		{"missing ca_file", Config{Primary: "http://p", Candidate: "https://c", CandidateTarget: Target{TLS: wire.ClientTLS{CAFile: missing}}},
			`candidate_target.tls: ca_file: open ` + missing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = discardLogger
			p, err := New(tc.cfg)
			if err == nil {
				p.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error with %q", err, tc.want)
			}
		})
	}
}
