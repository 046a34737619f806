package compare

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/internal/junit"
)

func TestReportJUnitGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := fixtureReport(t).WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.xml", b.Bytes())
}

// outcome is how CI reads one case.
type outcome struct{ Name, Result, Message string }

func junitOutcomes(t *testing.T, r *Report) (junit.Suites, []outcome) {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var doc junit.Suites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit output does not parse: %v\n%s", err, b.String())
	}
	var got []outcome
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			o := outcome{Name: s.Name + " " + c.Name, Result: "pass"}
			switch {
			case c.Failure != nil:
				o.Result, o.Message = "fail", c.Failure.Message
			case c.Skipped != nil:
				o.Result, o.Message = "skipped", c.Skipped.Message
			}
			got = append(got, o)
		}
	}
	return doc, got
}

func TestReportJUnitCases(t *testing.T) {
	t.Parallel()
	doc, got := junitOutcomes(t, fixtureReport(t))
	want := []outcome{
		{"shadow/candidate GET /health", "skipped", "not judged: 3 pairs and 0 candidate errors, fewer than min_pairs 20"},
		{"shadow/candidate POST /orders", "skipped", "not judged: 5 pairs and 1 candidate error, fewer than min_pairs 20"},
		{"shadow/candidate GET /orders/{id}", "fail", "10% of 30 pairs differ (max 1%); top fields: $.items[*].price (3), $.total.amount (3)"},
		{"shadow/candidate verdict", "fail", "fail: GET /orders/{id}: 10% of 30 pairs differ (max 1%); no other endpoint fails"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cases (-want +got):\n%s", diff)
	}
	if doc.Tests != 4 || doc.Failures != 2 || doc.Skipped != 2 {
		t.Errorf("counts: %d tests, %d failures, %d skipped; want 4, 2, 2", doc.Tests, doc.Failures, doc.Skipped)
	}
	// The failure's text carries the numbers behind it, noise marked.
	text := doc.Suites[0].Cases[2].Failure.Text
	for _, want := range []string{"diff rate 10% of 30 pairs (max 1%)", "$.items[*].price: 3 of 30 pairs (10%): changed 3", "$.generated_at: 30 of 30 pairs (100%): changed 30; secondary 30 of 30 (100%); noise, not counted"} {
		if !strings.Contains(text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, text)
		}
	}
}

func TestReportJUnitErrorsAndNothingJudged(t *testing.T) {
	t.Parallel()
	// A candidate failing every request fails its endpoint with the errors.
	e := mustEngine(t, Config{Verdict: VerdictRule{MinPairs: 3}})
	for range 3 {
		e.Observe(pairOf("GET", "/a", answer(200, `{}`), failed("dial tcp 127.0.0.1:1: connection refused", false)))
	}
	doc, got := junitOutcomes(t, e.Report())
	if got[0].Result != "fail" || !strings.Contains(got[0].Message, "candidate failed 100% of 3 requests") {
		t.Errorf("endpoint case %+v, want a failure naming the error rate", got[0])
	}
	if text := doc.Suites[0].Cases[0].Failure.Text; !strings.Contains(text, "3× dial tcp 127.0.0.1:1: connection refused") {
		t.Errorf("failure text lacks the candidate's error:\n%s", text)
	}
	// Nothing judged: inconclusive, neither a pass nor a fail: the
	// verdict case is skipped with the reason.
	_, got = junitOutcomes(t, mustEngine(t, Config{}).Report())
	if len(got) != 1 || got[0].Result != "skipped" || !strings.Contains(got[0].Message, "inconclusive: no exchanges were observed, so nothing was judged") {
		t.Errorf("empty report cases %+v, want one skipped verdict case", got)
	}
}
