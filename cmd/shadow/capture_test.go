package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/demo"
	"github.com/understudy-dev/understudy/exchange"
)

func jsonExchange(id, primary, candidate string) *exchange.Exchange {
	h := http.Header{"Content-Type": {"application/json"}}
	return &exchange.Exchange{
		Request:   exchange.Request{ID: id, Method: "GET", URL: "/items/1", Header: http.Header{"Authorization": {"Bearer s3cret-token"}}},
		Primary:   exchange.Response{Side: exchange.Primary, Status: 200, Header: h, Body: []byte(primary)},
		Candidate: exchange.Response{Side: exchange.Candidate, Status: 200, Header: h, Body: []byte(candidate)},
	}
}

func TestCaptureConfig(t *testing.T) {
	path := writeFile(t, "shadow.yaml", `
primary: http://a
candidate: http://b
capture:
  queue_size: 16
  redact:
    headers: [X-Session]
    field_names: [pin]
    field_paths: ["$.card.number"]
`)
	t.Setenv("SHADOW_CAPTURE_REDACT_KEY", "0123456789abcdef-from-env")
	t.Setenv("SHADOW_CAPTURE_DIR", "/from/env")
	cfg, err := loadRunConfig(t, "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Capture
	if c.Dir != "/from/env" || c.QueueSize != 16 || string(c.Redact.Key) != "0123456789abcdef-from-env" ||
		!slices.Equal(c.Redact.Headers, []string{"X-Session"}) || !slices.Equal(c.Redact.FieldPaths, []string{"$.card.number"}) {
		t.Errorf("capture config = %+v, want the file's lists, env's dir and key", c)
	}
	cfg, err = loadRunConfig(t, "--config", path, "--capture", "/from/flag")
	if err != nil || cfg.Capture.Dir != "/from/flag" {
		t.Errorf("--capture: dir = %q (%v), want /from/flag", cfg.Capture.Dir, err)
	}

	bad := writeFile(t, "bad.yaml", `
primary: http://a
candidate: http://b
capture:
  queue_size: -1
  redact: {key: short, field_paths: ["card"]}
`)
	t.Setenv("SHADOW_CAPTURE_REDACT_KEY", "")
	_, err = loadRunConfig(t, "--config", bad)
	for _, want := range []string{"capture.queue_size", "capture.redact"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

// demoUpstreams starts a v1 primary, a v1 secondary and a v2 candidate.
func demoUpstreams(t *testing.T) (primary, secondary, candidate string) {
	t.Helper()
	var urls []string
	for i, v := range []int{1, 1, 2} {
		s, err := demo.Start(demo.Options{Version: v, Seed: int64(100 + i), ErrorRate: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		urls = append(urls, s.URL)
	}
	return urls[0], urls[1], urls[2]
}

// The secrets sent through the proxy in the end-to-end tests; none may
// reach a written byte.
var secrets = []string{"tok-SECRET-1", "cookie-SECRET-2", "hunter2-SECRET-3", "query-SECRET-4"}

// shadowConfig is the config file of the end-to-end tests: the demo's
// unsafe routes, one worker so copies reach the candidate in order (and
// no stale-copy limit, so a loaded machine drops none), fixed
// endpoint templates, and a redaction key.
const shadowConfig = `
mirror:
  workers: 1
  max_queue_wait: -1s # every copy is sent, however loaded the machine: the tests count them
  routes:
    - {name: create-order, methods: [POST], path: /orders, unsafe: true}
compare:
  routes: ["/orders/{id}"]
capture:
  redact: {key: "e2e-test-key-0123456789"}
`

// liveCapture is a finished `shadow run --capture` against the demo.
type liveCapture struct {
	dir, config, liveReport string
	output                  string
	exchanges               int
}

// runCapture sends orders, reads and menu lookups, with credentials,
// through `shadow run --capture` in front of the demo service.
func runCapture(t *testing.T) liveCapture {
	t.Helper()
	primary, secondary, candidate := demoUpstreams(t)
	tmp := t.TempDir()
	lc := liveCapture{
		dir:        filepath.Join(tmp, "captures"),
		config:     writeFile(t, "shadow.yaml", shadowConfig),
		liveReport: filepath.Join(tmp, "live.json"),
	}
	base, stop, code, out := startShadow(t, "--config", lc.config, "--primary", primary, "--secondary", secondary,
		"--candidate", candidate, "--capture", lc.dir, "--report-out", lc.liveReport, "--summary-interval", "50ms", "--no-tui")
	client := &http.Client{Timeout: 10 * time.Second}
	do := func(method, path, body string) string {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+secrets[0])
		req.Header.Set("Cookie", "session="+secrets[1])
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			stop()
			t.Fatal(err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		lc.exchanges++
		return resp.Header.Get("Location")
	}
	const orders = 25
	for i := range orders {
		loc := do("POST", "/orders", fmt.Sprintf(
			`{"customer": "c%d", "password": %q, "items": [{"sku": "soda", "qty": 2}, {"sku": "dip", "qty": %d}]}`,
			i%4, secrets[2], 1+i%3))
		do("GET", loc, "")
		do("GET", "/menu?token="+secrets[3]+"&lang=en", "")
	}
	out.WaitFor(t, "every exchange compared", regexp.MustCompile(fmt.Sprintf(`compared %d `, lc.exchanges)).MatchString)
	stop()
	select {
	case c := <-code:
		if c != cli.ExitFail {
			t.Fatalf("shadow run exit code %d, want %d (v2 differs)\n%s", c, cli.ExitFail, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shadow run did not stop")
	}
	lc.output = out.String()
	return lc
}

// `shadow run --capture` writes complete files (renamed from .partial),
// 0600 in a 0700 directory, counts them in the final summary line, and no
// secret sent through the proxy reaches any written byte.
func TestRunCaptureWritesRedactedFiles(t *testing.T) {
	lc := runCapture(t)
	if !strings.Contains(lc.output, fmt.Sprintf("capture: %d records written to %s, 0 dropped", lc.exchanges, lc.dir)) {
		t.Errorf("final summary does not count the records:\n%s", lc.output)
	}
	fi, err := os.Stat(lc.dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("capture dir mode %v (%v), want 0700", fi.Mode(), err)
	}
	files, _ := filepath.Glob(filepath.Join(lc.dir, "*"))
	if len(files) == 0 {
		t.Fatal("no capture files")
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil || fi.Mode().Perm() != 0o600 || !strings.HasSuffix(f, capture.FileSuffix) {
			t.Errorf("%s: mode %v (%v), want a finished 0600 .usc file", f, fi.Mode(), err)
		}
	}
	assertNoSecrets(t, append(files, lc.liveReport))
	var n int
	hashed := false
	if _, err := capture.ReadFiles([]string{lc.dir}, func(r capture.Record) error {
		n++
		hashed = hashed || strings.HasPrefix(r.Exchange.Exchange.Request.Header.Get("Authorization"), "hmac:")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != lc.exchanges || !hashed {
		t.Errorf("read %d records (keyed hash seen: %v), want %d with keyed hashes", n, hashed, lc.exchanges)
	}
}

// assertNoSecrets fails when any of the files holds a secret.
func assertNoSecrets(t *testing.T, paths []string) {
	t.Helper()
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds the secret %q", path, s)
				}
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
}

// `shadow demo --capture` records through the same session code.
func TestDemoCaptures(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo-captures")
	var out, errOut bytes.Buffer
	code := execute(context.Background(), []string{
		"demo", "--duration", "1500ms", "--summary-interval", "1s", "--seed", "3", "--rate", "20", "--no-tui", "--capture", dir,
	}, &out, &errOut)
	// The demo exits with its verdict's code; 1.5 s of load may judge too
	// little to decide. Only a run that did not complete is wrong here.
	if code != cli.ExitOK && code != cli.ExitFail && code != cli.ExitInconclusive {
		t.Fatalf("exit code %d\n%s\n%s", code, errOut.String(), out.String())
	}
	st, err := capture.ReadFiles([]string{dir}, nil)
	if err != nil || st.Records == 0 || st.CorruptFrames+st.TruncatedTails != 0 {
		t.Fatalf("read %+v (%v), want intact records", st, err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("capture: %d records written to %s", st.Records, dir)) {
		t.Errorf("summary does not match the %d records read:\n%s", st.Records, out.String())
	}
}
