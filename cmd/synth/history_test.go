package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/schedule"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

const historyFixture = "testdata/history.json"

func TestHistoryGolden(t *testing.T) {
	t.Parallel()
	// A schedule whose history_file is the fixture, by a relative path:
	// LoadConfig takes it from the schedule file's directory.
	dir := t.TempDir()
	abs, err := filepath.Abs(historyFixture)
	if err != nil {
		t.Fatal(err)
	}
	config := writeFile(t, dir, "schedule.yaml", "history_file: "+abs+"\nentries:\n  - {name: smoke, scenario: missing.yaml, cron: \"@hourly\"}\n")
	tests := []struct {
		golden string
		args   []string
	}{
		{"history.golden.txt", []string{"--file", historyFixture}},
		{"history.golden.txt", []string{"--config", config}},
		{"history-nightly-last2.golden.txt", []string{"--file", historyFixture, "--entry", "nightly-peak", "--last", "2"}},
		{"history-smoke.golden.json", []string{"--file", historyFixture, "--format", "json", "--entry", "smoke"}},
	}
	for _, tt := range tests {
		code, out, errOut := run(t, nil, append([]string{"history"}, tt.args...)...)
		if code != cli.ExitOK || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q; want 0 and nothing", tt.args, code, errOut)
			continue
		}
		golden(t, tt.golden, out)
	}
}

// The JSON output is a history file itself: synth history reads it back,
// and it holds the runs of the fixture it was filtered from, unchanged.
func TestHistoryJSONRoundTrips(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, nil, "history", "--file", historyFixture, "--format", "json", "--last", "3")
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := writeFile(t, t.TempDir(), "h.json", out)
	got := readHistoryFile(t, path)
	want := readHistoryFile(t, historyFixture)
	if diff := cmp.Diff(want.Runs[len(want.Runs)-3:], got.Runs); diff != "" {
		t.Errorf("runs differ (-fixture +output):\n%s", diff)
	}
}

func TestHistoryEmptyFilter(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, nil, "history", "--file", historyFixture, "--entry", "weekly")
	if want := `no runs of entry "weekly" in ` + historyFixture + "\n"; code != cli.ExitOK || out != want {
		t.Errorf("exit %d, stdout %q; want 0 and %q", code, out, want)
	}
	code, out, _ = run(t, nil, "history", "--file", historyFixture, "--entry", "weekly", "--format", "json")
	var h schedule.History
	if err := json.Unmarshal([]byte(out), &h); code != cli.ExitOK || err != nil || h.Runs == nil || len(h.Runs) != 0 {
		t.Errorf("json: exit %d, %v, runs %v; want 0 and an empty list\n%s", code, err, h.Runs, out)
	}
}

func TestHistoryBadInputExits3(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	notJSON := writeFile(t, dir, "truncated.json", `{"schema": "understudy.schedule.history/v1", "runs": [`)
	otherSchema := writeFile(t, dir, "other.json", `{"schema": "someone.else/v2", "runs": []}`)
	noHistory := writeFile(t, dir, "memory.yaml", "entries:\n  - {name: a, scenario: a.yaml, cron: \"@hourly\"}\n")
	badSchedule := writeFile(t, dir, "bad.yaml", "entries:\n  - {name: a, scenario: a.yaml, cron: \"@sometimes\"}\n")
	goneHistory := writeFile(t, dir, "gone.yaml", "history_file: gone.json\nentries:\n  - {name: a, scenario: a.yaml, cron: \"@hourly\"}\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"--file", missing}, `history file "` + missing + `" does not exist`},
		{"truncated file", []string{"--file", notJSON}, `read history "` + notJSON + `": not a history file`},
		{"other schema", []string{"--file", otherSchema}, `read history "` + otherSchema + `": schema "someone.else/v2"`},
		{"schedule without history_file", []string{"--config", noHistory}, `schedule "` + noHistory + `" has no history_file`},
		{"bad schedule", []string{"--config", badSchedule}, `entries[0].cron: "@sometimes"`},
		{"history_file not written yet", []string{"--config", goneHistory}, `history file "` + filepath.Join(dir, "gone.json") + `" does not exist`},
		{"neither", nil, "want exactly one of --config"},
		{"both", []string{"--file", historyFixture, "--config", noHistory}, "want exactly one of --config"},
		{"format", []string{"--file", historyFixture, "--format", "yaml"}, `--format: "yaml": want table or json`},
		{"last", []string{"--file", historyFixture, "--last", "-1"}, "--last: -1: want 0 (all) or more"},
	}
	for _, tt := range tests {
		code, out, errOut := run(t, nil, append([]string{"history"}, tt.args...)...)
		if code != cli.ExitConfig || out != "" || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 3, nothing, and %q", tt.name, code, out, errOut, tt.want)
		}
	}
}

func TestFilterRuns(t *testing.T) {
	t.Parallel()
	runs := []schedule.RunRecord{{Entry: "a", Note: "1"}, {Entry: "b", Note: "2"}, {Entry: "a", Note: "3"}, {Entry: "a", Note: "4"}}
	notes := func(rs []schedule.RunRecord) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Note)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		entry string
		last  int
		want  string
	}{
		{"", 0, "1,2,3,4"},
		{"", 2, "3,4"},
		{"", 9, "1,2,3,4"},
		{"a", 0, "1,3,4"},
		{"a", 2, "3,4"},
		{"b", 1, "2"},
		{"c", 0, ""},
	}
	for _, tt := range tests {
		if got := notes(filterRuns(runs, tt.entry, tt.last)); got != tt.want {
			t.Errorf("filterRuns(%q, %d) = %s, want %s", tt.entry, tt.last, got, tt.want)
		}
	}
}
