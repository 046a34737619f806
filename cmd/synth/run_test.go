package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/demo"
	"github.com/understudy-dev/understudy/scenarios"
)

// scenarioFile writes a one-journey scenario against target and returns
// its path; extra is appended at the top level.
func scenarioFile(t *testing.T, target, extra string) string {
	t.Helper()
	src := fmt.Sprintf(`name: cli
target: %s
rate: {rate: 20}
duration: 1m
ceiling: 100
%s
journeys:
  - name: order
    steps:
      - name: create
        method: POST
        path: /orders
        headers: {Content-Type: application/json}
        body: '{"customer": {{ json fake.Name }}, "items": [{"sku": "pizza", "qty": 1}], "synthetic": {{ .Synthetic }}}'
        capture: {id: id}
        assert: {status: [201], json: {status: placed}}
    cleanup:
      - {name: cancel, method: POST, path: '/orders/{{ .Vars.id }}/cancel', assert: {status: [200]}}
`, target, extra)
	path := filepath.Join(t.TempDir(), "cli.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startDemo(t *testing.T) string {
	t.Helper()
	srv, err := demo.Start(demo.Options{Version: 1, Seed: 1, SlowDelay: -1, ErrorRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv.URL
}

func TestRunPassesAndWritesReports(t *testing.T) {
	t.Parallel()
	target := startDemo(t)
	sc := scenarioFile(t, target, "")
	dir := t.TempDir()
	tests := []struct {
		ext   string
		check func([]byte) error
	}{
		{".json", func(b []byte) error {
			var res scenarios.Result
			if err := json.Unmarshal(b, &res); err != nil {
				return err
			}
			if res.Outcome != scenarios.OutcomeCompleted || res.Journeys.Started == 0 {
				return fmt.Errorf("outcome %s, journeys %+v", res.Outcome, res.Journeys)
			}
			return nil
		}},
		{".md", func(b []byte) error {
			if !strings.HasPrefix(string(b), "# synth: cli — PASS") {
				return fmt.Errorf("starts %.40q", b)
			}
			return nil
		}},
		{".xml", func(b []byte) error {
			var v struct {
				Tests int `xml:"tests,attr"`
				Fails int `xml:"failures,attr"`
			}
			if err := xml.Unmarshal(b, &v); err != nil {
				return err
			}
			if v.Tests != 3 || v.Fails != 0 { // create, cancel, run
				return fmt.Errorf("tests %d failures %d, want 3 and 0", v.Tests, v.Fails)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.ext, func(t *testing.T) {
			t.Parallel()
			report := filepath.Join(dir, "report"+tt.ext)
			code, out, errOut := run(t, nil, "run", "--duration", "300ms", "--rate", "20", "--report-out", report, sc)
			if code != cli.ExitOK {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if !strings.Contains(out, "verdict: PASS") {
				t.Errorf("summary lacks the verdict:\n%s", out)
			}
			fi, err := os.Stat(report)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("report mode %v, want 0600", fi.Mode().Perm())
			}
			b, _ := os.ReadFile(report)
			if err := tt.check(b); err != nil {
				t.Errorf("report: %v", err)
			}
		})
	}
}

func TestRunAssertionFailureExits1(t *testing.T) {
	t.Parallel()
	target := startDemo(t)
	sc := scenarioFile(t, target, "")
	src, _ := os.ReadFile(sc)
	if err := os.WriteFile(sc, []byte(strings.Replace(string(src), "status: placed", "status: delivered", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, nil, "run", "--duration", "200ms", sc)
	if code != cli.ExitFail || !strings.Contains(out, `json "status" = "placed", want "delivered"`) {
		t.Errorf("exit %d, want 1 with the failed check in the summary:\n%s", code, out)
	}
}

// failingServer answers 500 to everything and counts requests.
func failingServer(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, "broken", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func TestRunGuardrailAbortExits2(t *testing.T) {
	t.Parallel()
	target, _ := failingServer(t)
	sc := scenarioFile(t, target, "guardrails: {max_error_rate: 0.1, window: 1s, min_samples: 5}")
	code, out, errOut := run(t, nil, "run", "--rate", "50", sc)
	if code != cli.ExitAborted || !strings.Contains(errOut, "run aborted: guardrail: error rate") {
		t.Errorf("exit %d, want 2 with the guardrail named\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestRunInterruptStopsThenKills: the server holds every request, so the
// first interrupt (stop) leaves journeys waiting; the second kills them.
func TestRunInterruptStopsThenKills(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 100)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			return // the pre-flight is answered; journeys are held
		}
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: frees a failed test
	sc := scenarioFile(t, srv.URL, "")
	interrupts := make(chan os.Signal, 2)
	var out, errb syncBuffer
	codes := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		codes <- execute(ctx, []string{"run", "--progress-interval", "50ms", sc}, &out, &errb, interrupts)
	}()
	t.Cleanup(func() { // a failed test must not leave the run going
		cancel()
		select {
		case <-codes:
		case <-time.After(20 * time.Second):
		}
	})
	select {
	case <-arrived:
	case code := <-codes:
		codes <- code
		t.Fatalf("run ended (exit %d) before any request arrived\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("no request arrived\nstderr:\n%s", errb.String())
	}
	interrupts <- os.Interrupt
	errb.WaitFor(t, "the stopping message", func(s string) bool { return strings.Contains(s, "synth: stopping") })
	interrupts <- syscall.SIGTERM
	select {
	case code := <-codes:
		codes <- code // for the cleanup
		if code != cli.ExitAborted || !strings.Contains(out.String(), ": killed after") {
			t.Errorf("exit %d, want 2 and a killed summary:\n%s\nstderr:\n%s", code, out.String(), errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the second interrupt did not end the run")
	}
	if !strings.Contains(errb.String(), "synth 0s") && !strings.Contains(errb.String(), "rate ") {
		t.Errorf("no progress line in stderr:\n%s", errb.String())
	}
}

func TestRunBadInputExits3(t *testing.T) {
	t.Parallel()
	good := scenarioFile(t, "http://127.0.0.1:1", "")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nrate: {rate: fast}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "cfg.yaml")
	if err := os.WriteFile(cfg, []byte("rate: 5\ncolour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad scenario", []string{"run", bad}, `bad.yaml:2: rate.rate: want a number, got "fast"`},
		{"missing scenario", []string{"run", "/nonexistent/x.yaml"}, "read scenario"},
		{"negative rate", []string{"run", "--rate", "-1", good}, "rate: want 0"},
		{"report extension", []string{"run", "--report-out", "r.html", good}, `report_out: "r.html": want a .json, .md or .xml file`},
		{"unknown config key", []string{"run", "--config", cfg, good}, "colour"},
		{"bad target", []string{"run", "--target", "nope", good}, "Target: want an http"},
		{"unknown flag", []string{"run", "--speed", "3", good}, "unknown flag"},
	}
	for _, tt := range tests {
		code, _, errOut := run(t, nil, tt.args...)
		if code != cli.ExitConfig || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want 3 and %q", tt.name, code, errOut, tt.want)
		}
	}
}

func TestRunClampsRateToCeiling(t *testing.T) {
	t.Parallel()
	target := startDemo(t)
	sc := scenarioFile(t, target, "")
	code, out, errOut := run(t, nil, "run", "--rate", "5000", "--duration", "100ms", sc)
	if code != cli.ExitOK || !strings.Contains(errOut, "rate clamped to the ceiling") || !strings.Contains(out, "ceiling 100.0/s") {
		t.Errorf("exit %d; want 0 with a clamp warning\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
