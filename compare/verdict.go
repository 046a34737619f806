package compare

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/understudy-dev/understudy/internal/numfmt"
	"github.com/understudy-dev/understudy/wire"
)

// Judgement is the verdict on one candidate, with what explains it.
type Judgement struct {
	// Verdict is Pass, Fail (a real regression: diffs, candidate errors
	// or latency beyond the rule) or Inconclusive (nothing or too little
	// judged, or the candidate unreachable for most copies).
	Verdict string
	// Headline says the verdict in one line: the worst endpoint and how
	// many others fail, or why nothing could be decided.
	Headline string
	// Reasons explain the verdict, failures first.
	Reasons []string
	// FailedOn names the limits broken when Verdict is Fail, in the order
	// FailDiffs, FailErrors, FailLatency; nil otherwise.
	FailedOn []string
}

// What a failing verdict failed on (Judgement.FailedOn, Report.FailedOn).
const (
	FailDiffs   = "diffs"   // the candidate differs beyond the rule
	FailErrors  = "errors"  // the candidate failed too many requests
	FailLatency = "latency" // the candidate is slower than the rule allows
)

// failure is one endpoint breaking one limit.
type failure struct {
	ep   *EndpointReport
	what string // "diffs", "errors", "latency"
	text string
}

// JudgeCandidate judges one candidate by its endpoints (set in place:
// Verdict, Latency, RuleOverride) and its totals, under rule (with its
// defaults, see Config.WithDefaults). An endpoint is judged on diffs once
// it has MinPairs pairs, and on candidate errors once it has MinPairs
// answered primaries (pairs plus candidate errors), so that a candidate
// failing every request cannot pass by never being compared; on latency
// once it has the latency rule's MinPairs pairs.
func JudgeCandidate(eps []EndpointReport, totals Counts, rule VerdictRule) Judgement {
	var fails []failure
	var notes []string
	judged, skipped, latencySkipped := 0, 0, 0
	for i := range eps {
		ep := &eps[i]
		r := rule.For(ep.Method, ep.Route)
		ep.RuleOverride = overrideText(rule, r)
		ep.Verdict = NotJudged
		ep.Latency = latencyCheck(ep.Counts, r.Latency)
		attempts := ep.Pairs + ep.CandidateErrors
		if ep.Pairs < int64(r.MinPairs) && attempts < int64(r.MinPairs) {
			skipped++
			continue
		}
		judged++
		ep.Verdict = Pass
		name := endpointName(ep)
		if ep.Pairs >= int64(r.MinPairs) && ep.DiffRate > r.MaxDiffRate {
			ep.Verdict = Fail
			fails = append(fails, failure{ep, FailDiffs, fmt.Sprintf("%s: %s of %s pairs differ (max %s)%s",
				name, numfmt.Pct(ep.DiffRate), numfmt.Count(ep.Pairs), numfmt.Pct(r.MaxDiffRate), topFields(ep))})
		}
		if r.MaxErrorRate >= 0 && attempts >= int64(r.MinPairs) && ep.ErrorRate > r.MaxErrorRate {
			ep.Verdict = Fail
			fails = append(fails, failure{ep, FailErrors, fmt.Sprintf("%s: candidate failed %s of %s requests (%s timeouts%s; max %s)",
				name, numfmt.Pct(ep.ErrorRate), numfmt.Count(attempts), numfmt.Count(ep.CandidateTimeouts),
				errorKindsText(ep.CandidateErrorKinds), numfmt.Pct(r.MaxErrorRate))})
		}
		switch lc := ep.Latency; {
		case lc.Failed:
			ep.Verdict = Fail
			fails = append(fails, failure{ep, FailLatency, name + ": candidate slower: " + lc.Reason})
		case !lc.Judged && lc.Enabled:
			latencySkipped++
		}
	}
	reached, unreachable := totals.Pairs+totals.CandidateErrors, totals.Unreachable()
	var j Judgement
	switch {
	case unreachable > 0 && 2*unreachable > reached:
		// Copies that never reached the candidate say nothing about it:
		// the run must be redone, not the release refused or let through.
		j.Verdict = Inconclusive
		j.Headline = fmt.Sprintf("inconclusive: the candidate was unreachable for %s of %s copies (%s), so it could not be judged",
			numfmt.Count(unreachable), numfmt.Count(reached), strings.TrimPrefix(errorKindsText(totals.CandidateErrorKinds), "; by kind: "))
		for _, f := range fails {
			notes = append(notes, f.text+" (not decisive while the candidate is unreachable)")
		}
		fails = nil
	case len(fails) > 0:
		j.Verdict = Fail
		j.Headline = failHeadline(fails)
		for _, what := range []string{FailDiffs, FailErrors, FailLatency} {
			if slices.ContainsFunc(fails, func(f failure) bool { return f.what == what }) {
				j.FailedOn = append(j.FailedOn, what)
			}
		}
	case judged == 0:
		// A release gate must not pass on no evidence: a run too short,
		// or whose mirroring never worked, is inconclusive and says why.
		j.Verdict = Inconclusive
		j.Headline = fmt.Sprintf("inconclusive: no endpoint reached %d pairs, so nothing was judged and nothing can pass", rule.MinPairs)
		if len(eps) == 0 {
			j.Headline = "inconclusive: no exchanges were observed, so nothing was judged and nothing can pass"
		}
	default:
		j.Verdict = Pass
		j.Headline = fmt.Sprintf("pass: %d of %d endpoints judged, all within limits (%s)", judged, judged+skipped, limitsText(rule))
	}
	var reasons []string
	for _, f := range fails {
		reasons = append(reasons, f.text)
	}
	if j.Verdict != Fail {
		reasons = append(reasons, strings.TrimPrefix(strings.TrimPrefix(j.Headline, j.Verdict+": "), "pass: "))
	}
	if skipped > 0 && judged > 0 {
		notes = append(notes, fmt.Sprintf("%d endpoints had fewer than %d pairs and were not judged", skipped, rule.MinPairs))
	}
	if latencySkipped > 0 {
		notes = append(notes, fmt.Sprintf("latency not judged on %s with fewer than %d pairs (verdict.max_latency_regression.min_pairs)",
			plural(int64(latencySkipped), "endpoint"), rule.Latency.MinPairs))
	}
	if !rule.Latency.enabled() {
		notes = append(notes, "the latency gate is off (verdict.max_latency_regression)")
	}
	if n := totals.TooLarge; n > 0 {
		notes = append(notes, fmt.Sprintf("%d pairs were too large to compare completely (compare.budget): they may hide differences", n))
	}
	if n := totals.NoiseOnly; n > 0 {
		notes = append(notes, fmt.Sprintf("%d pairs differed only in noise fields (shown separately)", n))
	}
	if n := totals.ProxyOnly; n > 0 {
		notes = append(notes, fmt.Sprintf("%d pairs differed only where shadow itself changed the request (marker, Host, X-Forwarded-*): class proxy, shown, not counted", n))
	}
	j.Reasons = append(reasons, notes...)
	return j
}

// failHeadline names the worst failing endpoint (by diff rate, then by
// the order of the failures) and how many others fail.
func failHeadline(fails []failure) string {
	worst := fails[0]
	eps := map[*EndpointReport]bool{}
	for _, f := range fails {
		eps[f.ep] = true
		if f.ep.DiffRate > worst.ep.DiffRate || (f.ep == worst.ep && f.what == FailDiffs) {
			worst = f
		}
	}
	h := "fail: " + worst.text
	if i := strings.Index(h, "; top fields:"); i >= 0 {
		h = h[:i]
	}
	switch n := len(eps) - 1; n {
	case 0:
		h += "; no other endpoint fails"
	case 1:
		h += "; 1 other endpoint fails"
	default:
		h += fmt.Sprintf("; %d other endpoints fail", n)
	}
	return h
}

// limitsText lists the limits a passing candidate stayed within.
func limitsText(rule VerdictRule) string {
	limits := "diff rate ≤ " + numfmt.Pct(rule.MaxDiffRate)
	if rule.MaxErrorRate >= 0 {
		limits += ", candidate error rate ≤ " + numfmt.Pct(rule.MaxErrorRate)
	}
	if l := rule.Latency; l.enabled() {
		limits += ", latency " + latencyLimitsText(l)
	}
	if len(rule.Routes) > 0 {
		limits += fmt.Sprintf(", %d route overrides", len(rule.Routes))
	}
	return limits
}

// latencyLimitsText says the latency gate's limits: "p50 ≤ 1.20×, p99 ≤
// 1.50× (and ≥ 5 ms slower)".
func latencyLimitsText(l LatencyRule) string {
	var parts []string
	if v := ratioOf(l.P50); v > 0 {
		parts = append(parts, "p50 ≤ "+numfmt.Ratio(v))
	}
	if v := ratioOf(l.P99); v > 0 {
		parts = append(parts, "p99 ≤ "+numfmt.Ratio(v))
	}
	s := strings.Join(parts, ", ")
	if l.MinDelta > 0 {
		s += " of the primary's unless < " + numfmt.Dur(l.MinDelta) + " slower"
	}
	return s
}

// overrideText describes how r differs from base, for an endpoint that a
// Routes entry applies to; "" when none does.
func overrideText(base, r VerdictRule) string {
	var parts []string
	if r.MinPairs != base.MinPairs {
		parts = append(parts, fmt.Sprintf("min_pairs %d", r.MinPairs))
	}
	if r.MaxDiffRate != base.MaxDiffRate {
		parts = append(parts, "max_diff_rate "+numfmt.Pct(r.MaxDiffRate))
	}
	if r.MaxErrorRate != base.MaxErrorRate {
		parts = append(parts, "max_error_rate "+numfmt.Pct(r.MaxErrorRate))
	}
	if a, b := r.Latency, base.Latency; a.Off != b.Off || ratioOf(a.P50) != ratioOf(b.P50) || ratioOf(a.P99) != ratioOf(b.P99) ||
		a.MinDelta != b.MinDelta || a.MinPairs != b.MinPairs {
		if a.enabled() {
			parts = append(parts, "latency "+latencyLimitsText(a))
		} else {
			parts = append(parts, "latency gate off")
		}
	}
	return strings.Join(parts, ", ")
}

// judge sets the verdict of each endpoint and of the report.
func judge(r *Report, rule VerdictRule) {
	j := JudgeCandidate(r.Endpoints, r.Totals.Counts, rule)
	r.Verdict, r.Headline, r.Reasons, r.FailedOn = j.Verdict, j.Headline, j.Reasons, j.FailedOn
}

// topFields names up to three non-noise fields with the most diffs.
func topFields(ep *EndpointReport) string {
	fs := make([]FieldReport, 0, len(ep.Fields))
	for _, f := range ep.Fields {
		if !f.Noisy && !f.Proxy && f.Diffs > 0 {
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

// Unreachable is how many copies never reached the candidate: refused
// connections and failed TLS handshakes (wire.KindRefused, wire.KindTLS).
// Timeouts, resets and protocol errors are the candidate's behaviour, not
// its absence, and count as candidate errors only.
func (c Counts) Unreachable() int64 {
	return c.CandidateErrorKinds[wire.KindRefused] + c.CandidateErrorKinds[wire.KindTLS]
}

// CandidateUnreachable reports whether the candidate was unreachable for
// most copies that reached it or tried to (see Unreachable).
func (c Counts) CandidateUnreachable() bool {
	u := c.Unreachable()
	return u > 0 && 2*u > c.Pairs+c.CandidateErrors
}

// pct formats a rate as a percentage (numfmt.Pct).
func pct(r float64) string { return numfmt.Pct(r) }
