package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// tlsFiles is a private CA with a server certificate for 127.0.0.1 and a
// client certificate, written to files.
type tlsFiles struct {
	ca                                               *testio.CA
	caFile, certFile, keyFile, clientCert, clientKey string
	server                                           tls.Certificate
}

func newTLSFiles(t *testing.T) tlsFiles {
	t.Helper()
	ca, err := testio.NewCA(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Server("shadow", "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	cli, err := ca.Client("client")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := tlsFiles{ca: ca}
	for _, w := range []struct {
		path *string
		name string
		data []byte
	}{
		{&f.caFile, "ca.pem", ca.PEM}, {&f.certFile, "cert.pem", srv.CertPEM}, {&f.keyFile, "key.pem", srv.KeyPEM},
		{&f.clientCert, "client.pem", cli.CertPEM}, {&f.clientKey, "client-key.pem", cli.KeyPEM},
	} {
		if *w.path, err = testio.WriteFile(dir, w.name, w.data); err != nil {
			t.Fatal(err)
		}
	}
	if f.server, err = srv.TLS(); err != nil {
		t.Fatal(err)
	}
	return f
}

// httpsServer is an upstream over TLS (h2 and http/1.1) with f's server
// certificate, answering with the protocol it was asked in.
func (f tlsFiles) httpsServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"proto": %q}`, r.Proto)
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{f.server}}
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// startHTTPS runs `shadow run` with args and waits until it listens on
// https, returning its base URL.
func startHTTPS(t *testing.T, args ...string) (string, func(), <-chan int, *syncBuffer) {
	t.Helper()
	args = append([]string{"run", "--listen", "127.0.0.1:0", "--admin", "", "--no-tui", "--summary-interval", "100ms"}, args...)
	return startCmd(t, regexp.MustCompile(`listening on (https://[0-9.:]+)`), args...)
}

// stopped stops shadow and waits for its exit code.
func stopped(t *testing.T, stop func(), code <-chan int, out *syncBuffer) int {
	t.Helper()
	stop()
	select {
	case c := <-code:
		return c
	case <-time.After(30 * time.Second):
		t.Fatalf("shadow did not stop:\n%s", out.String())
		return -1
	}
}

// TestRunHTTPSAndHTTP2 serves clients over TLS with mTLS and h2, and
// mirrors to an https candidate signed by a private CA: Go's client and
// curl get HTTP/2, a client without a certificate is refused, and every
// copy is compared.
func TestRunHTTPSAndHTTP2(t *testing.T) {
	f := newTLSFiles(t)
	primary, candidate := f.httpsServer(t), f.httpsServer(t)
	cfg := writeFile(t, "shadow.yaml", fmt.Sprintf(`
mirror:
  primary_target: {tls: {ca_file: %q}}
  candidate_target: {tls: {ca_file: %q}}
compare:
  verdict: {min_pairs: 1}
`, f.caFile, f.caFile))
	report := t.TempDir() + "/report.json"
	base, stop, code, out := startHTTPS(t, "--config", cfg, "--primary", primary.URL, "--candidate", candidate.URL,
		"--tls-cert", f.certFile, "--tls-key", f.keyFile, "--tls-client-ca", f.caFile, "--report-out", report)

	cert, err := tls.LoadX509KeyPair(f.clientCert, f.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	client := func(cert []tls.Certificate, h2 bool) *http.Client {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.ca.Pool(), Certificates: cert}, Protocols: &http.Protocols{}}
		tr.Protocols.SetHTTP1(true)
		tr.Protocols.SetHTTP2(h2)
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	sent := 0
	for _, c := range []struct {
		name   string
		client *http.Client
		proto  string // of the answer, and what the primary saw
	}{
		{"HTTP/2", client([]tls.Certificate{cert}, true), "HTTP/2.0"},
		{"HTTP/1.1", client([]tls.Certificate{cert}, false), "HTTP/1.1"},
	} {
		resp, err := c.client.Get(base + "/items/1")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sent++
		if want := fmt.Sprintf(`{"proto": %q}`, c.proto); resp.Proto != c.proto || string(body) != want {
			t.Errorf("%s: got %s %q, want %s %q", c.name, resp.Proto, body, c.proto, want)
		}
	}
	if _, err := client(nil, true).Get(base + "/items/1"); err == nil {
		t.Error("a client without a certificate was served, want the handshake refused (mTLS)")
	}
	if bin, err := exec.LookPath("curl"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got, err := exec.CommandContext(ctx, bin, "--http2", "-sSk", "--cert", f.clientCert, "--key", f.clientKey,
			"-o", "/dev/null", "-w", "%{http_version}", base+"/items/2").CombinedOutput()
		cancel()
		sent++
		if err != nil || string(got) != "2" {
			t.Errorf("curl --http2 -sk: %q (%v), want HTTP version 2", got, err)
		}
	} else {
		t.Logf("curl is not installed (%v): the curl check is skipped (.ci/run installs it)", err)
	}

	out.WaitFor(t, "every exchange compared", regexp.MustCompile(fmt.Sprintf(`compared %d `, sent)).MatchString)
	if c := stopped(t, stop, code, out); c != 0 {
		t.Fatalf("exit %d:\n%s", c, out.String())
	}
	var rep struct {
		Totals struct{ Pairs, CandidateErrors int }
	}
	data, err := os.ReadFile(report)
	if err == nil {
		err = json.Unmarshal(data, &rep)
	}
	if err != nil || rep.Totals.Pairs != sent || rep.Totals.CandidateErrors != 0 {
		t.Errorf("report: %d pairs, %d candidate errors (%v), want %d and 0:\n%s", rep.Totals.Pairs, rep.Totals.CandidateErrors, err, sent, data)
	}
}

// TestRunNamesTLSFailures checks that an https candidate shadow cannot
// verify is named in the log once with its reason, on the summary line and
// in the report by kind.
func TestRunNamesTLSFailures(t *testing.T) {
	f := newTLSFiles(t)
	primary := jsonServer(t, "1")
	candidate := f.httpsServer(t)
	report := t.TempDir() + "/report.json"
	base, stop, code, out := startShadow(t, "--no-tui", "--summary-interval", "100ms",
		"--primary", primary.URL, "--candidate", candidate.URL, "--report-out", report)
	const requests = 3
	for i := range requests {
		resp, err := http.Get(base + "/items/" + fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	out.WaitFor(t, "every copy failed", regexp.MustCompile(`candidate errors `+fmt.Sprint(requests)+` `).MatchString)
	stopped(t, stop, code, out)
	log := out.String()
	if n := strings.Count(log, "candidate failed: the first tls failure"); n != 1 || !strings.Contains(log, "x509: certificate signed by unknown authority") {
		t.Errorf("the TLS failure was logged %d times, want once with its x509 reason:\n%s", n, log)
	}
	if !strings.Contains(log, "failing: candidate tls ") {
		t.Errorf("the summary does not name the failing candidate:\n%s", log)
	}
	var rep struct {
		Totals struct {
			CandidateErrors     int            `json:"candidate_errors"`
			CandidateErrorKinds map[string]int `json:"candidate_error_kinds"`
		} `json:"totals"`
	}
	data, err := os.ReadFile(report)
	if err == nil {
		err = json.Unmarshal(data, &rep)
	}
	if err != nil || rep.Totals.CandidateErrors != requests || rep.Totals.CandidateErrorKinds["tls"] != requests {
		t.Errorf("report: %+v (%v), want %d candidate errors of kind tls:\n%s", rep.Totals, err, requests, data)
	}
}

// TestPrintConfigShowsTLS shows the listener's and the upstreams' TLS
// settings, insecure_skip_verify among them, in --print-config.
func TestPrintConfigShowsTLS(t *testing.T) {
	path := writeFile(t, "shadow.yaml", `
mirror:
  candidate_target:
    protocol: h2
    tls: {insecure_skip_verify: true, server_name: api.internal}
`)
	var out syncBuffer
	code := execute(t.Context(), []string{"run", "--config", path, "--primary", "http://p", "--candidate", "https://c",
		"--tls-cert", "/etc/shadow/cert.pem", "--tls-key", "/etc/shadow/key.pem", "--print-config"}, &out, &out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	for _, want := range []string{
		"listen_tls:\n  cert_file: /etc/shadow/cert.pem\n  key_file: /etc/shadow/key.pem\n",
		"    insecure_skip_verify: true\n", "    server_name: api.internal\n", "    protocol: h2\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printed config lacks %q:\n%s", want, out.String())
		}
	}
}
