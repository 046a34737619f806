package compare

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/exchange"
	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixtureOrder is a realistic order body; ts and price vary.
func fixtureOrder(id, ts int, price, eta string) string {
	return fmt.Sprintf(`{"id":"ord-%06d","status":"confirmed","generated_at":"2024-05-01T12:%02d:%02dZ",`+
		`"items":[{"sku":"SKU-1","qty":2,"price":12.50,"eta":"%s"},{"sku":"SKU-2","qty":1,"price":%s,"eta":"%s"}],`+
		`"total":{"amount":%s,"currency":"EUR"}}`, id, ts/60%60, ts%60, eta, price, eta, price)
}

// fixture is a fixed set of exchanges touching every part of a report.
func fixture() []*exchange.Exchange {
	var xs []*exchange.Exchange
	lat := func(r exchange.Response, ms int) exchange.Response {
		r.Latency = time.Duration(ms) * time.Millisecond
		return r
	}
	// GET /orders/{id}: 30 exchanges with a secondary. The timestamp
	// differs between the primaries every time (noise); the candidate
	// changes the second item's price in 3 of them (real), and the eta
	// everywhere (ignored by a normalizer).
	for i := range 30 {
		price := "25.00"
		if i%10 == 3 {
			price = "25.10"
		}
		p := lat(answer(200, fixtureOrder(i, 3*i, "25.00", "2024-05-03")), 10+i%7)
		s := lat(answer(200, fixtureOrder(i, 3*i+1, "25.00", "2024-05-03")), 11+i%5)
		c := lat(answer(200, fixtureOrder(i, 3*i+2, price, "2024-05-04")), 14+i%9)
		x := tripleOf("GET", fmt.Sprintf("/orders/ord-%06d?expand=items", i), p, s, c)
		x.Request.ID = fmt.Sprintf("get-%02d", i)
		xs = append(xs, x)
	}
	// POST /orders: 6 exchanges, no secondary (unsafe method). One 500
	// from the candidate, one timeout, one changed header.
	for i := range 6 {
		p := lat(answer(201, `{"id":"ord-9","ok":true}`, "Location", "/orders/ord-9"), 30)
		c := lat(answer(201, `{"id":"ord-9","ok":true}`, "Location", "/orders/ord-9"), 35)
		switch i {
		case 1:
			c = lat(answer(500, `{"error":"db | down"}`), 5)
		case 2:
			c = failed("Post \"http://candidate/orders\": context deadline exceeded", true)
		case 4:
			c.Header.Set("Location", "/v2/orders/ord-9")
		}
		x := pairOf("POST", "/orders", p, c)
		x.Request.ID = fmt.Sprintf("post-%d", i)
		x.Request.Body = []byte(`{"sku":"SKU-1","qty":2}`)
		xs = append(xs, x)
	}
	// GET /health: plain text, one line differs once.
	for i := range 3 {
		p := lat(textAnswer("text/plain; charset=utf-8", "status: ok\nversion: 1\n"), 1)
		c := lat(textAnswer("text/plain; charset=utf-8", "status: ok\nversion: 1\n"), 2)
		if i == 2 {
			c.Body = []byte("status: ok\nversion: 2\n")
		}
		x := pairOf("GET", "/health", p, c)
		x.Request.ID = fmt.Sprintf("health-%d", i)
		xs = append(xs, x)
	}
	// The primary failed once: counted, not compared.
	x := pairOf("GET", "/orders/ord-000001", failed("connection reset by peer", false), answer(200, "{}"))
	x.Request.ID = "get-failed"
	return append(xs, x)
}

func fixtureReport(t *testing.T) *Report {
	t.Helper()
	e := mustEngine(t, Config{
		Seed:      42,
		Exemplars: 2,
		Normalizers: []Normalizer{
			{Kind: Ignore, Path: "$.items[*].eta"},
		},
	})
	for _, x := range fixture() {
		e.Observe(x)
	}
	return e.Report()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from golden (-want +got; go test -update to accept):\n%s", name, diff)
	}
}

func TestReportJSONGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := fixtureReport(t).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", b.Bytes())

	// The schema promised to pipelines.
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "verdict", "reasons", "totals", "endpoints"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	ep := doc["endpoints"].([]any)[0].(map[string]any)
	for _, k := range []string{"method", "route", "pairs", "diffs", "diff_rate", "fields", "primary_p99_ms", "candidate_p99_ms", "candidate_errors"} {
		if _, ok := ep[k]; !ok {
			t.Errorf("endpoint lacks %q", k)
		}
	}
	f := ep["fields"].([]any)[0].(map[string]any)
	for _, k := range []string{"path", "diffs", "noise"} {
		if _, ok := f[k]; !ok {
			t.Errorf("field lacks %q", k)
		}
	}
}

func TestReportMarkdownGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := fixtureReport(t).WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.md", b.Bytes())
}

func TestReportIsDeterministic(t *testing.T) {
	t.Parallel()
	var a, b bytes.Buffer
	if err := fixtureReport(t).WriteJSON(&a); err != nil {
		t.Fatal(err)
	}
	if err := fixtureReport(t).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("two reports of the same exchanges differ")
	}
}

func TestReportVerdicts(t *testing.T) {
	t.Parallel()
	r := fixtureReport(t)
	got := map[string]string{}
	for _, ep := range r.Endpoints {
		got[ep.Method+" "+ep.Route] = ep.Verdict
	}
	want := map[string]string{
		"GET /orders/{id}": Fail,      // 3 of 30 pairs differ in price
		"POST /orders":     NotJudged, // 5 answered, below 20
		"GET /health":      NotJudged,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if r.Verdict != Fail || !strings.HasPrefix(r.Reasons[0], "GET /orders/{id}: 10% of 30 pairs differ") {
		t.Errorf("verdict %s, reasons %q", r.Verdict, r.Reasons)
	}
	// No evidence is no pass: a release gate must not wave through a run
	// whose mirroring never worked.
	e := mustEngine(t, Config{})
	// Nor is it a fail: the candidate did nothing wrong that was seen.
	if r := e.Report(); r.Verdict != Inconclusive || !strings.Contains(r.Reasons[0], "nothing was judged") {
		t.Errorf("empty report: verdict %s, reasons %q; want inconclusive, nothing judged", r.Verdict, r.Reasons)
	}
}

func TestWriteReportFile(t *testing.T) {
	t.Parallel()
	r := fixtureReport(t)
	dir := t.TempDir()
	tests := []struct {
		name, format, wantPrefix string
	}{
		{"r.json", "", "{\n"},
		{"r.md", "", "# understudy"},
		{"r.MARKDOWN", "", "# understudy"},
		{"report.txt", "json", "{\n"},
		{"report", "md", "# understudy"},
		{"r.html", "", "<!DOCTYPE html>"},
		{"r.HTM", "", "<!DOCTYPE html>"},
		{"r.xml", "", "<?xml"},
		{"report.out", "junit", "<?xml"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		if err := WriteReportFile(path, tt.format, r); err != nil {
			t.Fatalf("WriteReportFile(%q, %q): %v", tt.name, tt.format, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), tt.wantPrefix) {
			t.Errorf("%s starts with %q, want %q", tt.name, b[:min(20, len(b))], tt.wantPrefix)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", tt.name, fi.Mode().Perm())
		}
	}
	for _, bad := range []struct{ name, format, want string }{
		{"r.txt", "", "cannot tell the format"},
		{"r.json", "yaml", `unknown format "yaml"`},
		{"missing-dir/r.json", "", "missing-dir"},
	} {
		err := WriteReportFile(filepath.Join(dir, bad.name), bad.format, r)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("WriteReportFile(%q, %q) = %v, want an error mentioning %q", bad.name, bad.format, err, bad.want)
		}
	}
	// Overwriting replaces the file whole and leaves no temporary files.
	path := filepath.Join(dir, "r.json")
	if err := WriteReportFile(path, "", &Report{Schema: ReportSchema, Verdict: Pass}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestWriteReportFileKeepsOldFileOnFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A report that cannot be encoded (NaN) must not replace the file.
	r := &Report{Totals: Totals{Counts: Counts{DiffRate: nan()}}}
	if err := WriteReportFile(path, "", r); err == nil {
		t.Fatal("WriteReportFile with NaN succeeded, want an error")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("file now holds %q, want the old content", b)
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}
