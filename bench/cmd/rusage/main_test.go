package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/understudy-dev/understudy/bench"
)

func TestRun(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "usage.json")
	code, err := run(out, []string{"/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3"})
	if err != nil {
		t.Fatal(err)
	}
	if code != 3 {
		t.Errorf("exit code = %d, want the command's 3", code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var u bench.Usage
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	if u.Exit != 3 || u.CPUus() <= 0 || u.WallS <= 0 || u.MaxRSSKB <= 0 {
		t.Errorf("usage = %+v, want exit 3 and CPU, wall time and RSS measured", u)
	}
	if _, err := run(out, []string{filepath.Join(t.TempDir(), "no-such-command")}); err == nil {
		t.Error("a command that does not exist: want an error")
	}
}
