package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
	"github.com/understudy-dev/understudy/scenarios"
)

// TestRealRunDefaultLauncher runs a tiny scenario with RunnerLauncher
// against a loopback server on "@every 1s" and checks what reached the
// server, the history and the result file.
func TestRealRunDefaultLauncher(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	runs := map[string]int{} // X-Synthetic-Run -> requests
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			return // the run's pre-flight, not one of its journeys' requests
		}
		mu.Lock()
		runs[r.Header.Get("X-Synthetic-Run")]++
		mu.Unlock()
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer srv.Close()

	dir := t.TempDir()
	sc := filepath.Join(dir, "tiny.yaml")
	yaml := fmt.Sprintf(`name: tiny
target: %s
rate: {rate: 50}
duration: 10s
journeys:
  - name: ping
    steps:
      - name: get
        path: /ping
        assert: {status: [200], json: {ok: true}}
`, srv.URL)
	if err := os.WriteFile(sc, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		HistoryFile: filepath.Join(dir, "history.json"),
		ResultDir:   filepath.Join(dir, "results"),
		Entries: []Entry{{
			Name: "tiny", Scenario: sc, Cron: "@every 1s", Rate: 20, Duration: 200 * time.Millisecond,
		}},
	}
	if err := CheckScenarios(cfg); err != nil {
		t.Fatalf("CheckScenarios: %v", err)
	}
	s := newTestScheduler(t, cfg, Options{})
	cancel, done := startScheduler(t, s)
	testio.Eventually(t, "a recorded run", func() bool { return len(s.History()) >= 1 })
	stopScheduler(t, cancel, done)

	rec := s.History()[0]
	a := rec.Attempts[0]
	if rec.Result != ResultPassed || a.Outcome != scenarios.OutcomeCompleted {
		t.Fatalf("run = %+v; want passed and completed", rec)
	}
	mu.Lock()
	got := runs[a.RunID]
	mu.Unlock()
	if got == 0 || int64(got) != a.Requests {
		t.Errorf("server saw %d requests tagged %q; history says %d", got, a.RunID, a.Requests)
	}
	// The duration override (200ms at 20/s) is what ran, not the file's 10s.
	if a.Requests > 20 {
		t.Errorf("%d requests: the rate or duration override was not applied", a.Requests)
	}
	res, err := readResult(a.ResultFile)
	if err != nil {
		t.Fatal(err)
	}
	if res.RunID != a.RunID || res.Scenario != "tiny" || len(res.Steps) != 1 || res.Steps[0].Histogram == nil {
		t.Errorf("result file: run %q scenario %q, %d steps; want the run's full result", res.RunID, res.Scenario, len(res.Steps))
	}
	h, err := ReadHistory(cfg.HistoryFile)
	if err != nil || len(h.Runs) != len(s.History()) {
		t.Errorf("history file: %v, %d runs; want %d", err, len(h.Runs), len(s.History()))
	}
}

// TestRunnerLauncherBadScenario reports a scenario that cannot load as a
// start error naming the file.
func TestRunnerLauncherBadScenario(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing.yaml")
	_, err := RunnerLauncher{}.Start(context.Background(), Job{Entry: "e", Scenario: path})
	if err == nil {
		t.Fatal("no error for a missing scenario file")
	}
	if err := CheckScenarios(Config{Entries: []Entry{{Name: "e", Scenario: path, Cron: never}}}); err == nil {
		t.Error("CheckScenarios: no error for a missing scenario file")
	}
}

// readResult decodes a result file written by scenarios.WriteReportFile.
func readResult(path string) (*scenarios.Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var res scenarios.Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("result %q: %w", path, err)
	}
	return &res, nil
}
