package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
)

// Two candidates in one run, one answering like the primary and one
// changing a field: every report shows both, and the run fails naming
// only the one that differs.
func TestRunSeveralCandidates(t *testing.T) {
	primary, v2, v3 := jsonServer(t, "10.00"), jsonServer(t, "10.00"), jsonServer(t, "10.01")
	dir := t.TempDir()
	cfg := writeFile(t, "shadow.yaml", fmt.Sprintf(`
primary: %s
candidates:
  - {name: v2, url: %s}
  - {name: v3, url: %s, timeout: 3s}
`, primary.URL, v2.URL, v3.URL))
	report, captures := filepath.Join(dir, "report.json"), filepath.Join(dir, "captures")
	base, stop, code, out := startShadow(t, "--config", cfg, "--report-out", report, "--summary-interval", "100ms", "--no-tui",
		"--capture", captures)
	if !strings.Contains(out.String(), "candidates v2 "+v2.URL+", v3 "+v3.URL) {
		t.Errorf("start line does not name both candidates:\n%s", out.String())
	}
	const requests = 30
	for i := range requests {
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
	got := out.String()
	for _, want := range []string{
		"shadow: candidate v2: pass: 30 pairs compared, 0 differ",
		"shadow: candidate v3: fail: 30 pairs compared, 30 differ",
		"candidate v3 fails; candidate v2 passes",
		"verdict fail (exit 1): candidate v3 differs beyond the configured rule",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "candidate v2 differs") {
		t.Errorf("output fails v2:\n%s", got)
	}

	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Verdict    string
		Candidates []struct {
			Name, Verdict string
			Endpoints     []struct {
				Route  string
				Pairs  int
				Fields []struct{ Path string }
			}
		}
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, data)
	}
	if rep.Verdict != "fail" || len(rep.Candidates) != 2 {
		t.Fatalf("report: verdict %s, %d candidates; want fail and 2", rep.Verdict, len(rep.Candidates))
	}
	c2, c3 := rep.Candidates[0], rep.Candidates[1]
	if c2.Name != "v2" || c2.Verdict != "pass" || len(c2.Endpoints) != 1 || c2.Endpoints[0].Pairs != requests || len(c2.Endpoints[0].Fields) != 0 {
		t.Errorf("v2 = %+v, want a pass over %d pairs with no field differing", c2, requests)
	}
	if c3.Name != "v3" || c3.Verdict != "fail" || len(c3.Endpoints) != 1 || c3.Endpoints[0].Fields[0].Path != "$.price" {
		t.Errorf("v3 = %+v, want a fail at $.price", c3)
	}
	// The capture files keep which candidate said what: a report made from
	// them judges both candidates again, alike.
	var again syncBuffer
	md := filepath.Join(dir, "again.md")
	if c := execute(t.Context(), []string{"report", "--out", md, captures}, &again, &again); c != cli.ExitFail {
		t.Fatalf("shadow report exit %d, want %d:\n%s", c, cli.ExitFail, again.String())
	}
	text, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"|  | `v2` | `v3` |", "| Verdict | **PASS** | **FAIL** |", "| `GET /items/{id}` | pass: 0 of 30 differ (0%) | fail: 30 of 30 differ (100%) |"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("report from the captures lacks %q:\n%s", want, text)
		}
	}
}

// --print-config shows every candidate with its settings, defaults
// resolved, and the printed config loads back.
func TestPrintConfigSeveralCandidates(t *testing.T) {
	path := writeFile(t, "shadow.yaml", `
primary: http://p
secondary: http://s
candidates:
  - name: v2
    url: http://b
  - name: v3
    url: https://c
    timeout: 2s
    protocol: h2
    tls: {server_name: c.internal}
    set_headers: {Authorization: "Bearer candidate-secret"}
`)
	print := func(path string) string {
		var out syncBuffer
		if code := execute(t.Context(), []string{"run", "--config", path, "--print-config"}, &out, &out); code != 0 {
			t.Fatalf("exit %d:\n%s", code, out.String())
		}
		return out.String()
	}
	got := print(path)
	for _, want := range []string{
		"candidates:\n  - name: v2\n    url: http://b\n    timeout: 5s\n",
		"  - name: v3\n    url: https://c\n    timeout: 2s\n",
		"      server_name: c.internal\n", "    protocol: h2\n", "      authorization: <masked>\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("printed config lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "candidate-secret") {
		t.Errorf("printed config shows a secret:\n%s", got)
	}
	// <masked> loads back as a header value: the printed file reloads and prints the same.
	if again := print(writeFile(t, "printed.yaml", got)); again != got {
		t.Errorf("printed config reloads differently:\n%s\nfirst:\n%s", again, got)
	}
}

// Errors in the candidates list name the key as written, with its line.
func TestCandidatesConfigErrorsNameTheKey(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"duplicate name and missing url",
			"primary: http://a\ncandidates:\n  - name: v2\n    url: http://b\n  - name: v2\n    url: http://c\n  - name: v4\n",
			"shadow.yaml:5: candidates[1].name: \"v2\" is also candidates[0]'s name; each candidate needs its own\n" +
				"shadow.yaml:7: candidates[2].url: required"},
		{"with candidate", "primary: http://a\ncandidate: http://z\ncandidates:\n  - {name: v2, url: http://b}\n",
			`shadow.yaml:3: candidates: given with candidate "http://z"; want one of them (candidate for one version, candidates for several)`},
		{"a misspelt key", "primary: http://a\ncandidates:\n  - {name: v2, url: http://b}\n  - {name: v3, url: http://c, protocl: h2}\n",
			"shadow.yaml:4: candidates[1].protocl: unknown key; did you mean candidates[1].protocol?"},
		{"tls for http", "primary: http://a\ncandidates:\n  - name: v2\n    url: http://b\n    tls: {ca_file: /x}\n",
			`shadow.yaml:5: candidates[0].tls: set, but candidates[0].url "http://b" is not an https:// URL`},
		{"the primary", "primary: http://a\ncandidates:\n  - {name: v2, url: http://b}\n  - {name: v3, url: http://a}\n",
			`shadow.yaml:4: candidates[1].url: "http://a" is the primary; mirroring to it would duplicate live traffic`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "shadow.yaml", tt.file)
			_, err := loadRunConfig(t, "--config", path)
			if err == nil {
				t.Fatal("loadConfig succeeded, want an error")
			}
			got := strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), "")
			if got != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
