package main

import (
	"fmt"
	"strings"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/internal/numfmt"
	"github.com/understudy-dev/understudy/mirror"
)

// candidateUpstreams names the candidates of m for capture labels:
// "candidate" with one, "candidate.v2", "candidate.v3" ... with several.
func candidateUpstreams(m mirror.Config, into map[string]string) map[string]string {
	if len(m.Candidates) == 0 {
		into["candidate"] = m.Candidate
		return into
	}
	for _, c := range m.Candidates {
		into["candidate."+c.Name] = c.URL
	}
	return into
}

// candidatesText says where copies go, for the start line: "candidate
// URL", or "candidates v2 URL, v3 URL".
func candidatesText(m mirror.Config) string {
	if len(m.Candidates) == 0 {
		return "candidate " + m.Candidate
	}
	var parts []string
	for _, c := range m.Candidates {
		parts = append(parts, c.Name+" "+c.URL)
	}
	return "candidates " + strings.Join(parts, ", ")
}

// failing is a candidate that failed a report, for the error a failing
// run ends with: who names it ("the candidate" with one, "candidate v3"
// with several), failedOn says what it failed on (Report.FailedOn).
type failing struct {
	who      string
	failedOn []string
}

// failingCandidates returns the candidates that failed rep, in order: the
// report itself when it judges one candidate.
func failingCandidates(rep *compare.Report) []failing {
	if len(rep.Candidates) == 0 {
		return []failing{{"the candidate", rep.FailedOn}}
	}
	var out []failing
	for _, c := range rep.Candidates {
		if c.Verdict == compare.Fail {
			out = append(out, failing{"candidate " + c.Name, c.FailedOn})
		}
	}
	return out
}

// candidatesVerdict writes the verdict of a report of several candidates
// and a line per candidate with its own verdict and numbers, each line
// after prefix; it reports false, writing nothing, for a report of one.
func candidatesVerdict(b *strings.Builder, rep *compare.Report, prefix string) bool {
	if len(rep.Candidates) == 0 {
		return false
	}
	fmt.Fprintf(b, "%sverdict %s: %d candidates\n", prefix, rep.Verdict, len(rep.Candidates))
	for _, c := range rep.Candidates {
		t := c.Totals
		fmt.Fprintf(b, "%scandidate %s: %s: %s pairs compared, %s differ (%s), %s candidate errors\n", prefix,
			c.Name, c.Verdict, numfmt.Count(t.Pairs), numfmt.Count(t.Diffs), numfmt.Pct(t.DiffRate), numfmt.Count(t.CandidateErrors))
	}
	return true
}

// candidateURLs maps each candidate's name to its URL when m lists
// several; nil with one.
func candidateURLs(m mirror.Config) map[string]string {
	if len(m.Candidates) == 0 {
		return nil
	}
	out := make(map[string]string, len(m.Candidates))
	for _, c := range m.Candidates {
		out[c.Name] = c.URL
	}
	return out
}
