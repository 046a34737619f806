package compare

import (
	"cmp"
	"fmt"
	"io"
	"strings"

	"github.com/understudy-dev/understudy/internal/junit"
)

// WriteJUnit writes the report as JUnit XML for CI: one test suite per
// candidate with one test case per endpoint, failed with the reason (the
// verdict's reasons for it, then diff and error rates, the fields that
// differ and the candidate's errors), skipped when the endpoint had too
// few pairs to judge; and a "verdict" case that fails when the report's
// verdict does, so a run that judged nothing fails in CI too.
func (r *Report) WriteJUnit(w io.Writer) error {
	doc := junit.Suites{Name: "shadow"}
	for _, c := range candidates(r) {
		doc.Suites = append(doc.Suites, junitSuite(c, r.Rules))
	}
	if err := junit.Write(w, doc); err != nil {
		return fmt.Errorf("write report junit: %w", err)
	}
	return nil
}

// junitSuite is one candidate's suite.
func junitSuite(c candidateView, rules Rules) junit.Suite {
	class := "shadow." + c.Name
	s := junit.Suite{Name: "shadow/" + c.Name}
	for i := range c.Endpoints {
		s.Cases = append(s.Cases, junitEndpoint(class, &c.Endpoints[i], c.Reasons, rules))
	}
	v := junit.Case{Class: class, Name: "verdict", Out: strings.Join(c.Reasons, "\n")}
	msg := c.Headline
	if msg == "" && len(c.Reasons) > 0 {
		msg = c.Reasons[0]
	}
	switch c.Verdict {
	case Fail:
		v.Failure = &junit.Failure{Message: cmp.Or(msg, "verdict fail"), Text: v.Out}
		v.Out = ""
	case Inconclusive:
		// Neither a pass nor a fail: nothing could be decided, and CI
		// shows it as such.
		v.Skipped = &junit.Skipped{Message: cmp.Or(msg, "verdict inconclusive")}
	}
	s.Cases = append(s.Cases, v)
	return s
}

// junitEndpoint is one endpoint's case.
func junitEndpoint(class string, ep *EndpointReport, reasons []string, rules Rules) junit.Case {
	name := endpointName(ep)
	tc := junit.Case{Class: class, Name: name, Out: endpointSummary(ep)}
	switch ep.Verdict {
	case NotJudged:
		tc.Skipped = &junit.Skipped{Message: fmt.Sprintf("not judged: %s and %s, fewer than min_pairs %d",
			plural(ep.Pairs, "pair"), plural(ep.CandidateErrors, "candidate error"), rules.MinPairs)}
	case Fail:
		// The verdict's own words for this endpoint, whatever rule failed
		// it; the numbers follow in the text.
		var own []string
		for _, r := range reasons {
			if rest, ok := strings.CutPrefix(r, name+": "); ok {
				own = append(own, rest)
			}
		}
		msg := "verdict fail"
		if len(own) > 0 {
			msg = strings.Join(own, "; ")
		}
		tc.Failure = &junit.Failure{Message: msg, Text: failureDetail(ep, rules)}
	}
	return tc
}

// endpointSummary is one line of an endpoint's numbers.
func endpointSummary(ep *EndpointReport) string {
	tooLarge := ""
	if ep.TooLarge > 0 {
		tooLarge = fmt.Sprintf(", %d too large to compare completely", ep.TooLarge)
	}
	return fmt.Sprintf("%s, %d differ (%s), %d differ only by noise%s; %s (%s, %s); "+
		"latency p50 / p99: primary %s / %s, candidate %s / %s",
		plural(ep.Pairs, "pair"), ep.Diffs, pct(ep.DiffRate), ep.NoiseOnly, tooLarge, plural(ep.CandidateErrors, "candidate error"), pct(ep.ErrorRate),
		plural(ep.CandidateTimeouts, "timeout"),
		msText(ep.PrimaryP50Ms), msText(ep.PrimaryP99Ms), msText(ep.CandidateP50Ms), msText(ep.CandidateP99Ms))
}

// failureDetail lists the rates against their limits, every field that
// differed (noise marked) and the candidate's errors.
func failureDetail(ep *EndpointReport, rules Rules) string {
	var b strings.Builder
	if ep.RuleOverride != "" {
		fmt.Fprintf(&b, "rule for this route (verdict.routes): %s\n", ep.RuleOverride)
	}
	fmt.Fprintf(&b, "diff rate %s of %d pairs (max %s)\n", pct(ep.DiffRate), ep.Pairs, pct(rules.MaxDiffRate))
	if rules.MaxErrorRate >= 0 {
		fmt.Fprintf(&b, "candidate error rate %s of %d requests (max %s)\n",
			pct(ep.ErrorRate), ep.Pairs+ep.CandidateErrors, pct(rules.MaxErrorRate))
	}
	if lc := ep.Latency; lc != nil {
		fmt.Fprintf(&b, "latency: %s\n", latencyCheckText(lc))
	}
	if len(ep.Fields) > 0 {
		b.WriteString("fields:\n")
	}
	for _, f := range ep.Fields {
		fmt.Fprintf(&b, "  %s: %d of %d pairs (%s)%s", f.Path, f.Diffs, ep.Pairs, pct(f.DiffRate), kindsText(f.Kinds))
		if f.Noise > 0 {
			fmt.Fprintf(&b, "; secondary %d of %d (%s)", f.Noise, ep.SecondarySamples, pct(f.NoiseRate))
		}
		if f.Noisy {
			b.WriteString("; noise, not counted")
		}
		if f.Proxy {
			b.WriteString("; made by shadow itself (class proxy), not counted")
		}
		b.WriteString("\n")
	}
	if len(ep.Errors) > 0 {
		b.WriteString("candidate errors:\n")
	}
	for _, e := range ep.Errors {
		fmt.Fprintf(&b, "  %d× %s\n", e.Count, e.Error)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
