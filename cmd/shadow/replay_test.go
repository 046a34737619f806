package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/demo"
)

func startDemo(t *testing.T, version int, seed int64) string {
	t.Helper()
	s, err := demo.Start(demo.Options{Version: version, Seed: seed, ErrorRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.URL
}

// fieldsOf lists "METHOD route field" for every field a report counts as
// differing beyond noise.
func fieldsOf(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, ep := range readReport(t, data).Endpoints {
		for _, f := range ep.Fields {
			if !f.Noisy && f.Diffs > 0 {
				m[ep.Method+" "+ep.Route+" "+f.Path] = true
			}
		}
	}
	return m
}

// Replaying a capture against a fresh v2 finds v2's differences; against
// a fresh v1 it finds none, the recorded secondary having taught which
// fields are noise; without --unsafe the orders are never created.
func TestReplayFindsCandidateDifferences(t *testing.T) {
	lc := runCapture(t)
	v2Fields := []string{"POST /orders $.currency", "POST /orders $.total", "GET /orders/{id} $.currency"}
	tests := []struct {
		name       string
		version    int
		args       []string
		wantCode   int
		wantFields []string
		noFields   []string
		wantOut    string
	}{
		{
			name: "v2", version: 2, args: []string{"--unsafe", "--workers", "1", "--rate", "500"},
			wantCode: cli.ExitFail, wantFields: v2Fields,
			wantOut: "75 replayed (0 without an answer), 0 unsafe skipped",
		},
		{
			name: "v1", version: 1, args: []string{"--unsafe", "--workers", "1"},
			wantCode: cli.ExitOK, noFields: v2Fields,
		},
		{
			name: "v1 without --unsafe", version: 1, args: []string{"--workers", "1"},
			wantCode: cli.ExitFail, wantFields: []string{"GET /orders/{id} status"},
			wantOut: "50 replayed (0 without an answer), 25 unsafe skipped",
		},
		{
			name: "v1 looped at the recorded timing", version: 1,
			args:     []string{"--workers", "1", "--speed", "100x", "--loop", "--count", "120"},
			wantCode: cli.ExitFail, wantFields: []string{"GET /orders/{id} status"},
			wantOut: "120 replayed in 3 passes (0 without an answer)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			report, capDir := filepath.Join(tmp, "replay.json"), filepath.Join(tmp, "replayed")
			args := append([]string{"replay", "--config", lc.config, "--candidate", startDemo(t, tt.version, 7),
				"--secondary-from-capture", "--report-out", report, "--capture", capDir}, tt.args...)
			var out, errOut bytes.Buffer
			code := execute(context.Background(), append(args, lc.dir), &out, &errOut)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\n%s\n%s", code, tt.wantCode, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("output lacks %q:\n%s", tt.wantOut, out.String())
			}
			fields := fieldsOf(t, report)
			for _, f := range tt.wantFields {
				if !fields[f] {
					t.Errorf("report lacks the difference %q; has %v", f, fields)
				}
			}
			for _, f := range tt.noFields {
				if fields[f] {
					t.Errorf("report has the difference %q; want none of v2's", f)
				}
			}
			st, err := capture.ReadFiles([]string{capDir}, nil)
			if err != nil || st.Records == 0 {
				t.Errorf("the replay's own capture: %+v, %v; want its records", st, err)
			}
			assertNoSecrets(t, []string{capDir, report})
		})
	}
}

func TestReplayBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no candidate", []string{"x.usc"}, "candidate: required"},
		{"bad header", []string{"--candidate", "http://127.0.0.1:1", "--header", "nocolon", "x.usc"}, "header"},
		{"missing file", []string{"--candidate", "http://127.0.0.1:1", filepath.Join(t.TempDir(), "nope.usc")}, "nope.usc"},
		{"bad rate", []string{"--candidate", "http://127.0.0.1:1", "--rate", "-1", "x.usc"}, "Rate"},
		{"bad speed", []string{"--candidate", "http://127.0.0.1:1", "--speed", "fast", "x.usc"}, `--speed "fast": want a multiplier above 0, like 2x`},
		{"zero speed", []string{"--candidate", "http://127.0.0.1:1", "--speed", "0x", "x.usc"}, `--speed "0x"`},
		{"rate and speed", []string{"--candidate", "http://127.0.0.1:1", "--rate", "5", "--speed", "2x", "x.usc"}, "--rate 5 and --speed 2x exclude each other"},
		{"negative count", []string{"--candidate", "http://127.0.0.1:1", "--count", "-1", "x.usc"}, "Count must not be negative"},
		{"negative duration", []string{"--candidate", "http://127.0.0.1:1", "--duration", "-1s", "x.usc"}, "Duration must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := execute(context.Background(), append([]string{"replay"}, tt.args...), &out, &errOut)
			if code != cli.ExitConfig || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit code %d, stderr %q; want %d naming %q", code, errOut.String(), cli.ExitConfig, tt.want)
			}
		})
	}
}
