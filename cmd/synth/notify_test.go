package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/internal/testio"
)

// TestRunNotifies: a failed run posts its summary and report path to the
// webhooks that want failed runs, once; a webhook that answers 500 is
// logged and the exit code stays the run's.
func TestRunNotifies(t *testing.T) {
	t.Parallel()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(failing.Close)
	slack, plain, broken, passedOnly := testio.NewWebhook(t, 200), testio.NewWebhook(t, 200), testio.NewWebhook(t, 500), testio.NewWebhook(t, 200)
	sc := scenarioFile(t, failing.URL, fmt.Sprintf(`notify:
  - {webhook: %s/services/secret, format: slack, on: [failed]}
  - {webhook: %s}
  - {webhook: %s/hook/secret}
  - {webhook: %s, on: [passed]}`, slack.URL, plain.URL, broken.URL, passedOnly.URL))
	report := filepath.Join(t.TempDir(), "r.md")
	code, stdout, stderr := run(t, nil, "run", "--no-tui", "--duration", "200ms", "--run-id", "nf", "--report-out", report, sc)
	if code != cli.ExitFail {
		t.Fatalf("exit %d, want 1 (the run failed; a webhook's failure changes nothing)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	s := slack.Posts()
	if len(s) != 1 || !strings.Contains(fmt.Sprint(s[0]["text"]), "*synth cli*: FAIL (run `nf`)") || !strings.Contains(fmt.Sprint(s[0]["text"]), "report: `"+report+"`") {
		t.Errorf("slack posts %v, want one naming the run and its report", s)
	}
	p := plain.Posts()
	if len(p) != 1 || p[0]["event"] != "failed" || p[0]["verdict"] != "FAIL" || !strings.Contains(fmt.Sprint(p[0]["text"]), "order/create") {
		t.Errorf("json posts %v, want one failed summary", p)
	}
	if len(broken.Posts()) != 1 || len(passedOnly.Posts()) != 0 {
		t.Errorf("broken got %d posts, passed-only %d; want 1 and 0", len(broken.Posts()), len(passedOnly.Posts()))
	}
	if !strings.Contains(stderr, "notify: webhook failed; the run's outcome stands") || !strings.Contains(stderr, "status 500") || strings.Contains(stderr, "secret") {
		t.Errorf("stderr does not log the failed webhook by host alone:\n%s", stderr)
	}
}

// TestRunAbortsOnProduction: a query guardrail on a real Prometheus sees
// real users failing; synth run aborts with exit 2 (at once: production
// is in trouble before the first journey), says why, cleans up whatever
// started and tells the webhook that wants aborted runs.
func TestRunAbortsOnProduction(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	errorsRatio := prometheus.NewGauge(prometheus.GaugeOpts{Name: "shop_error_ratio", Help: "Share of real requests that fail."})
	errorsRatio.Set(0.5)
	reg.MustRegister(errorsRatio)
	exporter := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(exporter.Close)
	prom := testio.StartPrometheus(t, testio.HostPort(exporter.URL))
	prom.WaitFor(t, "shop_error_ratio", 0.5)
	target := startDemo(t)
	wh := testio.NewWebhook(t, 200)
	sc := scenarioFile(t, target, fmt.Sprintf(`prometheus: %s
guardrails:
  - {name: real-errors, query: 'shop_error_ratio', above: 0.1, interval: 500ms, hold: 1m}
notify: [{webhook: %s, on: [aborted]}]`, prom.URL, wh.URL))
	code, stdout, stderr := run(t, nil, "run", "--no-tui", sc)
	if code != cli.ExitAborted || !strings.Contains(stdout, "reason: guardrail real-errors: 0.5 is above 0.1") ||
		!strings.Contains(stdout, "guardrail real-errors: shop_error_ratio = 0.5 (above 0.1)") {
		t.Fatalf("exit %d, want 2 with the guardrail's reason\nstdout:\n%s\nstderr:\n%s\nprometheus:\n%s", code, stdout, stderr, prom.Output())
	}
	var started, cleaned int
	if _, err := fmt.Sscanf(stdout[strings.Index(stdout, "journeys: "):], "journeys: %d started", &started); err != nil {
		t.Errorf("no journey count (%v):\n%s", err, stdout)
	}
	if _, err := fmt.Sscanf(stdout[strings.Index(stdout, "cleanups: "):], "cleanups: %d ran", &cleaned); err != nil || cleaned != started {
		t.Errorf("%d cleanups for %d journeys (%v), want one each:\n%s", cleaned, started, err, stdout)
	}
	if p := wh.Posts(); len(p) != 1 || p[0]["event"] != "aborted" || !strings.HasPrefix(fmt.Sprint(p[0]["reason"]), "guardrail real-errors") {
		t.Errorf("webhook got %v, want the aborted run", p)
	}
}
