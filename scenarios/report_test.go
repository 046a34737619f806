package scenarios

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/internal/junit"
	"github.com/understudy-dev/understudy/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// sampleResult is a fixed result with a failing step, for golden reports.
func sampleResult() *Result {
	ms := time.Millisecond
	return &Result{Snapshot: Snapshot{
		Scenario: "order-journey", RunID: "abc123", Target: "http://127.0.0.1:8080",
		State: StateDone, Outcome: OutcomeCompleted,
		Started: time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC), Elapsed: 60*time.Second + 120*ms, Active: 60 * time.Second,
		TargetRate: 50, AchievedRate: 49.95, CurrentTarget: 50, CurrentRate: 50, Ceiling: 500,
		MaxInFlight: 200, MinSuccessRate: 0.99,
		Journeys: JourneyCounts{Started: 2997, Dropped: 3, Succeeded: 2990, Failed: 7},
		Cleanups: CleanupCounts{Ran: 2240, Failed: 0, Skipped: 7},
		Steps: []StepStats{
			{Journey: "place-order", Step: "create", Requests: 2247, Failures: 7,
				Latency: stats.Summary{Count: 2247, Min: ms, Mean: 3 * ms, P50: 2 * ms, P90: 5 * ms, P99: 9 * ms, Max: 40 * ms},
				Status:  map[int]int64{201: 2242, 503: 5}, Errors: map[string]int64{"timeout": 2},
				Checks: map[string]int64{"status": 5},
				Exemplars: []Exemplar{
					{JourneyID: "abc123-17", Check: "status", Msg: "status 503, want one of [201]"},
					{JourneyID: "abc123-90", Check: "timeout", Msg: "context deadline exceeded"},
				}},
			{Journey: "place-order", Step: "fetch", Requests: 2240,
				Latency: stats.Summary{Count: 2240, Min: ms, Mean: ms, P50: ms, P90: 2 * ms, P99: 3 * ms, Max: 7 * ms},
				Status:  map[int]int64{200: 2240}},
			{Journey: "place-order", Step: "cancel", Cleanup: true, Requests: 2240, Skipped: 7,
				Latency: stats.Summary{Count: 2240, Min: ms, Mean: ms, P50: ms, P90: ms, P99: 2 * ms, Max: 5 * ms},
				Status:  map[int]int64{200: 2240}, Checks: map[string]int64{"missing_capture": 7}},
			{Journey: "browse", Step: "menu", Requests: 750,
				Latency: stats.Summary{Count: 750, Min: ms, Mean: ms, P50: ms, P90: ms, P99: ms, Max: 2 * ms},
				Status:  map[int]int64{200: 750}},
		},
	}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestReportsGolden(t *testing.T) {
	t.Parallel()
	aborted := sampleResult()
	aborted.Outcome = OutcomeAborted
	aborted.Reason = "guardrail: error rate 12.0% (60 of 500 requests in the last 10s) is above max_error_rate 5.0%, sustained for 10s"
	tests := []struct {
		name  string
		res   *Result
		write func(io.Writer, *Result) error
	}{
		{"passed.txt", sampleResult(), func(w io.Writer, r *Result) error { return WriteText(w, &r.Snapshot) }},
		{"passed.md", sampleResult(), WriteMarkdown},
		{"passed.xml", sampleResult(), WriteJUnit},
		{"aborted.txt", aborted, func(w io.Writer, r *Result) error { return WriteText(w, &r.Snapshot) }},
		{"aborted.md", aborted, WriteMarkdown},
		{"aborted.xml", aborted, WriteJUnit},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := tt.write(&buf, tt.res); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		golden(t, tt.name, buf.Bytes())
	}
}

func TestJUnitIsWellFormed(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, sampleResult()); err != nil {
		t.Fatal(err)
	}
	var doc junit.Suites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit output does not parse: %v", err)
	}
	// Four steps and the run; only create failed: the cleanups skipped
	// for want of a capture belong to journeys that failed at create.
	if doc.Tests != 5 || doc.Failures != 1 {
		t.Errorf("tests %d failures %d, want 5 and 1", doc.Tests, doc.Failures)
	}
}

func TestWriteReportFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, ext := range []string{".json", ".md", ".xml"} {
		path := filepath.Join(dir, "report"+ext)
		if err := WriteReportFile(path, sampleResult()); err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", ext, fi.Mode().Perm())
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatalf("JSON report does not decode: %v", err)
	}
	if diff := cmp.Diff(sampleResult(), &back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("%d files in the directory, want the 3 reports and no temporary files", len(entries))
	}
	if err := WriteReportFile(filepath.Join(dir, "report.html"), sampleResult()); err == nil ||
		!strings.Contains(err.Error(), "want .json, .md or .xml") {
		t.Errorf("unknown extension: %v, want an error naming the accepted ones", err)
	}
	if err := WriteReportFile(filepath.Join(dir, "missing", "r.json"), sampleResult()); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}
