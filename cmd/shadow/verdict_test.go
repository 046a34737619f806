package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/compare"
)

// headerEcho answers every request with what it received: its Host and
// headers, as JSON, the way a debugging endpoint or a careless service
// echoes its request. delay, when set, is how long it waits first.
func headerEcho(t *testing.T, delay time.Duration) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"host": r.Host, "path": r.URL.Path, "headers": r.Header})
	}))
	t.Cleanup(s.Close)
	return s
}

// drive sends GET requests to base, a few at a time, until shadow exits by
// itself (--until-pairs, --duration), and returns its exit code.
func drive(t *testing.T, base string, code <-chan int, out *syncBuffer) int {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.After(60 * time.Second)
	for i := 0; ; i++ {
		select {
		case c := <-code:
			return c
		case <-deadline:
			t.Fatalf("shadow did not stop by itself:\n%s", out.String())
		default:
		}
		resp, err := client.Get(fmt.Sprintf("%s/items/%d", base, i%10))
		if err == nil {
			resp.Body.Close()
		}
		if i%8 == 7 {
			time.Sleep(5 * time.Millisecond) // let the copies keep up: a full queue drops them
		}
	}
}

// runToVerdict runs `shadow run` with args until it stops by itself while
// requests are driven through it, and returns its exit code, output and
// JSON report.
func runToVerdict(t *testing.T, args ...string) (int, string, *compare.Report) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "report.json")
	base, _, code, out := startShadow(t, append([]string{"--no-tui", "--summary-interval", "100ms", "--report-out", report}, args...)...)
	c := drive(t, base, code, out)
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("no report (exit %d): %v\n%s", c, err, out.String())
	}
	return c, out.String(), readReport(t, data)
}

// Identical primary and candidate behind shadow pass even when the service
// echoes its request: the Host and marker header that shadow itself set
// differently on each side are class proxy, shown and never counted, with
// no secondary to learn them as noise.
func TestEchoingUpstreamNoSecondaryHasNoDiffs(t *testing.T) {
	t.Parallel()
	primary, candidate := headerEcho(t, 0), headerEcho(t, 0)
	code, out, rep := runToVerdict(t, "--primary", primary.URL, "--candidate", candidate.URL, "--until-pairs", "25")
	if code != cli.ExitOK || rep.Verdict != compare.Pass {
		t.Fatalf("exit %d, verdict %s %q; want 0, pass\n%s", code, rep.Verdict, rep.Reasons, out)
	}
	if rep.Totals.Diffs != 0 || rep.Totals.ProxyOnly == 0 || rep.Totals.ProxyOnly != rep.Totals.Pairs {
		t.Errorf("diffs %d, proxy-only %d of %d pairs; want 0 diffs, every pair proxy-only", rep.Totals.Diffs, rep.Totals.ProxyOnly, rep.Totals.Pairs)
	}
	proxy := map[string]bool{}
	for _, ep := range rep.Endpoints {
		for _, f := range ep.Fields {
			if !f.Proxy {
				t.Errorf("%s %s: field %s counted (%d diffs), want only proxy fields", ep.Method, ep.Route, f.Path, f.Diffs)
			}
			proxy[f.Path] = true
		}
	}
	if !proxy["$.host"] || !proxy[`$.headers["X-Shadow-Request"]`] {
		t.Errorf("proxy fields %v, want $.host and the marker", proxy)
	}
}

// A capture replayed against the primary's own version finds nothing:
// replay sends the live run's injections (the forwarding headers, the
// marker) again, and the Host it changes is the proxy's.
func TestReplayAgainstSameVersionHasNoDiffs(t *testing.T) {
	t.Parallel()
	primary, candidate, again := headerEcho(t, 0), headerEcho(t, 0), headerEcho(t, 0)
	dir := filepath.Join(t.TempDir(), "captures")
	code, out, _ := runToVerdict(t, "--primary", primary.URL, "--candidate", candidate.URL, "--until-pairs", "25", "--capture", dir)
	if code != cli.ExitOK {
		t.Fatalf("live run exit %d:\n%s", code, out)
	}
	report := filepath.Join(t.TempDir(), "replay.json")
	var stdout, stderr bytes.Buffer
	code = execute(context.Background(), []string{"replay", "--candidate", again.URL, "--report-out", report, dir}, &stdout, &stderr)
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("replay exit %d, no report: %v\n%s%s", code, err, stdout.String(), stderr.String())
	}
	rep := readReport(t, data)
	if code != cli.ExitOK || rep.Verdict != compare.Pass || rep.Totals.Diffs != 0 || rep.Totals.Pairs < 25 {
		t.Errorf("replay exit %d, verdict %s, %d diffs of %d pairs %q; want 0, pass, none of ≥25\n%s%s",
			code, rep.Verdict, rep.Totals.Diffs, rep.Totals.Pairs, rep.Reasons, stdout.String(), stderr.String())
	}
}

// A candidate 80 ms slower than the primary, identical otherwise, fails
// on latency, and says so.
func TestSlowCandidateFailsOnLatency(t *testing.T) {
	t.Parallel()
	primary, candidate := headerEcho(t, 0), headerEcho(t, 80*time.Millisecond)
	config := writeFile(t, "shadow.yaml", `
mirror:
  workers: 32
compare:
  verdict:
    max_latency_regression: {min_pairs: 40}
`)
	code, out, rep := runToVerdict(t, "--config", config, "--primary", primary.URL, "--candidate", candidate.URL, "--until-pairs", "40")
	if code != cli.ExitFail || rep.Verdict != compare.Fail {
		t.Fatalf("exit %d, verdict %s %q; want 1, fail\n%s", code, rep.Verdict, rep.Reasons, out)
	}
	if len(rep.FailedOn) != 1 || rep.FailedOn[0] != compare.FailLatency || rep.Totals.Diffs != 0 {
		t.Errorf("failed on %v with %d diffs, want latency alone", rep.FailedOn, rep.Totals.Diffs)
	}
	if !strings.Contains(out, "verdict fail (exit 1): the candidate is slower than the latency rule allows") ||
		strings.Contains(out, "differs beyond the configured rule") {
		t.Errorf("output does not name the latency failure (and only it):\n%s", out)
	}
	ep := rep.Endpoints[0]
	if ep.Latency == nil || !ep.Latency.Failed || !ep.Latency.Judged || ep.Latency.P50Ratio <= 1.2 {
		t.Errorf("latency check %+v, want judged and failed with the p50 ratio measured", ep.Latency)
	}
}

// Each exit code from a real run: 0 pass, 1 fail, 2 could not complete,
// 3 bad input, 4 inconclusive (nothing judged; candidate unreachable).
func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	same1, same2 := headerEcho(t, 0), headerEcho(t, 0)
	differs := jsonServer(t, "10.01")
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // a port where nothing listens: refused

	t.Run("0 pass", func(t *testing.T) {
		t.Parallel()
		if code, out, _ := runToVerdict(t, "--primary", same1.URL, "--candidate", same2.URL, "--until-pairs", "20"); code != cli.ExitOK {
			t.Errorf("exit %d, want 0:\n%s", code, out)
		}
	})
	t.Run("1 fail", func(t *testing.T) {
		t.Parallel()
		code, out, _ := runToVerdict(t, "--primary", jsonServer(t, "10.00").URL, "--candidate", differs.URL, "--until-pairs", "20")
		if code != cli.ExitFail || !strings.Contains(out, "verdict fail (exit 1): the candidate differs beyond the configured rule") {
			t.Errorf("exit %d, want 1 naming the diffs:\n%s", code, out)
		}
	})
	t.Run("4 candidate unreachable", func(t *testing.T) {
		t.Parallel()
		code, out, rep := runToVerdict(t, "--primary", same1.URL, "--candidate", dead.URL, "--duration", "1s")
		if code != cli.ExitInconclusive || rep.Verdict != compare.Inconclusive ||
			!strings.Contains(out, "verdict inconclusive (exit 4): the candidate was unreachable for") {
			t.Errorf("exit %d, verdict %s; want 4 naming the unreachable candidate:\n%s", code, rep.Verdict, out)
		}
		if strings.Contains(out, "differs beyond") {
			t.Errorf("an unreachable candidate is said to differ:\n%s", out)
		}
		// The live lines say it while it happens, not only at the end.
		if !strings.Contains(out, "verdict inconclusive · CANDIDATE UNREACHABLE for most copies") {
			t.Errorf("the live lines do not show the candidate unreachable:\n%s", out)
		}
		if md := rep.Totals.CandidateErrorKinds["refused"]; md == 0 {
			t.Errorf("candidate error kinds %v, want refused counted", rep.Totals.CandidateErrorKinds)
		}
	})
	t.Run("4 nothing judged", func(t *testing.T) {
		t.Parallel()
		var stdout, stderr bytes.Buffer
		code := execute(context.Background(), []string{"run", "--listen", "127.0.0.1:0", "--admin", "", "--no-tui",
			"--primary", same1.URL, "--candidate", same2.URL, "--duration", "200ms"}, &stdout, &stderr)
		if code != cli.ExitInconclusive || !strings.Contains(stderr.String(), "verdict inconclusive (exit 4): no exchanges were observed") {
			t.Errorf("exit %d, want 4 (no traffic):\n%s%s", code, stdout.String(), stderr.String())
		}
	})
	t.Run("2 could not complete", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var stdout, stderr bytes.Buffer
		code := execute(context.Background(), []string{"run", "--listen", ln.Addr().String(), "--admin", "", "--no-tui",
			"--primary", same1.URL, "--candidate", same2.URL, "--duration", "1s"}, &stdout, &stderr)
		if code != cli.ExitAborted {
			t.Errorf("exit %d, want 2 (address in use):\n%s%s", code, stdout.String(), stderr.String())
		}
	})
	t.Run("3 bad input: report directory missing, found before any traffic", func(t *testing.T) {
		t.Parallel()
		var stdout, stderr bytes.Buffer
		code := execute(context.Background(), []string{"run", "--listen", "127.0.0.1:0", "--admin", "", "--no-tui",
			"--primary", same1.URL, "--candidate", same2.URL, "--report-out", filepath.Join(t.TempDir(), "missing", "r.json")}, &stdout, &stderr)
		if code != cli.ExitConfig || !strings.Contains(stderr.String(), "report_out: the report could not be written") ||
			strings.Contains(stdout.String(), "listening on") {
			t.Errorf("exit %d, want 3 before listening:\n%s%s", code, stdout.String(), stderr.String())
		}
	})
}
