// Package junit writes JUnit XML, the test report format CI systems
// (GitLab, Jenkins, GitHub Actions reporters) read: test suites of test
// cases, each passed, failed with a reason, or skipped. synth writes one
// case per journey step, shadow one per endpoint and candidate.
package junit

import (
	"encoding/xml"
	"fmt"
	"io"
)

// Suites is the document: a <testsuites> element. Write fills in the
// counts; callers set names, cases and outcomes.
type Suites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr,omitempty"`
	// Time is the run's duration in seconds ("12.345"); empty leaves it out.
	Time   string  `xml:"time,attr,omitempty"`
	Suites []Suite `xml:"testsuite"`
}

// Suite is one <testsuite>: a group of cases.
type Suite struct {
	Name     string `xml:"name,attr"`
	Tests    int    `xml:"tests,attr"`
	Failures int    `xml:"failures,attr"`
	Skipped  int    `xml:"skipped,attr,omitempty"`
	Cases    []Case `xml:"testcase"`
}

// Case is one <testcase>. It passed unless Failure or Skipped is set.
type Case struct {
	// Class is the classname attribute, which CI systems group by.
	Class string `xml:"classname,attr"`
	Name  string `xml:"name,attr"`
	// Time is the case's duration in seconds; empty leaves it out.
	Time    string   `xml:"time,attr,omitempty"`
	Failure *Failure `xml:"failure,omitempty"`
	Skipped *Skipped `xml:"skipped,omitempty"`
	// Out is free text shown with the case (<system-out>).
	Out string `xml:"system-out,omitempty"`
}

// Failure says why a case failed: a one-line Message and details in Text.
type Failure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// Skipped says why a case was not judged.
type Skipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// Write counts the cases of every suite (tests, failures, skipped), sums
// them into s, and writes s as an indented XML document.
func Write(w io.Writer, s Suites) error {
	s.Tests, s.Failures, s.Skipped = 0, 0, 0
	for i := range s.Suites {
		su := &s.Suites[i]
		su.Tests, su.Failures, su.Skipped = len(su.Cases), 0, 0
		for _, c := range su.Cases {
			switch {
			case c.Failure != nil:
				su.Failures++
			case c.Skipped != nil:
				su.Skipped++
			}
		}
		s.Tests += su.Tests
		s.Failures += su.Failures
		s.Skipped += su.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}
