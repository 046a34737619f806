package scenarios

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/understudy-dev/understudy/internal/testio"
)

// protoTarget is a target that records the HTTP version of every request.
type protoTarget struct {
	*httptest.Server
	mu     sync.Mutex
	protos map[string]int
}

// newProtoTarget starts a target: over TLS with a certificate of ca
// (h2 and http/1.1), or, with ca nil, in the clear with h2c beside
// HTTP/1.1.
func newProtoTarget(t *testing.T, ca *testio.CA) *protoTarget {
	t.Helper()
	p := &protoTarget{protos: map[string]int{}}
	p.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.protos[r.Proto]++
		p.mu.Unlock()
	}))
	p.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes refused on purpose
	if ca == nil {
		p.Config.Protocols = &http.Protocols{}
		p.Config.Protocols.SetHTTP1(true)
		p.Config.Protocols.SetUnencryptedHTTP2(true)
		p.Start()
	} else {
		pair, err := ca.Server("target", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		cert, err := pair.TLS()
		if err != nil {
			t.Fatal(err)
		}
		p.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		p.EnableHTTP2 = true
		p.StartTLS()
	}
	t.Cleanup(p.Close)
	return p
}

// seen returns the HTTP versions requests arrived in.
func (p *protoTarget) seen() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.protos
}

// protoScenario is a one-step scenario against target with the given
// extra keys (tls, protocol).
func protoScenario(target, extra string) string {
	return fmt.Sprintf(`
name: tls
target: %s
%s
rate: {type: constant, rate: 50}
duration: 100ms
journeys:
  - name: ping
    steps:
      - name: get
        path: /ping
        assert: {status: [200]}
`, target, extra)
}

// TestTLSAndHTTP2Targets runs journeys against https targets signed by a
// private CA and against h2c, each request in the protocol the scenario
// asks for.
func TestTLSAndHTTP2Targets(t *testing.T) {
	t.Parallel()
	ca, err := testio.NewCA(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	caFile, err := testio.WriteFile(t.TempDir(), "ca.pem", ca.PEM)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		tls   bool
		extra string
		want  string // every request's HTTP version
	}{
		{"https, private CA, auto", true, fmt.Sprintf("tls: {ca_file: %q}", caFile), "HTTP/2.0"},
		{"https, private CA, h2", true, fmt.Sprintf("tls: {ca_file: %q}\nprotocol: h2", caFile), "HTTP/2.0"},
		{"https, private CA, http1", true, fmt.Sprintf("tls: {ca_file: %q}\nprotocol: http1", caFile), "HTTP/1.1"},
		{"https, no verification", true, "tls: {insecure_skip_verify: true}", "HTTP/2.0"},
		{"h2c", false, "protocol: h2c", "HTTP/2.0"},
		{"in the clear, auto", false, "", "HTTP/1.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var target *protoTarget
			if tc.tls {
				target = newProtoTarget(t, ca)
			} else {
				target = newProtoTarget(t, nil)
			}
			sc := mustParse(t, protoScenario(target.URL, tc.extra))
			res := runAsync(t, mustRunner(t, sc, RunnerOptions{}))()
			st := res.Steps[0]
			if st.Requests == 0 || st.Failures != 0 {
				t.Errorf("%d requests, %d failed (%v), want all answered", st.Requests, st.Failures, st.Errors)
			}
			if got := target.seen(); len(got) != 1 || got[tc.want] == 0 {
				t.Errorf("the target saw %v, want only %s", got, tc.want)
			}
		})
	}
}

// TestUntrustedTargetFailsPreflight stops a run whose https target's
// certificate cannot be verified before any journey, naming the kind.
func TestUntrustedTargetFailsPreflight(t *testing.T) {
	t.Parallel()
	ca, err := testio.NewCA(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	target := newProtoTarget(t, ca)
	res := runAsync(t, mustRunner(t, mustParse(t, protoScenario(target.URL, "")), RunnerOptions{}))()
	if res.Outcome != OutcomeAborted || !strings.Contains(res.Reason, "does not answer (tls)") || !strings.Contains(res.Reason, "x509") {
		t.Errorf("outcome %s (%s), want aborted by the pre-flight on TLS", res.Outcome, res.Reason)
	}
	if got := target.seen(); len(got) != 0 {
		t.Errorf("the target answered %v, want no request through", got)
	}
}

// TestTLSSettingsValidated names the tls and protocol keys that do not fit
// the target, with their lines.
func TestTLSSettingsValidated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, target, extra, want string
	}{
		{"tls on http", "http://127.0.0.1:1", "tls: {server_name: api}", `test.yaml:3: tls: set, but the target "http://127.0.0.1:1" is not an https:// URL`},
		{"h2 on http", "http://127.0.0.1:1", "protocol: h2", `test.yaml:3: protocol: "h2" needs an https:// upstream`},
		{"h2c on https", "https://127.0.0.1:1", "protocol: h2c", `test.yaml:3: protocol: "h2c" needs an http:// upstream`},
		{"unknown protocol", "http://127.0.0.1:1", "protocol: spdy", `test.yaml:3: protocol: "spdy" is not a protocol`},
		{"cert without key", "https://127.0.0.1:1", "tls: {cert_file: c.pem}", `test.yaml:3: tls: cert_file and key_file: want both`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(strings.TrimLeft(protoScenario(tc.target, tc.extra), "\n")))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("missing ca_file", func(t *testing.T) {
		sc := mustParse(t, protoScenario("https://127.0.0.1:1", "tls: {ca_file: /nonexistent/ca.pem}"))
		if _, err := NewRunner(sc, RunnerOptions{}); err == nil || !strings.Contains(err.Error(), "tls: ca_file: open /nonexistent/ca.pem") {
			t.Errorf("NewRunner: %v, want the ca_file named", err)
		}
	})
}
