package compare

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// judge sets the verdict of each endpoint and of the report. An endpoint
// is judged on diffs once it has MinPairs pairs, and on candidate errors
// once it has MinPairs answered primaries (pairs plus candidate errors),
// so that a candidate failing every request cannot pass by never being
// compared.
func judge(r *Report, rule VerdictRule) {
	var fails, notes []string
	judged, skipped := 0, 0
	for i := range r.Endpoints {
		ep := &r.Endpoints[i]
		ep.Verdict = NotJudged
		attempts := ep.Pairs + ep.CandidateErrors
		if ep.Pairs < int64(rule.MinPairs) && attempts < int64(rule.MinPairs) {
			skipped++
			continue
		}
		judged++
		ep.Verdict = Pass
		name := ep.Method + " " + ep.Route
		if ep.Pairs >= int64(rule.MinPairs) && ep.DiffRate > rule.MaxDiffRate {
			ep.Verdict = Fail
			fails = append(fails, fmt.Sprintf("%s: %s of %d pairs differ (max %s)%s",
				name, pct(ep.DiffRate), ep.Pairs, pct(rule.MaxDiffRate), topFields(ep)))
		}
		if rule.MaxErrorRate >= 0 && attempts >= int64(rule.MinPairs) && ep.ErrorRate > rule.MaxErrorRate {
			ep.Verdict = Fail
			fails = append(fails, fmt.Sprintf("%s: candidate failed %s of %d requests (%d timeouts; max %s)",
				name, pct(ep.ErrorRate), attempts, ep.CandidateTimeouts, pct(rule.MaxErrorRate)))
		}
	}
	switch {
	case len(fails) > 0:
		r.Verdict = Fail
	case judged == 0:
		// A release gate must not pass on no evidence: a run too short,
		// or whose mirroring never worked, fails and says why.
		r.Verdict = Fail
		fails = append(fails, fmt.Sprintf("no endpoint reached %d pairs: nothing was judged, so nothing can pass", rule.MinPairs))
	default:
		r.Verdict = Pass
		limits := "diff rate ≤ " + pct(rule.MaxDiffRate)
		if rule.MaxErrorRate >= 0 {
			limits += ", candidate error rate ≤ " + pct(rule.MaxErrorRate)
		}
		notes = append(notes, fmt.Sprintf("%d of %d endpoints judged, all within limits (%s)", judged, judged+skipped, limits))
	}
	if skipped > 0 && judged > 0 {
		notes = append(notes, fmt.Sprintf("%d endpoints had fewer than %d pairs and were not judged", skipped, rule.MinPairs))
	}
	if n := r.Totals.TooLarge; n > 0 {
		notes = append(notes, fmt.Sprintf("%d pairs were too large to compare completely (compare.budget): they may hide differences", n))
	}
	if n := r.Totals.NoiseOnly; n > 0 {
		notes = append(notes, fmt.Sprintf("%d pairs differed only in noise fields (shown separately)", n))
	}
	r.Reasons = append(fails, notes...)
}

// topFields names up to three non-noise fields with the most diffs.
func topFields(ep *EndpointReport) string {
	fs := make([]FieldReport, 0, len(ep.Fields))
	for _, f := range ep.Fields {
		if !f.Noisy && f.Diffs > 0 {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return ""
	}
	slices.SortStableFunc(fs, func(a, b FieldReport) int { return cmp.Compare(b.Diffs, a.Diffs) })
	var names []string
	for _, f := range fs[:min(3, len(fs))] {
		names = append(names, fmt.Sprintf("%s (%d)", f.Path, f.Diffs))
	}
	return "; top fields: " + strings.Join(names, ", ")
}

// pct formats a rate as a percentage.
func pct(r float64) string {
	s := fmt.Sprintf("%.2f", r*100)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}
