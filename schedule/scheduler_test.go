package schedule

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
	"github.com/understudy-dev/understudy/scenarios"
)

// never is a cron spec that does not fall due while a test runs, for tests
// that fire entries by hand.
const never = "0 0 1 1 *"

func newTestScheduler(t *testing.T, cfg Config, opts Options) *Scheduler {
	t.Helper()
	s, err := New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// TestOverlapSkippedNeverConcurrent runs two entries on "@every 1s" that
// share one scenario file, with runs that last until the test releases
// them: later starts are skipped and counted, and never do two runs of
// the file overlap.
func TestOverlapSkippedNeverConcurrent(t *testing.T) { bubble(t, testOverlapSkippedNeverConcurrent) }

func testOverlapSkippedNeverConcurrent(t *testing.T) {
	dir := t.TempDir()
	file := scenarioFile(t, dir, "shared.yaml")
	l := newFakeLauncher(func(Job) fakePlan { return fakePlan{block: true} })
	s := newTestScheduler(t, Config{Entries: []Entry{
		{Name: "a", Scenario: file, Cron: "@every 1s", Retry: -1},
		{Name: "b", Scenario: file, Cron: "@every 1s", Retry: -1},
	}}, Options{Launcher: l})
	cancel, done := startScheduler(t, s)

	skipped := func() int64 {
		var n int64
		for _, st := range s.Status() {
			n += st.Counts[ResultSkippedOverlap]
		}
		return n
	}
	testio.Eventually(t, "a run to start", func() bool { return len(l.started()) >= 1 })
	testio.Eventually(t, "two skipped starts", func() bool { return skipped() >= 2 })
	if got := len(l.started()); got != 1 {
		t.Fatalf("started %d runs while the first still ran; want 1", got)
	}
	close(l.release) // the blocked run ends; later ones end at once
	testio.Eventually(t, "a second run", func() bool { return len(l.started()) >= 2 })
	stopScheduler(t, cancel, done)

	if got := l.maxRunning.Load(); got != 1 {
		t.Errorf("at most %d runs of one scenario at once; want 1", got)
	}
	var passed int64
	for _, st := range s.Status() {
		passed += st.Counts[ResultPassed]
	}
	if got, want := passed, int64(len(l.started())); got != want {
		t.Errorf("passed runs = %d, want one per start (%d)", got, want)
	}
}

// TestBlackoutSkipsStarts fires an entry at chosen times of a fake clock:
// starts in a blackout are skipped and counted, others run.
func TestBlackoutSkipsStarts(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   time.Time
		run  bool
	}{
		{"weekday morning", time.Date(2025, 6, 4, 9, 0, 0, 0, berlin), true},   // Wednesday
		{"lunch in Berlin", time.Date(2025, 6, 4, 12, 0, 0, 0, berlin), false}, // 11:30-14:00 Berlin
		{"lunch ends", time.Date(2025, 6, 4, 14, 0, 0, 0, berlin), true},       // To is exclusive
		{"lunch starts", time.Date(2025, 6, 4, 11, 30, 0, 0, berlin), false},   // From is inclusive
		{"saturday", time.Date(2025, 6, 7, 9, 0, 0, 0, time.UTC), false},       // days: [sat, sun] (UTC)
		{"sunday late", time.Date(2025, 6, 8, 23, 59, 0, 0, time.UTC), false},  //
		{"monday just after midnight UTC", time.Date(2025, 6, 9, 0, 1, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock(tt.at)
			l := newFakeLauncher(nil)
			s := newTestScheduler(t, Config{Timezone: "UTC", Entries: []Entry{{
				Name: "e", Scenario: scenarioFile(t, t.TempDir(), "s.yaml"), Cron: never,
				Blackouts: []Blackout{
					{Days: []string{"sat", "sun"}},
					{From: "11:30", To: "14:00", Timezone: "Europe/Berlin"},
				},
			}}}, Options{Launcher: l, Now: clk.now})
			s.fire(s.entries[0])
			st := status(t, s, "e")
			gotRun := len(l.started()) == 1
			if gotRun != tt.run {
				t.Fatalf("at %v: ran = %v, want %v", tt.at, gotRun, tt.run)
			}
			wantSkipped := int64(0)
			if !tt.run {
				wantSkipped = 1
			}
			if got := st.Counts[ResultSkippedBlackout]; got != wantSkipped {
				t.Errorf("skipped_blackout = %d, want %d", got, wantSkipped)
			}
		})
	}
}

// TestBlackoutStopsRunningAttempt starts a long run outside a blackout,
// moves the clock into one, and expects the run to be stopped gracefully
// and recorded as stopped.
func TestBlackoutStopsRunningAttempt(t *testing.T) { bubble(t, testBlackoutStopsRunningAttempt) }

func testBlackoutStopsRunningAttempt(t *testing.T) {
	clk := newFakeClock(time.Date(2025, 6, 4, 11, 0, 0, 0, time.UTC))
	l := newFakeLauncher(func(Job) fakePlan { return fakePlan{block: true} })
	s := newTestScheduler(t, Config{Timezone: "UTC", Entries: []Entry{{
		Name: "e", Scenario: scenarioFile(t, t.TempDir(), "s.yaml"), Cron: never,
		Blackouts: []Blackout{{From: "11:30", To: "14:00"}},
	}}}, Options{Launcher: l, Now: clk.now})
	s.checkEvery = 5 * time.Millisecond
	cancel, done := startScheduler(t, s)

	fired := make(chan struct{})
	go func() { defer close(fired); s.fire(s.entries[0]) }()
	testio.Eventually(t, "the run to start", func() bool { return l.lastRun() != nil })
	if l.lastRun().stopped.Load() {
		t.Fatal("run stopped before the blackout began")
	}
	clk.set(time.Date(2025, 6, 4, 11, 30, 0, 0, time.UTC))
	select {
	case <-fired:
	case <-time.After(20 * time.Second):
		t.Fatal("the run was not stopped when the blackout began")
	}
	stopScheduler(t, cancel, done)
	h := s.History()
	if len(h) != 1 || h[0].Result != ResultStopped || h[0].Note != "blackout began" {
		t.Fatalf("history = %+v; want one stopped run noted \"blackout began\"", h)
	}
	if r := l.lastRun(); !r.stopped.Load() || r.killed.Load() {
		t.Errorf("stopped = %v, killed = %v; want a graceful stop", r.stopped.Load(), r.killed.Load())
	}
}

// TestRetry covers the retry rule: a failed run gets one more attempt by
// default, an aborted or passing one none.
func TestRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		retry        int
		plans        []fakePlan // per attempt; the last repeats
		wantResult   Result
		wantAttempts int
	}{
		{"pass first", 0, []fakePlan{{}}, ResultPassed, 1},
		{"fail then pass", 0, []fakePlan{{fail: true}, {}}, ResultPassed, 2},
		{"fail twice", 0, []fakePlan{{fail: true}}, ResultFailed, 2},
		{"no retry", -1, []fakePlan{{fail: true}}, ResultFailed, 1},
		{"three retries", 3, []fakePlan{{fail: true}}, ResultFailed, 4},
		{"start error then pass", 0, []fakePlan{{startErr: errStart}, {}}, ResultPassed, 2},
		{"start error twice", 0, []fakePlan{{startErr: errStart}}, ResultError, 2},
		{"aborted is not retried", 0, []fakePlan{{outcome: scenarios.OutcomeAborted, fail: true}}, ResultAborted, 1},
		{"killed is not retried", 0, []fakePlan{{outcome: scenarios.OutcomeKilled}}, ResultStopped, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				l := newFakeLauncher(func(j Job) fakePlan { return tt.plans[min(j.Attempt, len(tt.plans))-1] })
				s := newTestScheduler(t, Config{Entries: []Entry{{
					Name: "e", Scenario: scenarioFile(t, t.TempDir(), "s.yaml"), Cron: never,
					Retry: tt.retry, RetryDelay: time.Millisecond,
				}}}, Options{Launcher: l})
				s.fire(s.entries[0])
				h := s.History()
				if len(h) != 1 {
					t.Fatalf("history has %d runs, want 1", len(h))
				}
				if got := h[0].Result; got != tt.wantResult {
					t.Errorf("result = %s, want %s", got, tt.wantResult)
				}
				if got := len(h[0].Attempts); got != tt.wantAttempts {
					t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
				}
				st := status(t, s, "e")
				if got, want := st.Retries, int64(tt.wantAttempts-1); got != want {
					t.Errorf("retries = %d, want %d", got, want)
				}
				if got := st.Counts[tt.wantResult]; got != 1 {
					t.Errorf("counts[%s] = %d, want 1 (one start, one count)", tt.wantResult, got)
				}
				for i, j := range l.started() {
					if j.Attempt != i+1 {
						t.Errorf("job %d has Attempt %d", i, j.Attempt)
					}
				}
			})
		})
	}
}

// TestRetryCancelledByStop stops the scheduler while a failed run waits
// for its retry: the retry is not made and the run counts as failed.
func TestRetryCancelledByStop(t *testing.T) { bubble(t, testRetryCancelledByStop) }

func testRetryCancelledByStop(t *testing.T) {
	l := newFakeLauncher(func(Job) fakePlan { return fakePlan{fail: true} })
	s := newTestScheduler(t, Config{Entries: []Entry{{
		Name: "e", Scenario: scenarioFile(t, t.TempDir(), "s.yaml"), Cron: never, RetryDelay: time.Hour,
	}}}, Options{Launcher: l})
	cancel, done := startScheduler(t, s)
	fired := make(chan struct{})
	go func() { defer close(fired); s.fire(s.entries[0]) }()
	testio.Eventually(t, "the retry to be due", func() bool { return status(t, s, "e").Retries == 1 })
	stopScheduler(t, cancel, done)
	select {
	case <-fired:
	case <-time.After(20 * time.Second):
		t.Fatal("the retry wait did not end when the scheduler stopped")
	}
	h := s.History()
	if len(h) != 1 || h[0].Result != ResultFailed || len(h[0].Attempts) != 1 ||
		h[0].Note != "retry cancelled: scheduler stopping" {
		t.Fatalf("history = %+v; want one failed run of one attempt, retry cancelled", h)
	}
}

// TestHistoryPersistedAndBounded records more runs than the history holds,
// reads the file back, and starts a second scheduler from it.
func TestHistoryPersistedAndBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := Config{
		HistoryFile: filepath.Join(dir, "history.json"),
		HistorySize: 3,
		ResultDir:   filepath.Join(dir, "results"), // created by New
		Entries:     []Entry{{Name: "e", Scenario: scenarioFile(t, dir, "s.yaml"), Cron: never}},
	}
	l := newFakeLauncher(nil)
	s := newTestScheduler(t, cfg, Options{Launcher: l})
	for range 5 {
		s.fire(s.entries[0])
	}
	jobs := l.started()
	if len(jobs) != 5 {
		t.Fatalf("started %d runs, want 5", len(jobs))
	}
	h, err := ReadHistory(cfg.HistoryFile)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range h.Runs {
		got = append(got, r.Attempts[0].RunID)
	}
	want := []string{jobs[2].RunID, jobs[3].RunID, jobs[4].RunID}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("history run ids = %v, want the newest three %v", got, want)
	}
	fi, err := os.Stat(cfg.HistoryFile)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("history file mode = %v, want 0600", mode)
	}
	last := h.Runs[2].Attempts[0]
	data, err := os.ReadFile(last.ResultFile)
	if err != nil {
		t.Fatalf("result file: %v", err)
	}
	var res scenarios.Result
	if err := json.Unmarshal(data, &res); err != nil || res.RunID != last.RunID {
		t.Errorf("result file holds run %q (err %v), want %q", res.RunID, err, last.RunID)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".*tmp")); len(matches) > 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}

	// A restarted scheduler carries on from the file.
	s2 := newTestScheduler(t, cfg, Options{Launcher: l})
	if got := len(s2.History()); got != 3 {
		t.Fatalf("reloaded history has %d runs, want 3", got)
	}
	s2.fire(s2.entries[0])
	h2 := s2.History()
	if len(h2) != 3 || h2[0].Attempts[0].RunID != jobs[3].RunID || h2[2].Attempts[0].RunID != l.started()[5].RunID {
		t.Errorf("after one more run the history is %v; want runs 4, 5 and 6", h2)
	}
}

// TestGracefulStopWaitsForRun cancels Run's context while a run is going:
// the run is asked to stop (not killed), and Run returns only after it
// has drained and been recorded.
func TestGracefulStopWaitsForRun(t *testing.T) { bubble(t, testGracefulStopWaitsForRun) }

func testGracefulStopWaitsForRun(t *testing.T) {
	drain := make(chan struct{})
	l := newFakeLauncher(func(Job) fakePlan { return fakePlan{block: true, drain: drain} })
	s := newTestScheduler(t, Config{Entries: []Entry{{
		Name: "e", Scenario: scenarioFile(t, t.TempDir(), "s.yaml"), Cron: "@every 1s",
	}}}, Options{Launcher: l})
	cancel, done := startScheduler(t, s)
	testio.Eventually(t, "the run to start", func() bool { return l.lastRun() != nil })

	cancel()
	run := l.lastRun()
	testio.Eventually(t, "the run to be asked to stop", run.stopped.Load)
	select {
	case <-done:
		t.Fatal("Run returned while the scenario was still draining")
	default:
	}
	close(drain)
	stopScheduler(t, cancel, done)
	if !run.ended.Load() || run.killed.Load() {
		t.Fatalf("ended = %v, killed = %v; want a graceful end before Run returned", run.ended.Load(), run.killed.Load())
	}
	h := s.History()
	if len(h) != 1 || h[0].Result != ResultStopped || h[0].Note != "scheduler stopping" {
		t.Fatalf("history = %+v; want one stopped run", h)
	}
	if got := len(l.started()); got != 1 {
		t.Errorf("%d runs started; want none after the stop", got)
	}
}

// TestKill kills a running scenario: Run returns without a drain.
func TestKill(t *testing.T) { bubble(t, testKill) }

func testKill(t *testing.T) {
	drain := make(chan struct{}) // never closed: only a kill ends the run
	l := newFakeLauncher(func(Job) fakePlan { return fakePlan{block: true, drain: drain} })
	s := newTestScheduler(t, Config{Entries: []Entry{{
		Name: "e", Scenario: scenarioFile(t, t.TempDir(), "s.yaml"), Cron: "@every 1s",
	}}}, Options{Launcher: l})
	_, done := startScheduler(t, s)
	testio.Eventually(t, "the run to start", func() bool { return l.lastRun() != nil })
	s.Kill()
	s.Kill() // twice is fine
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after Kill")
	}
	if !l.lastRun().killed.Load() {
		t.Error("the run was not killed")
	}
	if h := s.History(); len(h) != 1 || h[0].Result != ResultStopped || h[0].Note != "scheduler killed" {
		t.Errorf("history = %+v; want one run stopped by the kill", h)
	}
}

// TestWatch checks the hook metrics use: called once per attempt, done
// after the attempt ended.
func TestWatch(t *testing.T) { bubble(t, testWatch) }

func testWatch(t *testing.T) {
	l := newFakeLauncher(func(j Job) fakePlan { return fakePlan{fail: j.Attempt == 1} })
	var mu sync.Mutex
	var events []string
	watch := func(snap func() scenarios.Snapshot) func() {
		mu.Lock()
		events = append(events, "start "+snap().RunID)
		mu.Unlock()
		return func() {
			mu.Lock()
			events = append(events, "done "+snap().RunID)
			mu.Unlock()
		}
	}
	s := newTestScheduler(t, Config{Entries: []Entry{{
		Name: "e", Scenario: scenarioFile(t, t.TempDir(), "s.yaml"), Cron: never, RetryDelay: time.Millisecond,
	}}}, Options{Launcher: l, Watch: watch})
	s.fire(s.entries[0])
	jobs := l.started()
	want := []string{"start " + jobs[0].RunID, "done " + jobs[0].RunID, "start " + jobs[1].RunID, "done " + jobs[1].RunID}
	if strings.Join(events, "|") != strings.Join(want, "|") {
		t.Errorf("watch events = %v, want %v", events, want)
	}
}

// TestStatusNext checks that a running scheduler reports when each
// enabled entry is next due, and nothing for a disabled one.
func TestStatusNext(t *testing.T) { bubble(t, testStatusNext) }

func testStatusNext(t *testing.T) {
	off := false
	dir := t.TempDir()
	s := newTestScheduler(t, Config{Entries: []Entry{
		{Name: "on", Scenario: scenarioFile(t, dir, "a.yaml"), Cron: never},
		{Name: "off", Scenario: scenarioFile(t, dir, "b.yaml"), Cron: never, Enabled: &off},
	}}, Options{Launcher: newFakeLauncher(nil)})
	cancel, done := startScheduler(t, s)
	testio.Eventually(t, "a next time", func() bool { return !status(t, s, "on").Next.IsZero() })
	if next := status(t, s, "on").Next; next.Month() != time.January || next.Day() != 1 {
		t.Errorf("next = %v, want the 1st of January", next)
	}
	if st := status(t, s, "off"); st.Enabled || !st.Next.IsZero() {
		t.Errorf("disabled entry: enabled = %v, next = %v", st.Enabled, st.Next)
	}
	stopScheduler(t, cancel, done)
	if got := len(status(t, s, "on").Counts); got != len(Results) {
		t.Errorf("counts has %d results, want all %d", got, len(Results))
	}
}

// TestRunTwice refuses a second Run.
func TestRunTwice(t *testing.T) {
	t.Parallel()
	s := newTestScheduler(t, Config{Entries: []Entry{{
		Name: "e", Scenario: scenarioFile(t, t.TempDir(), "s.yaml"), Cron: never,
	}}}, Options{Launcher: newFakeLauncher(nil)})
	cancel, done := startScheduler(t, s)
	stopScheduler(t, cancel, done)
	if err := s.Run(t.Context()); err == nil {
		t.Error("second Run: no error")
	}
}
