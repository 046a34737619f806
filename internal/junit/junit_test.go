package junit

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteCounts(t *testing.T) {
	t.Parallel()
	s := Suites{Name: "run", Tests: 99, Suites: []Suite{
		{Name: "a", Cases: []Case{
			{Class: "a", Name: "ok"},
			{Class: "a", Name: "bad", Failure: &Failure{Message: "m", Text: "t"}},
			{Class: "a", Name: "skip", Skipped: &Skipped{Message: "too few"}},
		}},
		{Name: "b", Cases: []Case{{Class: "b", Name: "bad", Failure: &Failure{Message: "m"}}}},
	}}
	var buf bytes.Buffer
	if err := Write(&buf, s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), xml.Header) || !strings.HasSuffix(buf.String(), "</testsuites>\n") {
		t.Errorf("document not framed by the XML header and a final newline:\n%s", buf.String())
	}
	var got Suites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, buf.String())
	}
	type counts struct{ Tests, Failures, Skipped int }
	gotC := []counts{{got.Tests, got.Failures, got.Skipped}}
	for _, su := range got.Suites {
		gotC = append(gotC, counts{su.Tests, su.Failures, su.Skipped})
	}
	want := []counts{{4, 2, 1}, {3, 1, 1}, {1, 1, 0}}
	if diff := cmp.Diff(want, gotC); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if s.Tests != 99 {
		t.Error("Write changed the caller's value")
	}
}

func TestWriteEscapes(t *testing.T) {
	t.Parallel()
	hostile := "</failure><x>&\"'\x00\x1b]"
	s := Suites{Name: hostile, Suites: []Suite{{Name: hostile, Cases: []Case{
		{Class: hostile, Name: hostile, Failure: &Failure{Message: hostile, Text: hostile}, Out: hostile},
	}}}}
	var buf bytes.Buffer
	if err := Write(&buf, s); err != nil {
		t.Fatal(err)
	}
	var got Suites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("hostile names break the document: %v\n%s", err, buf.String())
	}
	if c := got.Suites[0].Cases[0]; c.Failure == nil || !strings.HasPrefix(c.Failure.Text, "</failure><x>&") {
		t.Errorf("failure text did not survive: %+v", c.Failure)
	}
}
