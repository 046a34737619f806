package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// After a run, the admin endpoint's /metrics counts what the proxy and the
// engine saw: every request, the copies skipped by method, and per route
// template the compared exchanges, their differences and the latencies.
func TestRunServesMetrics(t *testing.T) {
	primary, candidate := jsonServer(t, "10.00"), jsonServer(t, "10.01")
	admin, stop, code, out := startCmd(t, regexp.MustCompile(`admin on (http://[0-9.:]+)`),
		"run", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--no-tui", "--summary-interval", "50ms",
		"--primary", primary.URL, "--candidate", candidate.URL)
	defer func() {
		stop()
		select {
		case <-code:
		case <-time.After(30 * time.Second):
			t.Error("shadow did not stop")
		}
	}()
	base := regexp.MustCompile(`listening on (http://[0-9.:]+)`).FindStringSubmatch(out.String())[1]

	const gets, posts = 20, 5
	for i := range gets + posts {
		method := http.MethodGet
		if i >= gets {
			method = http.MethodPost
		}
		req, _ := http.NewRequest(method, fmt.Sprintf("%s/items/%d", base, i), strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	out.WaitFor(t, "every exchange compared", regexp.MustCompile(fmt.Sprintf(`compared %d `, gets)).MatchString)

	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", resp.StatusCode, body)
	}
	route := `route="GET /items/{id}"`
	for _, want := range []string{
		fmt.Sprintf(`shadow_requests_total %d`, gets+posts),
		fmt.Sprintf(`shadow_mirror_skipped_total{reason="method"} %d`, posts),
		`shadow_mirror_dropped_total{reason="queue_full"} 0`,
		fmt.Sprintf(`shadow_exchanges_total{outcome="compared",%s} %d`, route, gets),
		fmt.Sprintf(`shadow_diffs_total{kind="body",%s} %d`, route, gets),
		fmt.Sprintf(`shadow_diffs_total{kind="status",%s} 0`, route),
		fmt.Sprintf(`shadow_differing_exchanges_total{%s} %d`, route, gets),
		fmt.Sprintf(`shadow_upstream_latency_seconds_count{%s,side="candidate"} %d`, route, gets),
		fmt.Sprintf(`shadow_upstream_latency_seconds_count{%s,side="primary"} %d`, route, gets),
		`shadow_verdict{verdict="fail"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(string(body), "shadow_"))
	}
}

// grepLines returns the lines of s that start with prefix.
func grepLines(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}
