package testio

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// binaries are the module's commands, built once per test process.
var binaries struct {
	once sync.Once
	dir  string
	err  error
}

// commands are the import paths Binaries builds.
var commands = []string{
	"github.com/understudy-dev/understudy/cmd/shadow",
	"github.com/understudy-dev/understudy/cmd/synth",
}

// Binary returns the path of one of the module's commands, "shadow" or
// "synth", built from this checkout once per test process (without -race:
// the tests run them as a user would) into a temporary directory that
// RemoveBinaries removes. The first call may take minutes on a cold build
// cache, so call it before starting a clock.
func Binary(t testing.TB, name string) string {
	t.Helper()
	binaries.once.Do(func() {
		binaries.dir, binaries.err = os.MkdirTemp("", "understudy-binaries-")
		if binaries.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, GoCommand(), append([]string{"build", "-o", binaries.dir + string(filepath.Separator)}, commands...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			binaries.err = fmt.Errorf("go build %v: %v\n%s", commands, err, out)
		}
	})
	if binaries.err != nil {
		t.Fatal(binaries.err)
	}
	return filepath.Join(binaries.dir, name)
}

// RemoveBinaries removes what Binary built; TestMain calls it once the
// tests have run.
func RemoveBinaries() {
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
}

// GoCommand is the go command that runs this test: $GOROOT/bin/go, or
// go from $PATH.
func GoCommand() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
