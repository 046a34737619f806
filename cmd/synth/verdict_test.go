package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/scenarios"
)

// Results of two scenarios are reported apart, with a warning, not
// summed: each keeps its own threshold, and the one that fails is named.
func TestReportKeepsScenariosApart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	batch := func(scenario string, n, failEvery int) []capture.SynthRecord {
		var recs []capture.SynthRecord
		for i := range n {
			r := capture.SynthRecord{Scenario: scenario, Journey: "j", Step: "get", JourneyID: fmt.Sprint(i), Status: 200, Passed: true, Latency: time.Millisecond}
			if failEvery > 0 && i%failEvery == 0 {
				r.Status, r.Passed, r.Failures = 500, false, []string{"status: status 500, want one of [200]"}
			}
			recs = append(recs, r)
		}
		return recs
	}
	steps := []scenarios.StepName{{Journey: "j", Step: "get"}}
	a := writeResults(t, dir, "a", scenarios.RunInfo{RunID: "a", Scenario: "checkout", Steps: steps, MinSuccessRate: 0.99, Ceiling: 100}.Labels(), batch("checkout", 50, 0))
	b := writeResults(t, dir, "b", scenarios.RunInfo{RunID: "b", Scenario: "browse", Steps: steps, MinSuccessRate: 0.99, Ceiling: 40}.Labels(), batch("browse", 50, 2))

	code, stdout, stderr := run(t, nil, "report", a, b)
	if code != cli.ExitFail || !strings.Contains(stderr, "warning: the files hold results of 2 different scenarios (checkout, browse)") ||
		!strings.Contains(stderr, "failures in browse") || strings.Contains(stderr, "checkout (see") {
		t.Errorf("exit %d, want 1 naming browse alone, with a warning\nstderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "== scenario checkout ==") || !strings.Contains(stdout, "== scenario browse ==") {
		t.Errorf("text report lacks a section per scenario:\n%s", stdout)
	}
	code, stdout, _ = run(t, nil, "report", "--format", "json", a, b)
	var res []scenarios.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != cli.ExitFail || len(res) != 2 {
		t.Fatalf("json: exit %d, %d results (%v)\n%s", code, len(res), err, stdout)
	}
	for _, r := range res {
		if r.Steps[0].Requests != 50 || r.Journeys.Started != 50 {
			t.Errorf("%s: %d requests, %d journeys; want 50 and 50, not the sum", r.Scenario, r.Steps[0].Requests, r.Journeys.Started)
		}
	}
	if res[0].Ceiling == res[1].Ceiling {
		t.Errorf("ceilings %v and %v: summed or mixed", res[0].Ceiling, res[1].Ceiling)
	}
	code, stdout, _ = run(t, nil, "report", "--format", "xml", a, b)
	if code != cli.ExitFail || strings.Count(stdout, "<testsuites") != 1 || !strings.Contains(stdout, `name="checkout/j"`) || !strings.Contains(stdout, `name="browse/j"`) {
		t.Errorf("junit: exit %d, want one document with both scenarios' suites:\n%s", code, stdout)
	}
}

// Result files with no synthetic steps decide nothing: exit 4.
func TestReportEmptyInputIsInconclusive(t *testing.T) {
	t.Parallel()
	path := writeResults(t, t.TempDir(), "empty", nil, nil)
	code, _, stderr := run(t, nil, "report", path)
	if code != cli.ExitInconclusive || !strings.Contains(stderr, "report inconclusive (exit 4): the result files hold no synthetic steps") {
		t.Errorf("exit %d, want 4\n%s", code, stderr)
	}
}

// A report path that cannot be written is found before the run sends
// anything: exit 3, and the target sees no request.
func TestRunChecksReportOutFirst(t *testing.T) {
	t.Parallel()
	target, hits := failingServer(t)
	sc := scenarioFile(t, target, "")
	code, _, stderr := run(t, nil, "run", "--no-tui", "--duration", "1s", "--report-out", filepath.Join(t.TempDir(), "missing", "r.json"), sc)
	if code != cli.ExitConfig || !strings.Contains(stderr, "report_out: the report could not be written") || hits.Load() != 0 {
		t.Errorf("exit %d after %d requests, want 3 before any\n%s", code, hits.Load(), stderr)
	}
}

// A run that starts no journey (its rate too low for its duration) checked
// nothing: exit 4, not a pass.
func TestRunWithNoJourneyIsInconclusive(t *testing.T) {
	t.Parallel()
	target, hits := failingServer(t)
	sc := scenarioFile(t, target, "")
	code, _, stderr := run(t, nil, "run", "--no-tui", "--rate", "0.01", "--duration", "200ms", sc)
	// The one request is the pre-flight check of the target.
	if code != cli.ExitInconclusive || !strings.Contains(stderr, "run inconclusive (exit 4): no journey started") || hits.Load() > 1 {
		t.Errorf("exit %d after %d requests, want 4 and only the pre-flight\n%s", code, hits.Load(), stderr)
	}
}
