package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/schedule"
)

// scheduleWait bounds every wait of these tests: generous for 2 shared
// cores under -race, short enough that a hang fails instead of stalling.
const scheduleWait = 30 * time.Second

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pingScenario is a one-step scenario named "ping" against target.
func pingScenario(target string) string {
	return fmt.Sprintf(`name: ping
target: %s
rate: {rate: 5}
duration: 1m
ceiling: 100
max_in_flight: 2
timeout: 1m
journeys:
  - name: ping
    steps:
      - {name: get, method: GET, path: /ping, assert: {status: [200]}}
`, target)
}

// runTracker is the target of a schedule test. It proves runs never
// overlap: a request tagged with one run id while another run's requests
// are in flight, or an earlier run id coming back after a later one, is a
// violation. Requests of the runs after the first are held until release
// is closed (or the request is cancelled).
type runTracker struct {
	release chan struct{}
	held    chan string // the run id of the first held request

	mu         sync.Mutex
	order      []string // run ids, by first request
	inFlight   map[string]int
	violations []string
	heldOnce   bool
}

func newRunTracker() *runTracker {
	return &runTracker{release: make(chan struct{}), held: make(chan string, 1), inFlight: map[string]int{}}
}

func (rt *runTracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead && strings.HasSuffix(r.Header.Get("X-Synthetic-Journey"), "-preflight") {
		return // a run's pre-flight: answered at once, not a journey
	}
	id := r.Header.Get("X-Synthetic-Run")
	rt.mu.Lock()
	if id == "" || r.Header.Get("X-Synthetic") != "true" {
		rt.violations = append(rt.violations, fmt.Sprintf("request without the synthetic tags: %v", r.Header))
	}
	for other := range rt.inFlight {
		if other != id {
			rt.violations = append(rt.violations, fmt.Sprintf("run %s sent while run %s had requests in flight", id, other))
		}
	}
	i := slices.Index(rt.order, id)
	switch {
	case i < 0:
		rt.order = append(rt.order, id)
		i = len(rt.order) - 1
	case i != len(rt.order)-1:
		rt.violations = append(rt.violations, fmt.Sprintf("run %s came back after run %s", id, rt.order[len(rt.order)-1]))
	}
	rt.inFlight[id]++
	hold := i > 0
	if hold && !rt.heldOnce {
		rt.heldOnce = true
		rt.held <- id
	}
	rt.mu.Unlock()
	if hold {
		select {
		case <-rt.release:
		case <-r.Context().Done():
		}
	}
	// Counted out before the answer is written, so the client cannot have
	// it while the request still counts as in flight.
	rt.mu.Lock()
	if rt.inFlight[id]--; rt.inFlight[id] == 0 {
		delete(rt.inFlight, id)
	}
	rt.mu.Unlock()
	_, _ = io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusOK)
}

func (rt *runTracker) seen() (order, violations []string) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.order), slices.Clone(rt.violations)
}

// startSchedule runs `synth schedule` in-process until ctx ends; its exit
// code arrives on the returned channel. A failed test cancels it and waits.
func startSchedule(t *testing.T, ctx context.Context, interrupts <-chan os.Signal, args ...string) (codes chan int, stdout, stderr *syncBuffer) {
	t.Helper()
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	codes = make(chan int, 1)
	ctx, cancel := context.WithCancel(ctx)
	go func() { codes <- execute(ctx, append([]string{"schedule"}, args...), stdout, stderr, interrupts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-codes:
			codes <- code
		case <-time.After(scheduleWait):
			t.Errorf("synth schedule did not end within %v of its context ending", scheduleWait)
		}
	})
	return codes, stdout, stderr
}

var adminAddrLog = regexp.MustCompile(`msg="admin server listening" addr=(\S+)`)

// adminURL waits for the admin server's address in the log.
func adminURL(t *testing.T, stderr *syncBuffer) string {
	t.Helper()
	var m []string
	stderr.WaitFor(t, "the admin server", func(string) bool {
		m = adminAddrLog.FindStringSubmatch(stderr.String())
		return m != nil
	})
	return "http://" + m[1]
}

// get fetches url with client and returns the body; a status other than
// 200 fails the test.
func get(t *testing.T, client *http.Client, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scheduleWait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, body)
	}
	return string(body)
}

// metricValues reads the samples of a Prometheus text exposition by
// series ("name{labels}").
func metricValues(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func readHistoryFile(t *testing.T, path string) *schedule.History {
	t.Helper()
	h, err := schedule.ReadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestScheduleRunsRepeatedlyWithoutOverlap runs a schedule due every 2s
// whose scenario lasts 3s. The first run passes; a start due while it runs
// is skipped; the next one runs and is held at the target, so the
// scheduler is caught mid-run when the test stops it (the SIGTERM path:
// ctx ends). While it stops, /metrics shows the finished run's figures
// and the skips; once the held requests are answered the run ends
// gracefully and the history file has both runs.
func TestScheduleRunsRepeatedlyWithoutOverlap(t *testing.T) {
	t.Parallel()
	rt := newRunTracker()
	target := httptest.NewServer(rt)
	t.Cleanup(target.Close)
	released := sync.OnceFunc(func() { close(rt.release) })

	dir := t.TempDir()
	writeFile(t, dir, "ping.yaml", pingScenario(target.URL))
	config := writeFile(t, dir, "schedule.yaml", `history_file: state/history.json
result_dir: results
entries:
  - name: every-2s
    scenario: ping.yaml
    cron: "@every 2s"
    duration: 3s
    retry: -1
`)
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	codes, stdout, stderr := startSchedule(t, ctx, nil, "--config", config, "--admin", "127.0.0.1:0")
	t.Cleanup(released) // runs first: frees a failed test's held requests, so the command can end
	base := adminURL(t, stderr)
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}

	var second string
	select {
	case second = <-rt.held:
	case code := <-codes:
		codes <- code
		t.Fatalf("synth schedule ended (exit %d) before a second run\nstderr:\n%s", code, stderr.String())
	case <-time.After(3 * scheduleWait):
		t.Fatalf("no second run reached the target\nstderr:\n%s", stderr.String())
	}

	// Mid-run: the snapshot and the status show the second run, the
	// history the first.
	var snap struct {
		Synth struct {
			RunID string `json:"run_id"`
		} `json:"synth"`
	}
	if err := json.Unmarshal([]byte(get(t, client, base+"/snapshot")), &snap); err != nil {
		t.Fatal(err)
	}
	var status struct{ Entries []schedule.EntryStatus }
	if err := json.Unmarshal([]byte(get(t, client, base+"/schedule")), &status); err != nil {
		t.Fatal(err)
	}
	if st := status.Entries; snap.Synth.RunID != second || len(st) != 1 || !st[0].Running || st[0].RunID != second || st[0].Counts[schedule.ResultPassed] != 1 {
		t.Errorf("/snapshot: synth run %q; /schedule: %+v; want run %s running, one passed before it", snap.Synth.RunID, st, second)
	}
	var served schedule.History
	if err := json.Unmarshal([]byte(get(t, client, base+"/history?entry=every-2s")), &served); err != nil {
		t.Fatal(err)
	}
	if len(served.Runs) != 1 || served.Runs[0].Result != schedule.ResultPassed || served.Schema != schedule.HistorySchema {
		t.Errorf("/history mid-run: %+v, want the first run, passed", served)
	}

	for _, tt := range []struct {
		method, path string
		want         int
	}{{"POST", "/history", 405}, {"GET", "/history?last=-1", 400}, {"DELETE", "/schedule", 405}, {"HEAD", "/history", 200}} {
		req, _ := http.NewRequest(tt.method, base+tt.path, nil)
		req.Header.Set("X-Admin-Request", "1") // a program, not a web page (admin.RequestHeader)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
	}
	if index := get(t, client, base+"/"); !strings.Contains(index, "/history") || !strings.Contains(index, "/schedule") {
		t.Errorf("the index does not list /history and /schedule:\n%s", index)
	}

	// SIGTERM's path: the command's context ends. Once the scheduler is
	// stopping (it no longer reports a next run), nothing starts and the
	// held run only waits for its requests: the figures stand still.
	stop()
	var values map[string]float64
	stderr.WaitFor(t, "the scheduler to stop scheduling", func(string) bool {
		values = metricValues(t, get(t, client, base+"/metrics"))
		_, scheduled := values[`synth_schedule_next_run_timestamp_seconds{scenario="every-2s"}`]
		return !scheduled
	})
	released()
	select {
	case code := <-codes:
		codes <- code
		if code != cli.ExitOK {
			t.Fatalf("exit %d after a graceful stop, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		}
	case <-time.After(scheduleWait):
		t.Fatalf("synth schedule did not end once the held requests were answered\nstderr:\n%s", stderr.String())
	}

	order, violations := rt.seen()
	for _, v := range violations {
		t.Error(v)
	}
	h := readHistoryFile(t, filepath.Join(dir, "state", "history.json"))
	if len(h.Runs) != 2 || len(order) != 2 {
		t.Fatalf("history has %d runs, the target saw runs %q; want 2 of each\nstderr:\n%s", len(h.Runs), order, stderr.String())
	}
	first, last := h.Runs[0], h.Runs[1]
	for i, tt := range []struct {
		rec    schedule.RunRecord
		result schedule.Result
		note   string
	}{{first, schedule.ResultPassed, ""}, {last, schedule.ResultStopped, "scheduler stopping"}} {
		a := tt.rec.Attempts[len(tt.rec.Attempts)-1]
		if tt.rec.Result != tt.result || tt.rec.Note != tt.note || len(tt.rec.Attempts) != 1 || a.RunID != order[i] {
			t.Errorf("history run %d: result %s, note %q, run ids %q; want %s, %q, %s", i, tt.rec.Result, tt.rec.Note, a.RunID, tt.result, tt.note, order[i])
		}
		if _, err := os.Stat(a.ResultFile); err != nil {
			t.Errorf("history run %d: result file: %v", i, err)
		}
	}
	// Graceful: the held journeys were answered and finished, none cut short.
	if j := last.Attempts[0].Journeys; last.Attempts[0].Outcome != "stopped" || j.Interrupted != 0 || j.Succeeded == 0 || j.Succeeded+j.Failed != j.Started {
		t.Errorf("stopped run: outcome %s, journeys %+v; want every started journey finished", last.Attempts[0].Outcome, j)
	}

	skips := float64(strings.Count(stderr.String(), `msg="scheduled run skipped: the scenario is still running"`))
	want := map[string]float64{
		`synth_schedule_runs_total{result="passed",scenario="every-2s"}`:          1,
		`synth_schedule_runs_total{result="stopped",scenario="every-2s"}`:         0, // not recorded yet
		`synth_schedule_runs_total{result="skipped_overlap",scenario="every-2s"}`: skips,
		`synth_schedule_running{scenario="every-2s"}`:                             1,
		`synth_journeys_total{result="succeeded",scenario="ping"}`:                float64(first.Attempts[0].Journeys.Succeeded),
		`synth_journeys_total{result="failed",scenario="ping"}`:                   0,
		`synth_requests_total{code="200",scenario="ping",step="ping/get"}`:        float64(first.Attempts[0].Requests),
	}
	for series, w := range want {
		if got, ok := values[series]; !ok || got != w {
			t.Errorf("/metrics while stopping: %s = %v (present %v), want %v", series, got, ok, w)
		}
	}
	if skips < 1 || first.Attempts[0].Journeys.Succeeded == 0 {
		t.Errorf("%v overlap skips, %d journeys in the first run; want at least 1 of each", skips, first.Attempts[0].Journeys.Succeeded)
	}
}

// TestScheduleSecondInterruptKills: the first interrupt stops the running
// scenario gracefully, which waits for a target that never answers; the
// second kills it, the run is recorded as stopped, and synth exits 2.
func TestScheduleSecondInterruptKills(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			return // the pre-flight is answered; journeys hang
		}
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	t.Cleanup(target.Close)
	dir := t.TempDir()
	writeFile(t, dir, "ping.yaml", pingScenario(target.URL))
	config := writeFile(t, dir, "schedule.yaml", `history_file: history.json
entries:
  - {name: hang, scenario: ping.yaml, cron: "@every 1s", retry: -1}
`)
	interrupts := make(chan os.Signal, 2)
	codes, _, stderr := startSchedule(t, context.Background(), interrupts, "--config", config, "--admin", "")
	select {
	case <-arrived:
	case <-time.After(scheduleWait):
		t.Fatalf("no request arrived\nstderr:\n%s", stderr.String())
	}
	interrupts <- os.Interrupt
	stderr.WaitFor(t, "the stopping message", func(string) bool { return strings.Contains(stderr.String(), "synth: stopping") })
	interrupts <- syscall.SIGTERM
	select {
	case code := <-codes:
		codes <- code
		if code != cli.ExitAborted || !strings.Contains(stderr.String(), "synth: killing") {
			t.Errorf("exit %d, want 2 after a kill\nstderr:\n%s", code, stderr.String())
		}
	case <-time.After(scheduleWait):
		t.Fatalf("the second interrupt did not end synth schedule\nstderr:\n%s", stderr.String())
	}
	h := readHistoryFile(t, filepath.Join(dir, "history.json"))
	if len(h.Runs) != 1 || h.Runs[0].Result != schedule.ResultStopped || h.Runs[0].Attempts[0].Outcome != "killed" {
		t.Errorf("history %+v, want one run, stopped, its attempt killed", h.Runs)
	}
	if strings.Contains(stderr.String(), "admin server listening") {
		t.Error(`--admin "" still started the admin server`)
	}
}

func TestScheduleBadInputExits3(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "good.yaml", pingScenario("http://127.0.0.1:1"))
	writeFile(t, dir, "bad-scenario.yaml", "name: x\nrate: {rate: fast}\n")
	tests := []struct {
		name     string
		schedule string   // "" means no --config
		args     []string // after --config
		want     []string // every one in stderr
	}{
		{"unknown field", "entries:\n  - name: a\n    scenaro: good.yaml\n", nil,
			[]string{`parse schedule`, `line 3: field scenaro not found`}},
		{"every bad field", `entries:
  - {name: a, scenario: good.yaml, cron: "61 * * * *"}
  - {name: "b c", scenario: good.yaml, cron: "@hourly", retry: 9}
`, nil, []string{`entries[0].cron: "61 * * * *"`, `entries[1].name: "b c"`, `entries[1].retry: 9 is above 5`}},
		{"every bad scenario", `entries:
  - {name: a, scenario: missing.yaml, cron: "@hourly"}
  - {name: b, scenario: bad-scenario.yaml, cron: "@hourly"}
  - {name: c, scenario: good.yaml, cron: "@hourly"}
`, nil, []string{`entries[0].scenario (a): read scenario`, `entries[1].scenario (b):`, `bad-scenario.yaml:2: rate.rate: want a number, got "fast"`}},
		{"admin off loopback without a token", "entries:\n  - {name: a, scenario: good.yaml, cron: \"@hourly\"}\n",
			[]string{"--admin", "0.0.0.0:0"}, []string{"admin_token (--admin-token) is required"}},
		{"no config", "", nil, []string{"--config: required"}},
		{"arguments", "", []string{"good.yaml"}, []string{"unknown command"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"schedule"}
			if tt.schedule != "" {
				args = append(args, "--config", writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml", tt.schedule))
			}
			code, out, errOut := run(t, nil, append(args, tt.args...)...)
			if code != cli.ExitConfig || out != "" {
				t.Errorf("exit %d, stdout %q; want 3 and nothing\nstderr:\n%s", code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// TestScheduleCheck: --check prints each entry's next due time in its
// own time zone and starts nothing; the admin settings it validates come
// from flags over SYNTH_* env. Not parallel: it sets env vars.
func TestScheduleCheck(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "ping.yaml", pingScenario("http://127.0.0.1:1"))
	config := writeFile(t, dir, "schedule.yaml", `history_file: history.json
result_dir: results
timezone: Etc/UTC
entries:
  - {name: new-year, scenario: ping.yaml, cron: "0 3 1 1 *", rate: 2, duration: 1m}
  - {name: tokyo, scenario: ping.yaml, cron: "0 9 * * *", timezone: Asia/Tokyo, blackouts: [{days: [sun]}]}
  - {name: seconds, scenario: ping.yaml, cron: "30 15 10 * * *"}
  - {name: off, scenario: ping.yaml, cron: "@every 1s", enabled: false}
`)
	code, out, errOut := run(t, nil, "schedule", "--check", "--config", config)
	if code != cli.ExitOK {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", code, errOut)
	}
	for _, re := range []string{
		`(?m)^schedule .*schedule.yaml: 4 entries, scenarios valid$`,
		`(?m)^new-year +0 3 1 1 \* +\d{4}-01-01 03:00:00 UTC +2/s +1m0s +0 +\S+ping.yaml$`,
		`(?m)^tokyo +0 9 \* \* \* +\d{4}-\d\d-\d\d 09:00:00 JST +scenario's +scenario's +1 `,
		`(?m)^seconds +30 15 10 \* \* \* +\d{4}-\d\d-\d\d 10:15:30 UTC `,
		`(?m)^off +@every 1s +disabled `,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("--check output does not match %s:\n%s", re, out)
		}
	}
	for _, p := range []string{"history.json", "results"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("--check created %s (%v): it must start nothing", p, err)
		}
	}

	t.Setenv("SYNTH_ADMIN", "0.0.0.0:0")
	tests := []struct {
		name  string
		token string // SYNTH_ADMIN_TOKEN
		args  []string
		want  int
	}{
		{"env address off loopback, no token", "", nil, cli.ExitConfig},
		{"env address with env token", "s3cret-16-bytes!", nil, cli.ExitOK},
		{"flag address over env", "", []string{"--admin", "127.0.0.1:0"}, cli.ExitOK},
		{"flag token over env", "bad token", []string{"--admin-token", "s3cret-16-bytes!"}, cli.ExitOK},
		{"flag turns the admin off", "", []string{"--admin="}, cli.ExitOK},
		{"bad log level", "s3cret-16-bytes!", []string{"--log-level", "loud"}, cli.ExitConfig},
	}
	for _, tt := range tests {
		t.Setenv("SYNTH_ADMIN_TOKEN", tt.token)
		code, _, errOut := run(t, nil, append([]string{"schedule", "--check", "--config", config}, tt.args...)...)
		if code != tt.want {
			t.Errorf("%s: exit %d, want %d\nstderr:\n%s", tt.name, code, tt.want, errOut)
		}
	}

	// --print-config shows the effective settings, the token masked.
	t.Setenv("SYNTH_ADMIN_TOKEN", "s3cret-16-bytes!")
	code, out, errOut = run(t, nil, "schedule", "--config", config, "--print-config", "--log-format", "json")
	for _, want := range []string{"admin: 0.0.0.0:0\n", "admin_token: " + cli.Masked + "\n", "format: json\n"} {
		if code != cli.ExitOK || !strings.Contains(out, want) || strings.Contains(out, "s3cret-16-bytes!") {
			t.Errorf("--print-config: exit %d, want 0 with %q and no token:\n%s%s", code, want, out, errOut)
		}
	}
}
