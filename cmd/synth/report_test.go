package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/scenarios"
	"github.com/understudy-dev/understudy/stats"
)

func mergedResult(t *testing.T, stdout string) *scenarios.Result {
	t.Helper()
	var res scenarios.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}
	return &res
}

// Two runners' result files merged by synth report give, per step, the
// percentiles of one histogram of every recorded request.
func TestReportMergesRunners(t *testing.T) {
	t.Parallel()
	target := startDemo(t)
	sc := scenarioFile(t, target, "")
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "runner-a.usc"), filepath.Join(dir, "shared") + string(filepath.Separator)}
	var wg sync.WaitGroup
	for i, out := range files {
		wg.Go(func() {
			code, stdout, stderr := run(t, nil, "run", "--no-tui", "--duration", "1s", "--rate", "30",
				"--run-id", fmt.Sprintf("runner-%d", i), "--out", out, sc)
			if code != cli.ExitOK || !strings.Contains(stdout, "results: ") || !strings.Contains(stdout, " 0 dropped") {
				t.Errorf("runner %d: exit %d\n%s\n%s", i, code, stdout, stderr)
			}
		})
	}
	wg.Wait()
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("result file %s: %v (%v), want a 0600 file at the --out path", files[0], fi, err)
	}

	want := map[string]*stats.Histogram{}
	var records int64
	if _, err := capture.ReadFiles(files, func(r capture.Record) error {
		s := r.Synth
		name := s.Journey + "/" + s.Step
		if want[name] == nil {
			want[name] = &stats.Histogram{}
		}
		want[name].Record(s.Latency)
		records++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, nil, "report", "--format", "json", files[0], files[1])
	if code != cli.ExitOK {
		t.Fatalf("report exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, fmt.Sprintf("read 2 files: %d records", records)) {
		t.Errorf("stderr does not count the %d records:\n%s", records, stderr)
	}
	res := mergedResult(t, stdout)
	if len(res.Steps) != 2 || res.Steps[0].Name() != "order/create" || !res.Steps[1].Cleanup {
		t.Fatalf("steps = %+v, want order/create then the cleanup order/cancel", res.Steps)
	}
	for _, st := range res.Steps {
		h := want[st.Name()]
		if h == nil || h.Count() == 0 {
			t.Fatalf("%s: no records", st.Name())
		}
		if st.Requests != h.Count() || st.Latency.P99 != h.Quantile(0.99) || st.Latency.P50 != h.Quantile(0.5) {
			t.Errorf("%s: %d requests, p50 %v, p99 %v; one histogram of all records: %d, %v, %v",
				st.Name(), st.Requests, st.Latency.P50, st.Latency.P99, h.Count(), h.Quantile(0.5), h.Quantile(0.99))
		}
	}
	if res.Journeys.Started != res.Steps[0].Requests || res.Journeys.Failed != 0 || res.Cleanups.Ran != res.Steps[1].Requests {
		t.Errorf("journeys %+v cleanups %+v, want one journey per create and every cleanup counted", res.Journeys, res.Cleanups)
	}
	if !strings.Contains(res.RunID, "runner-0") || !strings.Contains(res.RunID, "runner-1") || res.Ceiling != 200 {
		t.Errorf("run id %q, ceiling %v; want both runs named and their ceilings added", res.RunID, res.Ceiling)
	}
	for _, format := range []string{"text", "md", "xml"} {
		if code, out, _ := run(t, nil, "report", "--format", format, dir); code != cli.ExitOK || !strings.Contains(out, "create") {
			t.Errorf("--format %s on the directory: exit %d\n%s", format, code, out)
		}
	}
}

// writeResults writes synthetic step records to a result file.
func writeResults(t *testing.T, dir, runID string, labels map[string]string, recs []capture.SynthRecord) string {
	t.Helper()
	w, err := capture.NewWriter(capture.WriterOptions{Dir: dir, Prefix: runID, Header: capture.Header{Tool: "synth", Labels: labels}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		recs[i].RunID = runID
		if err := w.WriteSynth(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.Files()[0]
}

// A fast runner and a slow one: the merged p99 is the slow one's, which
// averaging the runners' p99s would miss; failures, checks, cleanups and
// the strictest threshold carry over.
func TestReportNeverAveragesPercentiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	start := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	steps := []scenarios.StepName{{Journey: "j", Step: "get"}, {Journey: "j", Step: "undo", Cleanup: true}}
	batch := func(n int, latency time.Duration, failEvery int) []capture.SynthRecord {
		var recs []capture.SynthRecord
		for i := range n {
			r := capture.SynthRecord{Journey: "j", Step: "get", JourneyID: fmt.Sprint(i), Status: 200, Passed: true,
				Latency: latency, Intended: start.Add(time.Duration(i) * time.Millisecond)}
			if failEvery > 0 && i%failEvery == 0 {
				r.Status, r.Passed, r.Failures = 500, false, []string{"status: status 500, want one of [200]"}
			}
			recs = append(recs, r, capture.SynthRecord{Journey: "j", Step: "undo", JourneyID: fmt.Sprint(i),
				Status: 200, Passed: true, Latency: time.Millisecond, Intended: r.Intended.Add(latency)})
		}
		return recs
	}
	fast := writeResults(t, dir, "fast", scenarios.RunInfo{RunID: "fast", Steps: steps, MinSuccessRate: 0.5}.Labels(),
		batch(100, time.Millisecond, 0))
	slow := writeResults(t, dir, "slow", scenarios.RunInfo{RunID: "slow", Steps: steps, MinSuccessRate: 0.95}.Labels(),
		batch(100, 100*time.Millisecond, 5))
	// Merged, 180 of 200 journeys succeed: a pass by the fast run's 0.5,
	// a fail by the slow run's 0.95, the strictest, which applies.
	tests := []struct {
		name       string
		files      []string
		wantP99    time.Duration
		wantFailed int64
		wantCode   int
	}{
		{"fast alone", []string{fast}, time.Millisecond, 0, cli.ExitOK},
		{"slow alone", []string{slow}, 100 * time.Millisecond, 20, cli.ExitFail},
		{"merged", []string{fast, slow}, 100 * time.Millisecond, 20, cli.ExitFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, nil, append([]string{"report", "--format", "json"}, tt.files...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, tt.wantCode, stderr)
			}
			res := mergedResult(t, stdout)
			get := res.Steps[0]
			var h stats.Histogram
			h.Record(tt.wantP99)
			if get.Latency.P99 != h.Quantile(0.99) {
				t.Errorf("p99 %v, want %v", get.Latency.P99, h.Quantile(0.99))
			}
			n := int64(100 * len(tt.files))
			if get.Requests != n || get.Failures != tt.wantFailed || get.Checks["status"] != tt.wantFailed || get.Status[500] != tt.wantFailed {
				t.Errorf("get = %+v, want %d requests, %d failed status checks", get, n, tt.wantFailed)
			}
			if res.Journeys.Started != n || res.Journeys.Failed != tt.wantFailed || res.Cleanups.Ran != n || res.Steps[1].Cleanup != true {
				t.Errorf("journeys %+v cleanups %+v steps %+v", res.Journeys, res.Cleanups, res.Steps)
			}
		})
	}
}

func TestReportDamageAndBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	recs := make([]capture.SynthRecord, 20)
	for i := range recs {
		recs[i] = capture.SynthRecord{Journey: "j", Step: "s", JourneyID: fmt.Sprint(i), Status: 200, Passed: true, Latency: time.Millisecond}
	}
	path := writeResults(t, dir, "r", nil, recs)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, nil, "report", path)
	if code != cli.ExitOK || !strings.Contains(stderr, "19 records") || !strings.Contains(stderr, "1 truncated tails") ||
		!strings.Contains(stdout, "j/s") {
		t.Errorf("cut file: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	notCapture := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCapture, []byte("hello"), 0o600)
	for _, args := range [][]string{
		{"report", filepath.Join(dir, "missing.usc")},
		{"report", notCapture},
		{"report", "--format", "pdf", path},
		{"report"},
	} {
		if code, _, stderr := run(t, nil, args...); code != cli.ExitConfig {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, cli.ExitConfig, stderr)
		}
	}
}

func TestOutConfig(t *testing.T) {
	t.Setenv("SYNTH_OUT", "/from/env/results.usc")
	cmd := newRunCmd(nil)
	if err := cmd.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cmd)
	if err != nil || cfg.Out != "/from/env/results.usc" {
		t.Errorf("out = %q (%v), want SYNTH_OUT's", cfg.Out, err)
	}
	t.Setenv("SYNTH_OUT", "results.json")
	if _, err := loadConfig(cmd); err == nil || !strings.Contains(err.Error(), "out:") {
		t.Errorf("out results.json: err = %v, want one naming out", err)
	}
}
