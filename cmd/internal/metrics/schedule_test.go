package metrics

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/understudy-dev/understudy/schedule"
)

// fakeStatus is a scheduler's status that the test changes between
// scrapes.
type fakeStatus struct {
	mu      sync.Mutex
	entries []schedule.EntryStatus
	calls   int
}

func (f *fakeStatus) status() []schedule.EntryStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.entries
}

func (f *fakeStatus) set(entries ...schedule.EntryStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = entries
}

// counts returns every Result at zero but those in set.
func counts(set map[schedule.Result]int64) map[schedule.Result]int64 {
	out := map[schedule.Result]int64{}
	for _, r := range schedule.Results {
		out[r] = set[r]
	}
	return out
}

// TestScheduleExposition checks every series (and help text) the
// scheduler's status becomes, against testdata/schedule.golden: one entry
// running with a next start and a last success, one disabled that never
// ran (no timestamps).
func TestScheduleExposition(t *testing.T) {
	t.Parallel()
	f := &fakeStatus{}
	f.set(
		schedule.EntryStatus{
			Name: "checkout-hourly", Scenario: "checkout.yaml", Cron: "@hourly", Enabled: true,
			Running: true, RunID: "abc123",
			Next:       time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC),
			Counts:     counts(map[schedule.Result]int64{schedule.ResultPassed: 5, schedule.ResultFailed: 1, schedule.ResultSkippedOverlap: 2}),
			Retries:    1,
			LastResult: schedule.ResultPassed,
			LastPassed: time.Date(2026, 11, 23, 12, 0, 41, 0, time.UTC),
		},
		schedule.EntryStatus{
			Name: "smoke", Scenario: "smoke.yaml", Cron: "*/5 * * * *", Enabled: false,
			Counts: counts(nil),
		},
	)
	reg := prometheus.NewPedanticRegistry()
	if err := NewSchedule(reg, f.status); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, mf := range families(t, reg) {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatal(err)
		}
	}
	golden := filepath.Join("testdata", "schedule.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("exposition differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
	lintClean(t, reg)
}

// TestScheduleReadsAtScrape: the status is read at every scrape, so a run
// finishing between two scrapes shows in the second.
func TestScheduleReadsAtScrape(t *testing.T) {
	t.Parallel()
	f := &fakeStatus{}
	entry := schedule.EntryStatus{Name: "e", Enabled: true, Running: true, Counts: counts(nil)}
	f.set(entry)
	reg := prometheus.NewPedanticRegistry()
	if err := NewSchedule(reg, f.status); err != nil {
		t.Fatal(err)
	}
	names := []string{"synth_schedule_running", "synth_schedule_runs_total", "synth_schedule_last_success_timestamp_seconds"}
	passed := sk("synth_schedule_runs_total", "result", "passed", "scenario", "e")
	got := series(t, reg, names...)
	if got[sk("synth_schedule_running", "scenario", "e")] != 1 || got[passed] != 0 {
		t.Errorf("while running: %v", got)
	}
	entry.Running, entry.Counts, entry.LastPassed = false, counts(map[schedule.Result]int64{schedule.ResultPassed: 1}), time.Unix(1800000000, 0)
	f.set(entry)
	got = series(t, reg, names...)
	want := map[string]float64{sk("synth_schedule_running", "scenario", "e"): 0,
		sk("synth_schedule_last_success_timestamp_seconds", "scenario", "e"): 1800000000}
	for _, r := range schedule.Results {
		want[sk("synth_schedule_runs_total", "result", string(r), "scenario", "e")] = 0
	}
	want[passed] = 1
	checkSeries(t, got, want)
	if f.calls != 2 {
		t.Errorf("status read %d times for two scrapes, want 2", f.calls)
	}
}

// TestNewScheduleNeedsStatus: a nil status func is refused, by name.
func TestNewScheduleNeedsStatus(t *testing.T) {
	t.Parallel()
	err := NewSchedule(prometheus.NewPedanticRegistry(), nil)
	if err == nil || !strings.Contains(err.Error(), "status: required") {
		t.Errorf("NewSchedule(nil) = %v, want an error naming status", err)
	}
}
