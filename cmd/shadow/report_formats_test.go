package main

import (
	"encoding/xml"
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
	"github.com/understudy-dev/understudy/internal/junit"
)

func TestReportFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		out, format, want, wantErr string
	}{
		{"", "", "", ""},
		{"r.json", "", "json", ""},
		{"r.md", "", "md", ""},
		{"r.markdown", "", "md", ""},
		{"r.html", "", "html", ""},
		{"R.HTM", "", "html", ""},
		{"r.xml", "", "xml", ""},
		{"r.out", "junit", "xml", ""},
		{"r.json", "html", "html", ""},
		{"r.txt", "", "", `report_format: "txt" is not json, md, html or xml (JUnit)`},
		{"r.json", "pdf", "", `"pdf" is not`},
	}
	for _, tt := range tests {
		got, err := config{ReportOut: tt.out, ReportFormat: tt.format}.reportFormat()
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("reportFormat(%q, %q) error = %v, want %q", tt.out, tt.format, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("reportFormat(%q, %q) = %q, %v; want %q", tt.out, tt.format, got, err, tt.want)
		}
	}
}

// checkHTMLReport checks a page names the verdict and the endpoint.
func checkHTMLReport(t *testing.T, name, page string) {
	t.Helper()
	for _, want := range []string{"<!DOCTYPE html>", `id="verdict"`, `data-verdict="fail"`,
		`<tr data-endpoint="GET /items/{id}"`, `data-path="$.price"`} {
		if !strings.Contains(page, want) {
			t.Errorf("%s lacks %q", name, want)
		}
	}
}

// checkJUnitReport checks a JUnit document fails the endpoint on $.price.
func checkJUnitReport(t *testing.T, name string, data []byte) {
	t.Helper()
	var doc junit.Suites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not XML: %v\n%s", name, err, data)
	}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Name == "GET /items/{id}" && c.Failure != nil && strings.Contains(c.Failure.Text, "$.price") {
				return
			}
		}
	}
	t.Errorf("%s has no failing GET /items/{id} case naming $.price:\n%s", name, data)
}

// `shadow run --report-out` writes HTML and JUnit by extension or by
// --report-format, and `shadow report` writes them from the capture.
func TestRunAndReportWriteHTMLAndJUnit(t *testing.T) {
	t.Parallel()
	primary, candidate := jsonServer(t, "10.00"), jsonServer(t, "10.01")
	for _, tt := range []struct {
		out, format string
		check       func(t *testing.T, name string, data []byte)
	}{
		{"report.html", "", func(t *testing.T, name string, data []byte) { checkHTMLReport(t, name, string(data)) }},
		{"report.out", "junit", checkJUnitReport},
	} {
		t.Run(tt.out, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			report, captures := filepath.Join(dir, tt.out), filepath.Join(dir, "captures")
			args := []string{"--primary", primary.URL, "--candidate", candidate.URL, "--report-out", report,
				"--capture", captures, "--summary-interval", "50ms", "--no-tui"}
			if tt.format != "" {
				args = append(args, "--report-format", tt.format)
			}
			base, stop, code, out := startShadow(t, args...)
			const requests = 25 // above the verdict's default 20-pair minimum
			for i := range requests {
				resp, err := http.Get(base + "/items/" + fmt.Sprint(i))
				if err != nil {
					stop()
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			out.WaitFor(t, "every exchange compared", regexp.MustCompile(fmt.Sprintf(`compared %d `, requests)).MatchString)
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
			tt.check(t, "shadow run --report-out "+tt.out, data)
			if fi, err := os.Stat(report); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("report mode = %v (%v), want 0600", fi.Mode(), err)
			}

			// The same report offline, to a file by extension and to stdout.
			offline := filepath.Join(dir, "offline"+filepath.Ext(report))
			format := strings.TrimPrefix(filepath.Ext(report), ".")
			if tt.format != "" {
				format = tt.format
			}
			if rc, _, stderr := runReport(t, "--format", format, "--out", offline, captures); rc != cli.ExitFail {
				t.Fatalf("shadow report --out exit %d, want %d\n%s", rc, cli.ExitFail, stderr)
			}
			data, err = os.ReadFile(offline)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, "shadow report --out", data)
			rc, stdout, stderr := runReport(t, "--format", format, captures)
			if rc != cli.ExitFail {
				t.Fatalf("shadow report exit %d, want %d\n%s", rc, cli.ExitFail, stderr)
			}
			tt.check(t, "shadow report --format "+format, []byte(stdout))
		})
	}
}
