package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// readmeGate is README's CI gate example: the shell block that reads
// shadow's exit code.
func readmeGate(t *testing.T) readmeBlock {
	t.Helper()
	for _, b := range readmeBlocks(t) {
		if b.lang == "sh" && strings.Contains(b.text, "code=$?") && strings.Contains(b.text, "shadow run") {
			return b
		}
	}
	t.Fatal("README.md has no CI gate example (a sh block running shadow run and reading code=$?)")
	return readmeBlock{}
}

// freeAddr is a loopback address nothing listens on, for a config file
// that must name the proxy's address before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// README's CI gate runs as printed, in sh, with the shadow binary on PATH
// and a shadow.yaml pointing at real loopback services: traffic is driven
// through it until --until-pairs stops it, and the script's own exit code
// and words follow the verdict: pass for identical services, the
// regression for a candidate that differs, inconclusive for a dead one.
func TestREADMEGateWorksAsPrinted(t *testing.T) {
	gate := readmeGate(t)
	if !strings.Contains(gate.text, "--until-pairs 500") || strings.Contains(gate.text, "timeout ") {
		t.Fatalf("README.md:%d: the gate should stop by --until-pairs 500 and need no timeout wrapper:\n%s", gate.line, gate.text)
	}
	bin := testio.Binary(t, "shadow")
	dead := freeAddr(t)
	tests := []struct {
		name      string
		candidate string
		wantCode  int
		wantSay   string
		verdict   string
	}{
		{"pass", headerEcho(t, 0).URL, 0, "shadow: pass", "pass"},
		{"regression", jsonServer(t, "10.01").URL, 1, "shadow: the candidate regressed, see report.json", "fail"},
		{"unreachable", "http://" + dead, 1, "shadow: inconclusive: too little traffic, or the candidate unreachable", "inconclusive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			primary := headerEcho(t, 0).URL
			if tt.verdict == "fail" {
				primary = jsonServer(t, "10.00").URL
			}
			dir := t.TempDir()
			listen := freeAddr(t)
			config := fmt.Sprintf("listen: %s\nadmin: \"\"\nprimary: %s\ncandidate: %s\nsummary_interval: 200ms\n", listen, primary, tt.candidate)
			if err := os.WriteFile(filepath.Join(dir, "shadow.yaml"), []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("sh", "-c", gate.text)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
			var out syncBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// Drive traffic until the gate's shadow stops by itself.
			client := &http.Client{Timeout: 5 * time.Second}
			deadline := time.After(2 * time.Minute)
			var err error
		drive:
			for i := 0; ; i++ {
				select {
				case err = <-done:
					break drive
				case <-deadline:
					cmd.Process.Kill()
					<-done
					t.Fatalf("the gate did not end by itself:\n%s", out.String())
				default:
				}
				resp, gerr := client.Get(fmt.Sprintf("http://%s/items/%d", listen, i%10))
				if gerr != nil {
					time.Sleep(10 * time.Millisecond) // not listening yet, or gone
					continue
				}
				resp.Body.Close()
				if i%8 == 7 {
					time.Sleep(2 * time.Millisecond) // let the copies keep up
				}
			}
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode || !strings.Contains(out.String(), tt.wantSay) {
				t.Errorf("gate exit %d, want %d saying %q:\n%s", code, tt.wantCode, tt.wantSay, out.String())
			}
			data, rerr := os.ReadFile(filepath.Join(dir, "report.json"))
			if rerr != nil {
				t.Fatalf("no report.json: %v\n%s", rerr, out.String())
			}
			var rep struct{ Verdict string }
			if err := json.Unmarshal(data, &rep); err != nil || rep.Verdict != tt.verdict {
				t.Errorf("report verdict %q (%v), want %q", rep.Verdict, err, tt.verdict)
			}
		})
	}
}
