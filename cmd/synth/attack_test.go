package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/scenarios"
)

// TestAttack: one request from flags, sent as given (no templates) with
// the synthetic tags and a traceparent, checked against --status, with
// the summary and --report-out of synth run.
func TestAttack(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r)
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	body := filepath.Join(dir, "order.json")
	if err := os.WriteFile(body, []byte(`{"sku": "pizza", "note": "{{ not a template }}"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "attack.json")
	code, stdout, stderr := run(t, nil, "attack", srv.URL+"/orders?src=synth", "--rate", "40", "--duration", "500ms",
		"-X", "post", "--body", "@"+body, "-H", "Content-Type: application/json", "-H", "X-Note: {{ .RunID }}",
		"--status", "201", "--no-tui", "--run-id", "atk", "--report-out", report)
	if code != cli.ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	var requests int
	for i, r := range got {
		if r.Method == http.MethodHead {
			continue // the pre-flight
		}
		requests++
		if r.Method != http.MethodPost || r.URL.RequestURI() != "/orders?src=synth" || bodies[i] != `{"sku": "pizza", "note": "{{ not a template }}"}` ||
			r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Note") != "{{ .RunID }}" ||
			r.Header.Get("X-Synthetic-Run") != "atk" || !strings.HasPrefix(r.Header.Get("Traceparent"), "00-") {
			t.Fatalf("request %s %s %q headers %v: want the flags' request, as given, tagged", r.Method, r.URL, bodies[i], r.Header)
		}
	}
	if requests != 19 {
		t.Errorf("%d requests, want 19 (40/s for 500ms)", requests)
	}
	if !strings.Contains(stdout, "attack/request") || !strings.Contains(stdout, "201×19") || !strings.Contains(stdout, "verdict: PASS") {
		t.Errorf("summary:\n%s", stdout)
	}
	var res scenarios.Result
	if b, err := os.ReadFile(report); err != nil || json.Unmarshal(b, &res) != nil || res.Steps[0].Requests != 19 {
		t.Errorf("report %s: %v, %+v", report, err, res.Steps)
	}
}

// TestAttackFailures: a status other than --status fails the run (exit
// 1); a dead target exits 2 at the pre-flight; bad flags exit 3 naming
// the flag.
func TestAttackFailures(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	t.Cleanup(srv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/"
	ln.Close()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wrong status", []string{srv.URL, "--rate", "20", "--duration", "200ms"}, cli.ExitFail, "status 418, want 2xx or 3xx"},
		{"dead target", []string{dead, "--rate", "20", "--duration", "1m"}, cli.ExitAborted, "does not answer (connection_refused)"},
		{"no rate", []string{srv.URL, "--duration", "1s"}, cli.ExitConfig, "rate: required"},
		{"bad URL", []string{"localhost:8080", "--rate", "1", "--duration", "1s"}, cli.ExitConfig, "URL: want an http:// or https:// URL"},
		{"bad header", []string{srv.URL, "--rate", "1", "--duration", "1s", "-H", "nocolon"}, cli.ExitConfig, `header: "nocolon": want "Name: value"`},
		{"bad method", []string{srv.URL, "--rate", "1", "--duration", "1s", "-X", "GE T"}, cli.ExitConfig, "method: want an upper-case HTTP method"},
		{"missing body file", []string{srv.URL, "--rate", "1", "--duration", "1s", "--body", "@/nonexistent.json"}, cli.ExitConfig, "body: stat /nonexistent.json"},
		{"bad status", []string{srv.URL, "--rate", "1", "--duration", "1s", "--status", "999"}, cli.ExitConfig, "status[0]: want an HTTP status"},
	}
	for _, tt := range tests {
		code, stdout, stderr := run(t, nil, append([]string{"attack", "--no-tui"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
			t.Errorf("%s: exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", tt.name, code, tt.code, tt.want, stdout, stderr)
		}
	}
}
