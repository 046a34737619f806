package compare

import (
	"fmt"
	"strings"
)

// candidates writes a report of several candidates: a table of their
// totals and one of their endpoints, a column per candidate, then each
// candidate's own sections under its name.
func (m *md) candidates(r *Report) {
	cs := r.Candidates
	head := func(first string) {
		m.p("| %s |", first)
		for _, c := range cs {
			m.p(" %s |", mdCell(c.Name))
		}
		m.p("\n|---|%s\n", strings.Repeat("--:|", len(cs)))
	}
	row := func(label string, cell func(c *CandidateReport) string) {
		m.p("| %s |", label)
		for i := range cs {
			m.p(" %s |", cell(&cs[i]))
		}
		m.p("\n")
	}
	m.p("## Candidates\n\n")
	head("")
	row("Verdict", func(c *CandidateReport) string { return "**" + strings.ToUpper(words(c.Verdict)) + "**" })
	row("Exchanges", func(c *CandidateReport) string { return fmt.Sprint(c.Totals.Exchanges) })
	row("Compared pairs", func(c *CandidateReport) string { return fmt.Sprint(c.Totals.Pairs) })
	row("Differing pairs (noise excluded)", func(c *CandidateReport) string {
		return fmt.Sprintf("%d (%s)", c.Totals.Diffs, pct(c.Totals.DiffRate))
	})
	row("Pairs differing only by noise", func(c *CandidateReport) string { return fmt.Sprint(c.Totals.NoiseOnly) })
	row("Candidate errors", func(c *CandidateReport) string {
		t := c.Totals
		return fmt.Sprintf("%d (%s%s)", t.CandidateErrors, pct(t.ErrorRate), errorKindsText(t.CandidateErrorKinds))
	})
	row("Candidate latency p50 / p99", func(c *CandidateReport) string {
		return msText(c.Totals.CandidateP50Ms) + " / " + msText(c.Totals.CandidateP99Ms)
	})
	m.p("\nThe primary's latency p50 / p99: %s / %s. Every candidate is compared with the same primary and secondary answers.\n\n",
		msText(r.Totals.PrimaryP50Ms), msText(r.Totals.PrimaryP99Ms))

	m.p("## Endpoints by candidate\n\n")
	var names []string
	seen := map[string]bool{}
	for _, c := range cs {
		for i := range c.Endpoints {
			if n := endpointName(&c.Endpoints[i]); !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		m.p("No exchanges were observed.\n\n")
	} else {
		head("Endpoint")
		for _, n := range names {
			row(mdCell(n), func(c *CandidateReport) string { return endpointCell(c, n) })
		}
		m.p("\n")
	}
	for _, c := range cs {
		m.p("# Candidate %s\n\n", mdCode(c.Name))
		m.p("**Verdict: %s**\n\n", strings.ToUpper(words(c.Verdict)))
		if c.Headline != "" {
			m.p("%s\n\n", mdText(c.Headline))
		}
		if t := c.Totals; t.CandidateUnreachable() {
			m.p("> **Candidate unreachable** for %d of %d copies%s: check that it is running and that its address and TLS settings are right.\n\n",
				t.Unreachable(), t.Pairs+t.CandidateErrors, errorKindsText(t.CandidateErrorKinds))
		}
		for _, reason := range c.Reasons {
			m.p("- %s\n", mdText(reason))
		}
		m.p("\n")
		m.sections(&Report{Verdict: c.Verdict, Headline: c.Headline, Reasons: c.Reasons, FailedOn: c.FailedOn, Rules: r.Rules,
			Totals: c.Totals, Endpoints: c.Endpoints})
	}
}

// endpointCell is one candidate's cell of the endpoints table: verdict,
// diffs of pairs, errors; "–" when it saw none of the endpoint.
func endpointCell(c *CandidateReport, name string) string {
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		if endpointName(ep) != name {
			continue
		}
		s := fmt.Sprintf("%s: %d of %d differ (%s)", words(ep.Verdict), ep.Diffs, ep.Pairs, pct(ep.DiffRate))
		if ep.CandidateErrors > 0 {
			s += fmt.Sprintf(", %s", plural(ep.CandidateErrors, "error"))
		}
		return s
	}
	return "–"
}
