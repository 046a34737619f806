package schedule

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/notify"
)

// TestNotifyOncePerRun: a run that fails, is retried and fails again is
// told once, after its last attempt, to the schedule's webhooks and its
// scenario's; a passing run only to those that want passed runs.
func TestNotifyOncePerRun(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	posts := map[string][]map[string]any{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("%s got %q", r.URL.Path, b)
		}
		mu.Lock()
		posts[r.URL.Path] = append(posts[r.URL.Path], v)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	fromScenario := []notify.Target{{Webhook: srv.URL + "/scenario", On: []notify.Event{notify.Failed, notify.Passed}}}
	l := newFakeLauncher(func(j Job) fakePlan { return fakePlan{fail: j.Entry == "bad", notify: fromScenario} })
	dir := t.TempDir()
	s := newTestScheduler(t, Config{
		ResultDir: dir,
		Notify:    []notify.Target{{Webhook: srv.URL + "/schedule"}},
		Entries: []Entry{
			{Name: "bad", Scenario: scenarioFile(t, dir, "a.yaml"), Cron: never, RetryDelay: time.Millisecond},
			{Name: "good", Scenario: scenarioFile(t, dir, "b.yaml"), Cron: never},
		},
	}, Options{Launcher: l})
	s.fire(s.entries[0])
	s.fire(s.entries[1])
	mu.Lock()
	defer mu.Unlock()
	sched, scen := posts["/schedule"], posts["/scenario"]
	if len(sched) != 1 || sched[0]["name"] != "bad" || sched[0]["event"] != "failed" || sched[0]["tool"] != "synth schedule" {
		t.Errorf("schedule webhook got %v, want the failed run of bad once (not per attempt)", sched)
	}
	if reports, _ := sched[0]["reports"].([]any); len(reports) != 1 || !strings.HasPrefix(reports[0].(string), dir) {
		t.Errorf("reports %v, want the final attempt's result file", sched[0]["reports"])
	}
	if len(scen) != 2 || scen[0]["event"] != "failed" || scen[1]["event"] != "passed" || scen[1]["name"] != "good" {
		t.Errorf("scenario webhook got %v, want bad's failure and good's pass", scen)
	}
}
