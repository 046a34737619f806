package wire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// protoEcho answers with the protocol the request arrived in and, after a
// space, its Upgrade, HTTP2-Settings and Connection headers.
var protoEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "%s upgrade=%q settings=%q connection=%q", r.Proto,
		r.Header.Get("Upgrade"), r.Header.Get("Http2-Settings"), r.Header.Get("Connection"))
})

// serve starts NewServer(c, h) on a loopback port and returns its base URL.
// Cleanup shuts it down.
func serve(t *testing.T, c ServerConfig, h http.Handler) string {
	t.Helper()
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := NewServer(c, h)
	if err != nil {
		t.Fatal(err)
	}
	s.ErrorLog = quietLog
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_ = s.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return s.Scheme() + "://" + ln.Addr().String()
}

// client returns an HTTP client speaking protocols with tc's settings.
func client(t *testing.T, tc ClientTLS, protocols func(*http.Protocols)) *http.Client {
	t.Helper()
	var ps http.Protocols
	protocols(&ps)
	tr, err := NewTransport(&http.Transport{}, tc, &ps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: wait}
}

var (
	onlyHTTP1 = func(p *http.Protocols) { p.SetHTTP1(true) }
	onlyH2    = func(p *http.Protocols) { p.SetHTTP2(true) }
	onlyH2C   = func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) }
)

// get fetches url with c and returns the body, or the error.
func get(c *http.Client, url string, header ...string) (string, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return "", err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestPlainListener serves HTTP/1.1 and h2c with prior knowledge on one
// port, and an "Upgrade: h2c" request as the HTTP/1.1 request it also is.
func TestPlainListener(t *testing.T) {
	t.Parallel()
	base := serve(t, ServerConfig{}, protoEcho)
	tests := []struct {
		name      string
		protocols func(*http.Protocols)
		header    []string
		want      string
	}{
		{"HTTP/1.1", onlyHTTP1, nil, `HTTP/1.1 upgrade="" settings="" connection=""`},
		{"h2c prior knowledge", onlyH2C, nil, `HTTP/2.0 upgrade="" settings="" connection=""`},
		{"Upgrade: h2c", onlyHTTP1,
			[]string{"Connection", "Upgrade, HTTP2-Settings, X-Keep", "Upgrade", "h2c", "HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA"},
			`HTTP/1.1 upgrade="" settings="" connection="X-Keep"`},
		{"Upgrade: h2c beside another", onlyHTTP1,
			[]string{"Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c, echo", "HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA"},
			`HTTP/1.1 upgrade="echo" settings="" connection="Upgrade"`},
		{"WebSocket upgrade untouched", onlyHTTP1,
			[]string{"Connection", "Upgrade", "Upgrade", "websocket"},
			`HTTP/1.1 upgrade="websocket" settings="" connection="Upgrade"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := get(client(t, ClientTLS{}, tc.protocols), base+"/", tc.header...)
			if err != nil || got != tc.want {
				t.Errorf("got %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

// curl runs curl with args and returns its output; the test skips, saying
// so, when curl is not installed (.ci/run installs it).
func curl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("curl")
	if err != nil {
		t.Skipf("curl is not installed (%v): apt-get install curl, as .ci/run does", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-sS", "--max-time", "10"}, args...)...).CombinedOutput()
	return string(out), err
}

// TestCurl checks the listener with a client that is not Go's: curl
// --http2 over TLS gets HTTP/2 by ALPN; in the clear it asks to upgrade to
// h2c and is served HTTP/1.1; with prior knowledge it gets HTTP/2.
func TestCurl(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	certFile, keyFile := writePair(t, t.TempDir(), issue(t, ca, "server"))
	tlsBase := serve(t, ServerConfig{TLS: ServerTLS{CertFile: certFile, KeyFile: keyFile}}, protoEcho)
	plainBase := serve(t, ServerConfig{}, protoEcho)
	caFile := writeCA(t, ca)
	tests := []struct {
		name    string
		args    []string
		version string // curl's http_version
		body    string // the start of the answer
	}{
		{"--http2 -k over TLS", []string{"--http2", "-k", tlsBase + "/"}, "2", "HTTP/2.0 "},
		{"--http2 with the CA over TLS", []string{"--http2", "--cacert", caFile, tlsBase + "/"}, "2", "HTTP/2.0 "},
		{"--http1.1 over TLS", []string{"--http1.1", "--cacert", caFile, tlsBase + "/"}, "1.1", "HTTP/1.1 "},
		{"--http2 in the clear (Upgrade: h2c)", []string{"--http2", plainBase + "/"}, "1.1", `HTTP/1.1 upgrade="" settings="" connection=""`},
		{"--http2-prior-knowledge", []string{"--http2-prior-knowledge", plainBase + "/"}, "2", "HTTP/2.0 "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := curl(t, append([]string{"-w", `\n%{http_version}`}, tc.args...)...)
			i := strings.LastIndexByte(out, '\n')
			if err != nil || i < 0 {
				t.Fatalf("curl %s: %q (%v)", strings.Join(tc.args, " "), out, err)
			}
			if body, version := out[:i], out[i+1:]; version != tc.version || !strings.HasPrefix(body, tc.body) {
				t.Errorf("curl %s: HTTP/%s %q, want HTTP/%s %q...", strings.Join(tc.args, " "), version, body, tc.version, tc.body)
			}
		})
	}
}

// writePair writes p's certificate and key into dir and returns their paths.
func writePair(t testing.TB, dir string, p testio.Pair) (certFile, keyFile string) {
	t.Helper()
	return writeFile(t, dir, "cert.pem", p.CertPEM), writeFile(t, dir, "key.pem", p.KeyPEM)
}

// servedCN returns the common name of the certificate a new TLS
// connection to base is served.
func servedCN(t *testing.T, base string, pool *tls.Config) (string, error) {
	t.Helper()
	c, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), pool)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
}

// TestTLSListener serves h2 and http/1.1 by ALPN, and nothing below TLS
// 1.2.
func TestTLSListener(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	certFile, keyFile := writePair(t, t.TempDir(), issue(t, ca, "server"))
	base := serve(t, ServerConfig{TLS: ServerTLS{CertFile: certFile, KeyFile: keyFile}}, protoEcho)
	trust := ClientTLS{CAFile: writeCA(t, ca)}
	tests := []struct {
		name      string
		protocols func(*http.Protocols)
		want      string
	}{
		{"h2 by ALPN", func(p *http.Protocols) { p.SetHTTP1(true); p.SetHTTP2(true) }, "HTTP/2.0 "},
		{"only h2", onlyH2, "HTTP/2.0 "},
		{"only http/1.1", onlyHTTP1, "HTTP/1.1 "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := get(client(t, trust, tc.protocols), base+"/")
			if err != nil || !strings.HasPrefix(got, tc.want) {
				t.Errorf("got %q (%v), want %q...", got, err, tc.want)
			}
		})
	}
	t.Run("TLS 1.1 refused", func(t *testing.T) {
		_, err := servedCN(t, base, &tls.Config{RootCAs: ca.Pool(), MaxVersion: tls.VersionTLS11})
		if err == nil || ErrorKind(err) != KindTLS {
			t.Errorf("a TLS 1.1 handshake: %v, want it refused", err)
		}
	})
}

// TestMTLS refuses clients without a certificate the client CA signed.
func TestMTLS(t *testing.T) {
	t.Parallel()
	ca, clients, strangers := newCA(t), newCA(t), newCA(t)
	dir := t.TempDir()
	certFile, keyFile := writePair(t, dir, issue(t, ca, "server"))
	clientCA := writeFile(t, dir, "clients.pem", clients.PEM)
	base := serve(t, ServerConfig{TLS: ServerTLS{CertFile: certFile, KeyFile: keyFile, ClientCAFile: clientCA}}, protoEcho)
	clientPair := func(ca *testio.CA) ClientTLS {
		p, err := ca.Client("a client")
		if err != nil {
			t.Fatal(err)
		}
		d := t.TempDir()
		c, k := writePair(t, d, p)
		return ClientTLS{CAFile: writeCA(t, ca), CertFile: c, KeyFile: k}
	}
	trusted, stranger := clientPair(clients), clientPair(strangers)
	trusted.CAFile, stranger.CAFile = writeCA(t, ca), writeCA(t, ca)
	both := func(p *http.Protocols) { p.SetHTTP1(true); p.SetHTTP2(true) }
	tests := []struct {
		name      string
		tls       ClientTLS
		protocols func(*http.Protocols)
		ok        bool
	}{
		{"no certificate, h2", ClientTLS{CAFile: writeCA(t, ca)}, both, false},
		{"no certificate, http/1.1", ClientTLS{CAFile: writeCA(t, ca)}, onlyHTTP1, false},
		{"a certificate of another CA", stranger, both, false},
		{"a certificate of the client CA, h2", trusted, both, true},
		{"a certificate of the client CA, http/1.1", trusted, onlyHTTP1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := get(client(t, tc.tls, tc.protocols), base+"/")
			switch {
			case tc.ok && err != nil:
				t.Errorf("refused: %v", err)
			case !tc.ok && err == nil:
				t.Errorf("served %q, want the handshake refused", got)
			case !tc.ok && ErrorKind(err) != KindTLS:
				t.Errorf("error %q is of kind %q, want tls", err, ErrorKind(err))
			}
		})
	}
}

// TestCertReload rotates the certificate files under a running listener:
// the next handshake gets the new certificate, a bad new pair keeps the
// old one and is logged once, and a good one after it is served again.
func TestCertReload(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	dir := t.TempDir()
	certFile, keyFile := writePair(t, dir, issue(t, ca, "first"))
	var logs testio.Buffer
	base := serve(t, ServerConfig{
		TLS:               ServerTLS{CertFile: certFile, KeyFile: keyFile},
		CertCheckInterval: time.Nanosecond, // look at the files on every handshake
		Logger:            slog.New(slog.NewTextHandler(&logs, nil)),
	}, protoEcho)
	trust := &tls.Config{RootCAs: ca.Pool()}
	served := func(want string) {
		t.Helper()
		for range 3 { // a few handshakes: a bad pair is logged once only
			if got, err := servedCN(t, base, trust); err != nil || got != want {
				t.Fatalf("served %q (%v), want %q", got, err, want)
			}
		}
	}
	served("first")
	writePair(t, dir, issue(t, ca, "second"))
	served("second")

	writeFile(t, dir, "cert.pem", []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"))
	served("second")
	if n := strings.Count(logs.String(), "not reloaded"); n != 1 {
		t.Errorf("the bad pair was logged %d times, want once:\n%s", n, logs.String())
	}
	writePair(t, dir, issue(t, ca, "third"))
	served("third")
	if n := strings.Count(logs.String(), "certificate reloaded"); n != 2 {
		t.Errorf("%d reloads logged, want 2:\n%s", n, logs.String())
	}
}

// TestServerConfig checks what NewServer refuses, each error naming its key.
func TestServerConfig(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	dir := t.TempDir()
	certFile, keyFile := writePair(t, dir, issue(t, ca, "server"))
	garbage := writeFile(t, dir, "garbage.pem", []byte("not a certificate"))
	tests := []struct {
		name string
		tls  ServerTLS
		want string // in the error; "" for none
	}{
		{"none", ServerTLS{}, ""},
		{"both", ServerTLS{CertFile: certFile, KeyFile: keyFile}, ""},
		{"cert without key", ServerTLS{CertFile: certFile}, "cert_file and key_file: want both"},
		{"client CA without TLS", ServerTLS{ClientCAFile: certFile}, "client_ca_file: needs cert_file and key_file"},
		{"missing file", ServerTLS{CertFile: dir + "/nope.pem", KeyFile: keyFile}, "cert_file: certificate: stat " + dir + "/nope.pem"},
		{"not a pair", ServerTLS{CertFile: garbage, KeyFile: keyFile}, "cert_file: certificate " + `"` + garbage + `"`},
		{"client CA not PEM", ServerTLS{CertFile: certFile, KeyFile: keyFile, ClientCAFile: garbage}, "client_ca_file: " + `"` + garbage + `" holds no PEM certificate`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewServer(ServerConfig{TLS: tc.tls}, protoEcho)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("NewServer: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("NewServer: %v, want an error with %q", err, tc.want)
			case err == nil:
				if s.ReadHeaderTimeout != DefaultReadHeaderTimeout || s.IdleTimeout != DefaultIdleTimeout {
					t.Errorf("timeouts %s and %s, want the defaults", s.ReadHeaderTimeout, s.IdleTimeout)
				}
			}
		})
	}
}

// TestSlowClientsCutOff checks that a client that opens a connection and
// stalls, in a TLS handshake or in the h2c preface, is disconnected by
// ReadHeaderTimeout instead of holding the connection.
func TestSlowClientsCutOff(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	certFile, keyFile := writePair(t, t.TempDir(), issue(t, ca, "server"))
	short := ServerConfig{ReadHeaderTimeout: 100 * time.Millisecond}
	withTLS := short
	withTLS.TLS = ServerTLS{CertFile: certFile, KeyFile: keyFile}
	tests := []struct {
		name string
		cfg  ServerConfig
		send string
	}{
		{"TLS handshake never sent", withTLS, ""},
		{"TLS ClientHello cut short", withTLS, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"},
		{"h2c preface cut short", short, "PRI * HTTP/2.0\r\n"},
		{"HTTP/1.1 head cut short", short, "GET / HTTP/1.1\r\nHost: x\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := serve(t, tc.cfg, protoEcho)
			_, addr, _ := strings.Cut(base, "://")
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(wait))
			_, err = io.Copy(io.Discard, c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("the server kept a stalled connection open for %s", wait)
			}
		})
	}
}
