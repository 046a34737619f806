package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/scenarios"
)

// TestConfigPrecedence: flags override SYNTH_* env, which overrides the
// --config file, which overrides the defaults.
func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "synth.yaml")
	if err := os.WriteFile(file, []byte("rate: 5\nduration: 2m\nreport_out: file.json\nrun_id: from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SYNTH_RATE", "7")
	t.Setenv("SYNTH_REPORT_OUT", "env.md")
	cmd := newRunCmd(nil)
	if err := cmd.ParseFlags([]string{"--config", file, "--rate", "9"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cmd)
	if err != nil {
		t.Fatal(err)
	}
	want := config{ReportOut: "env.md", ProgressInterval: 2 * time.Second, Runners: 1, RunnerIndex: -1}
	want.Rate, want.Duration, want.RunID = 9, 2*time.Minute, "from-file"
	cfg.origins = nil
	if fmt.Sprintf("%+v", cfg) != fmt.Sprintf("%+v", want) {
		t.Errorf("config = %+v, want %+v", cfg, want)
	}
}

func TestConfigValidateNamesEveryBadField(t *testing.T) {
	t.Parallel()
	c := config{ReportOut: "x.txt"}
	c.Rate, c.Duration = -1, -time.Second
	err := c.validate()
	want := "rate: want 0 (the scenario's) or a positive rate, got -1\n" +
		"duration: must not be negative, got -1s\n" +
		"progress_interval: must be positive, got 0s\n" +
		`report_out: "x.txt": want a .json, .md or .xml file`
	if err == nil || err.Error() != want {
		t.Errorf("validate = %v, want:\n%s", err, want)
	}
}

// TestShare: --runners N with --runner-index (or $JOB_COMPLETION_INDEX,
// as a Kubernetes Indexed Job sets it) picks this runner's share.
func TestShare(t *testing.T) {
	tests := []struct {
		runners, index int
		env            string // "-" = unset
		want           scenarios.Share
		err            string
	}{
		{1, -1, "-", scenarios.Share{}, ""},
		{1, -1, "3", scenarios.Share{}, ""}, // one runner ignores the index
		{3, 1, "-", scenarios.Share{Index: 1, Count: 3}, ""},
		{3, -1, "2", scenarios.Share{Index: 2, Count: 3}, ""},
		{3, 0, "2", scenarios.Share{Index: 0, Count: 3}, ""}, // the flag wins
		{3, -1, "-", scenarios.Share{}, "runner_index: required with runners 3 (or $JOB_COMPLETION_INDEX)"},
		{3, -1, "x", scenarios.Share{}, `$JOB_COMPLETION_INDEX: want a number, got "x"`},
		{3, 3, "-", scenarios.Share{}, "runner_index: 3 is not one of the 3 runners (0 to 2)"},
		{1, 2, "-", scenarios.Share{}, "runner_index: 2 without runners"},
	}
	for _, tt := range tests {
		if tt.env == "-" {
			t.Setenv(jobIndexEnv, "")
			os.Unsetenv(jobIndexEnv)
		} else {
			t.Setenv(jobIndexEnv, tt.env)
		}
		got, err := config{Runners: tt.runners, RunnerIndex: tt.index}.share()
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("runners %d, index %d, env %q: %+v, %v; want %+v, %q", tt.runners, tt.index, tt.env, got, err, tt.want, tt.err)
		}
	}
}

// TestRunnersShareTheRate: one of two runners runs half the rate and half
// the ceiling.
func TestRunnersShareTheRate(t *testing.T) {
	t.Parallel()
	target := startDemo(t)
	sc := scenarioFile(t, target, "")
	report := filepath.Join(t.TempDir(), "half.json")
	code, stdout, stderr := run(t, nil, "run", "--no-tui", "--rate", "40", "--duration", "1s", "--runners", "2", "--runner-index", "1", "--report-out", report, sc)
	if code != cli.ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var res scenarios.Result
	b, err := os.ReadFile(report)
	if err != nil || json.Unmarshal(b, &res) != nil {
		t.Fatalf("report: %v", err)
	}
	// 20/s paces starts at 50ms, 100ms, ... 950ms, each made even if late.
	if res.Ceiling != 50 || res.Journeys.Started+res.Journeys.Dropped != 19 {
		t.Errorf("ceiling %v, journeys %+v in 1s; want 50 (half of 100) and 19 starts (half of 40/s)", res.Ceiling, res.Journeys)
	}
}

// synth run --print-config needs no scenario; given one, it adds the
// scenario's settings, defaults resolved, as a second YAML document.
func TestRunPrintConfig(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := run(t, nil, "run", "--print-config", "--rate", "3")
	if code != cli.ExitOK || !strings.Contains(stdout, "rate: 3\n") || !strings.Contains(stdout, "  level: info\n") || strings.Contains(stdout, "---") {
		t.Errorf("without a scenario: exit %d\n%s\n%s", code, stdout, stderr)
	}
	sc := "../../testdata/scenarios/order-journey.yaml"
	code, stdout, stderr = run(t, nil, "run", "--print-config", sc)
	for _, want := range []string{"---\n", "scenario:\n", "  name: order-journey\n", "  max_in_flight: 200\n", "  timeout: 30s\n", "    window: 10s\n", "    min_success_rate: 1\n"} {
		if code != cli.ExitOK || !strings.Contains(stdout, want) {
			t.Errorf("with %s: exit %d, output lacks %q:\n%s\n%s", sc, code, want, stdout, stderr)
		}
	}
	code, _, stderr = run(t, nil, "run")
	if code != cli.ExitConfig || !strings.Contains(stderr, "want a scenario file") {
		t.Errorf("run without a scenario: exit %d, %s", code, stderr)
	}
}

// Config errors name the key and where its value came from.
func TestConfigErrorsNameKeyAndLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "synth.yaml")
	if err := os.WriteFile(file, []byte("rate: 5\nduration: 60\nprogres_interval: 1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newRunCmd(nil)
	if err := cmd.ParseFlags([]string{"--config", file}); err != nil {
		t.Fatal(err)
	}
	_, err := loadConfig(cmd)
	want := file + ":3: progres_interval: unknown key; did you mean progress_interval?"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	if err := os.WriteFile(file, []byte("rate: 5\nduration: 60\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SYNTH_RUNNERS", "-1")
	_, err = loadConfig(cmd)
	want = file + ":2: duration: want a duration with a unit, like 60s or 60ms; got the bare number 60"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	if err := os.WriteFile(file, []byte("rate: 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = loadConfig(cmd)
	if want := "env SYNTH_RUNNERS: runners: want 1 or more, got -1"; err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}
