package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/compare"
)

// endpointCounts is what must survive the round trip through capture
// files: per endpoint, pairs and diffs, and per field its diff count.
func endpointCounts(rep *compare.Report) map[string]string {
	m := map[string]string{}
	for _, ep := range rep.Endpoints {
		key := ep.Method + " " + ep.Route
		m[key] = "pairs " + strconv.FormatInt(ep.Pairs, 10) + " diffs " + strconv.FormatInt(ep.Diffs, 10) +
			" errors " + strconv.FormatInt(ep.CandidateErrors, 10)
		for _, f := range ep.Fields {
			m[key+" "+f.Path] = "diffs " + strconv.FormatInt(f.Diffs, 10) + " noisy " + strconv.FormatBool(f.Noisy)
		}
	}
	return m
}

func readReport(t *testing.T, data []byte) *compare.Report {
	t.Helper()
	var rep compare.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, data)
	}
	return &rep
}

func runReport(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = execute(context.Background(), append([]string{"report"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// `shadow report` on the files of a live run reproduces the live report's
// per-endpoint pair and diff counts, field by field, and shows no secret.
func TestReportReproducesLiveRun(t *testing.T) {
	lc := runCapture(t)
	data, err := os.ReadFile(lc.liveReport)
	if err != nil {
		t.Fatal(err)
	}
	live := endpointCounts(readReport(t, data))
	if len(live) < 3 {
		t.Fatalf("live report has too little to compare: %v", live)
	}
	code, stdout, stderr := runReport(t, "--config", lc.config, "--format", "json", lc.dir)
	if code != cli.ExitFail {
		t.Fatalf("exit code %d, want %d (the verdict is fail)\n%s", code, cli.ExitFail, stderr)
	}
	offline := endpointCounts(readReport(t, []byte(stdout)))
	for k, want := range live {
		if got := offline[k]; got != want {
			t.Errorf("%s: offline %q, live %q", k, got, want)
		}
	}
	for k := range offline {
		if _, ok := live[k]; !ok {
			t.Errorf("%s: only in the offline report (%s)", k, offline[k])
		}
	}
	if want := "0 corrupt frames, 0 truncated tails"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	md := filepath.Join(t.TempDir(), "offline.md")
	if code, _, stderr := runReport(t, "--config", lc.config, "--out", md, lc.dir); code != cli.ExitFail {
		t.Fatalf("--out: exit code %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(md)
	if err != nil || !bytes.Contains(b, []byte("$.currency")) {
		t.Errorf("markdown report (%v) does not name v2's extra field:\n%s", err, b)
	}
	assertNoSecrets(t, []string{md})
	for _, s := range secrets {
		if strings.Contains(stdout, s) {
			t.Errorf("offline report shows %q", s)
		}
	}

	// Changing the compare config after the fact changes the judgement:
	// ignoring the fields v2 changed leaves fewer diffs.
	relaxed := writeFile(t, "relaxed.yaml", `
compare:
  routes: ["/orders/{id}"]
  normalizers:
    - {kind: ignore, path: "$.currency"}
    - {kind: ignore, path: "$.total"}
    - {kind: ignore, path: "$.items"}
`)
	_, stdout, _ = runReport(t, "--config", relaxed, "--format", "json", lc.dir)
	if got, want := readReport(t, []byte(stdout)).Totals.Diffs, readReport(t, data).Totals.Diffs; got >= want {
		t.Errorf("with v2's fields ignored: %d diffs, want fewer than the live %d", got, want)
	}
}

// A capture file damaged in the middle and cut short still reports: the
// intact records are judged and the damage is counted.
func TestReportCountsDamage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := capture.NewWriter(capture.WriterOptions{Dir: dir, Header: capture.Header{Tool: "shadow"}})
	if err != nil {
		t.Fatal(err)
	}
	const records = 30
	for i := range records {
		x := jsonExchange(strconv.Itoa(i), `{"price": 1}`, `{"price": 2}`)
		if err := w.WriteExchange(&capture.ExchangeRecord{Exchange: *x}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := w.Files()[0]
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Flip a payload byte of the 10th record, and cut the last one short.
	var frames []int
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("\xc1USR"))
		if j < 0 {
			break
		}
		frames = append(frames, i+j)
		i += j + 1
	}
	if len(frames) != records+1 { // the header frame too
		t.Fatalf("found %d frames, want %d", len(frames), records+1)
	}
	data[frames[10]+30] ^= 0xff
	data = data[:len(data)-5]
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runReport(t, "--format", "json", path)
	if code != cli.ExitFail {
		t.Fatalf("exit code %d, want %d (every pair differs)\n%s", code, cli.ExitFail, stderr)
	}
	for _, want := range []string{"28 records (28 exchanges, 0 other)", "1 corrupt frames", "1 truncated tails"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if got := readReport(t, []byte(stdout)).Totals.Pairs; got != records-2 {
		t.Errorf("report judged %d pairs, want the %d intact records", got, records-2)
	}
}

func TestReportBadInput(t *testing.T) {
	t.Parallel()
	notCapture := writeFile(t, "notes.txt", "hello")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{filepath.Join(t.TempDir(), "nope.usc")}, "nope.usc"},
		{"not a capture file", []string{notCapture}, "not a capture file"},
		{"bad format", []string{"--format", "yaml", notCapture}, "format"},
		{"no files", nil, "arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runReport(t, tt.args...)
			if code != cli.ExitConfig || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit code %d, stderr %q; want %d naming %q", code, stderr, cli.ExitConfig, tt.want)
			}
		})
	}
}

// wideCapture writes n exchanges whose candidate changes the type of
// every value of a 1 MB object of 70,000 keys, the answers that stalled
// shadow (issue #14).
func wideCapture(t *testing.T, n int) string {
	t.Helper()
	var p, c strings.Builder
	p.WriteByte('{')
	c.WriteByte('{')
	for i := range 70_000 {
		if i > 0 {
			p.WriteByte(',')
			c.WriteByte(',')
		}
		fmt.Fprintf(&p, `"k%05d":%d`, i, i)
		fmt.Fprintf(&c, `"k%05d":"%d"`, i, i)
	}
	p.WriteByte('}')
	c.WriteByte('}')
	dir := t.TempDir()
	w, err := capture.NewWriter(capture.WriterOptions{Dir: dir, Header: capture.Header{Tool: "shadow"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		x := jsonExchange(strconv.Itoa(i), p.String(), c.String())
		if err := w.WriteExchange(&capture.ExchangeRecord{Exchange: *x}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// `shadow report` judges wide, wildly different answers within the
// compare budget: each pair is marked too large, none is diffed to the
// end. Cancelled (SIGTERM), it stops before the next record and says so.
func TestReportWideAnswers(t *testing.T) {
	t.Parallel()
	dir := wideCapture(t, 10)
	code, stdout, stderr := runReport(t, "--format", "json", dir)
	// Every pair differs, but 10 pairs are fewer than min_pairs: nothing
	// was judged, which is inconclusive, not a fail.
	if code != cli.ExitInconclusive {
		t.Fatalf("exit code %d, want %d (10 pairs, below min_pairs)\n%s", code, cli.ExitInconclusive, stderr)
	}
	rep := readReport(t, []byte(stdout))
	if rep.Totals.Pairs != 10 || rep.Totals.TooLarge != 10 {
		t.Errorf("%d pairs, %d too large; want 10 and 10", rep.Totals.Pairs, rep.Totals.TooLarge)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code = execute(ctx, []string{"report", "--format", "json", dir}, &out, &errOut)
	if code != cli.ExitAborted || !strings.Contains(errOut.String(), "report interrupted") {
		t.Errorf("cancelled: exit code %d, want %d, and stderr saying so:\n%s", code, cli.ExitAborted, errOut.String())
	}
	if !strings.Contains(errOut.String(), "(0 exchanges") || out.Len() != 0 {
		t.Errorf("cancelled: judged records or wrote a report:\n%s\n%s", errOut.String(), out.String())
	}
}
