package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
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
	want := config{Rate: 9, Duration: 2 * time.Minute, ReportOut: "env.md", RunID: "from-file", ProgressInterval: 2 * time.Second}
	if cfg != want {
		t.Errorf("config = %+v, want %+v", cfg, want)
	}
}

func TestConfigValidateNamesEveryBadField(t *testing.T) {
	t.Parallel()
	err := config{Rate: -1, Duration: -time.Second, ProgressInterval: 0, ReportOut: "x.txt"}.validate()
	want := "rate: want 0 (the scenario's) or a positive rate, got -1\n" +
		"duration: must not be negative, got -1s\n" +
		"progress_interval: must be positive, got 0s\n" +
		`report_out: "x.txt": want a .json, .md or .xml file`
	if err == nil || err.Error() != want {
		t.Errorf("validate = %v, want:\n%s", err, want)
	}
}
