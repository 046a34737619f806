package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/internal/testio"
)

// syncBuffer is output a test reads while a command or server writes it.
type syncBuffer = testio.Buffer

// startShadow runs `shadow run` with args in the background and returns the
// proxy's base URL, a stop function (like Ctrl-C) and the exit code channel.
func startShadow(t *testing.T, args ...string) (base string, stop func(), code <-chan int, out *syncBuffer) {
	t.Helper()
	args = append([]string{"run", "--listen", "127.0.0.1:0", "--admin", ""}, args...)
	return startCmd(t, regexp.MustCompile(`listening on (http://[0-9.:]+)`), args...)
}

// startCmd runs shadow with args in the background until its output
// matches ready, and returns ready's first group, a stop function (like
// Ctrl-C), the exit code channel and the output.
func startCmd(t *testing.T, ready *regexp.Regexp, args ...string) (string, func(), <-chan int, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- execute(ctx, args, out, out) }()
	t.Cleanup(cancel) // a test that fails before stop() stops it all the same
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := ready.FindStringSubmatch(out.String()); m != nil {
			return m[1], cancel, done, out
		}
		select {
		case c := <-done:
			cancel()
			t.Fatalf("shadow exited with %d before listening:\n%s", c, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("shadow did not start listening:\n%s", out.String())
	return "", nil, nil, nil
}

func jsonServer(t *testing.T, price string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path": %q, "price": %s}`, r.URL.Path, price)
	}))
	t.Cleanup(s.Close)
	return s
}

// A candidate that answers differently fails the verdict: shadow exits 1
// and writes a report naming the differing field.
func TestRunGatesOnVerdict(t *testing.T) {
	primary, candidate := jsonServer(t, "10.00"), jsonServer(t, "10.01")
	report := filepath.Join(t.TempDir(), "report.json")
	base, stop, code, out := startShadow(t,
		"--primary", primary.URL, "--candidate", candidate.URL, "--report-out", report, "--summary-interval", "100ms")

	const requests = 30 // above the verdict's default 20-pair minimum
	for i := 0; i < requests; i++ {
		resp, err := http.Get(base + "/items/" + fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf(`{"path": "/items/%d", "price": 10.00}`, i); string(body) != want {
			t.Fatalf("client got %q, want the primary's %q", body, want)
		}
	}
	out.WaitFor(t, "every exchange compared", regexp.MustCompile(`compared 30 `).MatchString)
	stop()
	select {
	case c := <-code:
		if c != cli.ExitFail {
			t.Fatalf("exit code %d, want %d (verdict fail)\n%s", c, cli.ExitFail, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shadow did not stop after cancel")
	}

	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Verdict   string
		Endpoints []struct {
			Route  string
			Pairs  int
			Fields []struct{ Path string }
		}
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, data)
	}
	if rep.Verdict != "fail" || len(rep.Endpoints) != 1 || rep.Endpoints[0].Route != "/items/{id}" ||
		rep.Endpoints[0].Pairs != requests || len(rep.Endpoints[0].Fields) == 0 || rep.Endpoints[0].Fields[0].Path != "$.price" {
		t.Errorf("report = %+v, want verdict fail, one endpoint /items/{id} with %d pairs differing at $.price", rep, requests)
	}
	if fi, err := os.Stat(report); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("report mode = %v (%v), want 0600", fi.Mode(), err)
	}
}
