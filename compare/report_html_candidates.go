package compare

import (
	"fmt"
	"strings"
)

// htmlCompare is the table of a report of several candidates: a column
// per candidate, a row per total and per endpoint.
type htmlCompare struct {
	Rows []htmlCompareRow
}

type htmlCompareRow struct {
	Label string
	Code  bool // Label is an endpoint
	Cells []htmlCell
}

// htmlCell is one candidate's value; Verdict, when set, shows it as a
// badge of that verdict.
type htmlCell struct{ Text, Verdict string }

func newHTMLCompare(cs []candidateView) htmlCompare {
	var c htmlCompare
	row := func(label string, code bool, cell func(v *candidateView) htmlCell) {
		r := htmlCompareRow{Label: label, Code: code}
		for i := range cs {
			r.Cells = append(r.Cells, cell(&cs[i]))
		}
		c.Rows = append(c.Rows, r)
	}
	text := func(f func(t *Totals) string) func(v *candidateView) htmlCell {
		return func(v *candidateView) htmlCell { return htmlCell{Text: f(&v.Totals)} }
	}
	row("Verdict", false, func(v *candidateView) htmlCell {
		return htmlCell{Text: strings.ToUpper(words(v.Verdict)), Verdict: v.Verdict}
	})
	row("Exchanges", false, text(func(t *Totals) string { return fmt.Sprint(t.Exchanges) }))
	row("Compared pairs", false, text(func(t *Totals) string { return fmt.Sprint(t.Pairs) }))
	row("Differing pairs (noise excluded)", false, text(func(t *Totals) string { return fmt.Sprintf("%d (%s)", t.Diffs, pct(t.DiffRate)) }))
	row("Candidate errors", false, text(func(t *Totals) string {
		return fmt.Sprintf("%d (%s%s)", t.CandidateErrors, pct(t.ErrorRate), errorKindsText(t.CandidateErrorKinds))
	}))
	row("Candidate latency p50 / p99", false, text(func(t *Totals) string {
		return msText(t.CandidateP50Ms) + " / " + msText(t.CandidateP99Ms)
	}))
	var names []string
	seen := map[string]bool{}
	for _, v := range cs {
		for i := range v.Endpoints {
			if n := endpointName(&v.Endpoints[i]); !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	for _, n := range names {
		row(n, true, func(v *candidateView) htmlCell {
			for i := range v.Endpoints {
				if ep := &v.Endpoints[i]; endpointName(ep) == n {
					return htmlCell{Text: fmt.Sprintf("%s · %s of %d", words(ep.Verdict), pct(ep.DiffRate), ep.Pairs), Verdict: ep.Verdict}
				}
			}
			return htmlCell{Text: "–"}
		})
	}
	return c
}
