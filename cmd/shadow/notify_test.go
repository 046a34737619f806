package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/internal/testio"
)

// TestRunNotifies: a shadow run whose verdict fails posts its verdict,
// reasons and report path once to the webhooks that want failed runs,
// none to one that wants only passes, and a webhook answering 500 leaves
// the exit code the verdict's.
func TestRunNotifies(t *testing.T) {
	failed, slack, passedOnly, broken := testio.NewWebhook(t, 200), testio.NewWebhook(t, 200), testio.NewWebhook(t, 200), testio.NewWebhook(t, 500)
	cfg := writeFile(t, "shadow.yaml", fmt.Sprintf(`notify:
  - {webhook: %s/hook/secret-token}
  - {webhook: %s, format: slack, on: [failed]}
  - {webhook: %s, on: [passed]}
  - {webhook: %s}
`, failed.URL, slack.URL, passedOnly.URL, broken.URL))
	primary, candidate := jsonServer(t, "10.00"), jsonServer(t, "10.01")
	report := filepath.Join(t.TempDir(), "report.md")
	base, stop, code, out := startShadow(t, "--config", cfg,
		"--primary", primary.URL, "--candidate", candidate.URL, "--report-out", report, "--summary-interval", "100ms")
	for i := range 25 { // above the verdict's 20-pair minimum
		resp, err := http.Get(fmt.Sprintf("%s/items/%d", base, i))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	out.WaitFor(t, "every exchange compared", regexp.MustCompile(`compared 25 `).MatchString)
	stop()
	select {
	case c := <-code:
		if c != cli.ExitFail {
			t.Fatalf("exit code %d, want %d: the verdict fails and a webhook's failure changes nothing\n%s", c, cli.ExitFail, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shadow did not stop after cancel")
	}
	p := failed.Posts()
	if len(p) != 1 || p[0]["tool"] != "shadow" || p[0]["event"] != "failed" || p[0]["verdict"] != "FAIL" ||
		!strings.Contains(fmt.Sprint(p[0]["text"]), "verdict fail: 25 pairs compared") || fmt.Sprint(p[0]["reports"]) != "["+report+"]" {
		t.Errorf("json posts %v, want one failed summary with the verdict line and the report path", p)
	}
	if s := slack.Posts(); len(s) != 1 || !strings.Contains(fmt.Sprint(s[0]["text"]), "FAIL") {
		t.Errorf("slack posts %v, want one naming the failed verdict", s)
	}
	if got := passedOnly.Posts(); len(got) != 0 {
		t.Errorf("a webhook on [passed] got %v for a failed run", got)
	}
	if got := broken.Posts(); len(got) != 1 {
		t.Errorf("the failing webhook got %d posts, want 1 (no retry loop)", len(got))
	}
	if strings.Contains(out.String(), "secret-token") {
		t.Errorf("the output shows a webhook's secret path:\n%s", out.String())
	}
}

// TestNotifyConfigErrors: bad webhooks are named by key, file and line.
func TestNotifyConfigErrors(t *testing.T) {
	path := writeFile(t, "shadow.yaml", `primary: http://127.0.0.1:1
candidate: http://127.0.0.1:2
notify:
  - {format: xml, on: [done]}
`)
	_, err := loadRunConfig(t, "--config", path)
	if err == nil {
		t.Fatal("config with a bad webhook loaded")
	}
	for _, want := range []string{"notify[0].webhook: required", "notify[0].on[0]:", "notify[0].format:", "shadow.yaml:4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// TestPrintConfigMasksWebhooks: a webhook's URL holds its token, so
// --print-config shows it masked.
func TestPrintConfigMasksWebhooks(t *testing.T) {
	path := writeFile(t, "shadow.yaml", `notify:
  - {webhook: "https://hooks.example.com/services/T0/B0/s3cretXYZ", on: [failed]}
`)
	var out testio.Buffer
	code := execute(t.Context(), []string{"run", "--primary", "http://127.0.0.1:1", "--candidate", "http://127.0.0.1:2",
		"--config", path, "--print-config"}, &out, &out)
	if code != 0 || !strings.Contains(out.String(), "webhook: <masked>") || strings.Contains(out.String(), "s3cretXYZ") {
		t.Errorf("exit %d, output:\n%s\nwant the webhook masked", code, out.String())
	}
}
