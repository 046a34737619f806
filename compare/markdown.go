package compare

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/understudy-dev/understudy/internal/numfmt"
	"github.com/understudy-dev/understudy/wire"
)

// Bounds of the Markdown report.
const (
	mdTopFields = 20 // fields shown with an exemplar
)

// WriteMarkdown writes the report for a person deciding on a release:
// verdict and reasons, a summary, the endpoints table, the top differing
// fields with an example each, noise, and candidate errors.
func (r *Report) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	m := &md{w: bw, shown: map[string]bool{}, listed: map[string]bool{}}
	m.header(r)
	if len(r.Candidates) > 0 {
		m.candidates(r) // a column per candidate, then each candidate's sections
	} else {
		m.sections(r)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report markdown: %w", err)
	}
	return nil
}

// sections writes the sections of one candidate's report.
func (m *md) sections(r *Report) {
	m.summary(r)
	m.endpoints(r)
	m.messages(r)
	m.latency(r)
	m.topFields(r)
	m.proxy(r)
	m.outbound(r)
	m.noise(r)
	m.errors(r)
}

type md struct {
	w      *bufio.Writer
	shown  map[string]bool // exchanges whose bodies were already printed
	listed map[string]bool // exchanges whose differences were already listed
}

func (m *md) p(format string, args ...any) { fmt.Fprintf(m.w, format, args...) }

func (m *md) header(r *Report) {
	m.p("# understudy comparison report\n\n")
	m.p("**Verdict: %s**\n\n", strings.ToUpper(r.Verdict))
	if r.Headline != "" {
		m.p("%s\n\n", mdText(r.Headline))
	}
	if r.Totals.CandidateUnreachable() {
		m.p("> **Candidate unreachable** for %d of %d copies%s: check that it is running and that its address and TLS settings are right.\n\n",
			r.Totals.Unreachable(), r.Totals.Pairs+r.Totals.CandidateErrors, errorKindsText(r.Totals.CandidateErrorKinds))
	}
	for _, reason := range r.Reasons {
		m.p("- %s\n", mdText(reason))
	}
	m.p("\n")
}

func (m *md) summary(r *Report) {
	t := r.Totals
	m.p("## Summary\n\n")
	m.p("| | |\n|---|--:|\n")
	m.p("| Endpoints | %d |\n", t.Endpoints)
	m.p("| Exchanges | %d |\n", t.Exchanges)
	m.p("| Compared pairs | %d |\n", t.Pairs)
	m.p("| Differing pairs (noise excluded) | %d (%s) |\n", t.Diffs, pct(t.DiffRate))
	m.p("| Pairs differing only by noise | %d |\n", t.NoiseOnly)
	m.p("| Pairs differing only where shadow changed the request (proxy) | %d |\n", t.ProxyOnly)
	m.p("| Pairs with a secondary answer | %d |\n", t.SecondarySamples)
	m.p("| Candidate errors | %d (%s; %s%s) |\n", t.CandidateErrors, pct(t.ErrorRate), plural(t.CandidateTimeouts, "timeout"), errorKindsText(t.CandidateErrorKinds))
	m.p("| Primary errors (not compared) | %d |\n", t.PrimaryErrors)
	m.p("| Pairs with truncated bodies | %d |\n", t.Truncated)
	m.p("| Pairs too large to compare completely | %d |\n", t.TooLarge)
	m.p("| Primary latency p50 / p99 | %s / %s |\n", msText(t.PrimaryP50Ms), msText(t.PrimaryP99Ms))
	m.p("| Candidate latency p50 / p99 | %s / %s |\n", msText(t.CandidateP50Ms), msText(t.CandidateP99Ms))
	for _, row := range outboundRows(t) {
		m.p("| %s | %s |\n", row.Label, row.Value)
	}
	m.p("\n")
	ru := r.Rules
	m.p("An endpoint is judged once it has %d pairs; it fails when more than %s of its pairs differ", ru.MinPairs, pct(ru.MaxDiffRate))
	if ru.MaxErrorRate >= 0 {
		m.p(" or the candidate fails more than %s of its requests", pct(ru.MaxErrorRate))
	}
	if l := ru.Latency; l.enabled() {
		m.p(", or the candidate's latency exceeds %s (judged from %d pairs)", latencyLimitsText(l), l.MinPairs)
	} else {
		m.p("; the latency gate is off")
	}
	if len(ru.Routes) > 0 {
		m.p("; %s override this per route (see the endpoints table)", plural(int64(len(ru.Routes)), "verdict.routes entry"))
	}
	m.p(". A body field is noise when the secondary also differs from the primary on it (after %d samples) "+
		"and the candidate's excess over that rate is at most %s of its own rate or %s; status and header differences always count.\n\n",
		ru.NoiseMinSamples, pct(ru.NoiseRelativeThreshold), pct(ru.NoiseAbsoluteThreshold))
}

func (m *md) endpoints(r *Report) {
	m.p("## Endpoints\n\n")
	if len(r.Endpoints) == 0 {
		m.p("No exchanges were observed.\n\n")
		return
	}
	m.p("| Endpoint | Verdict | Pairs | Diffs | Diff rate | Noise only | Candidate errors | Primary p99 | Candidate p99 |\n")
	m.p("|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	var overrides []string
	for _, e := range r.Endpoints {
		m.p("| %s | %s | %d | %d | %s | %d | %d | %s | %s |\n",
			mdCell(e.Method+" "+e.Route), strings.ReplaceAll(e.Verdict, "_", " "), e.Pairs, e.Diffs, pct(e.DiffRate), e.NoiseOnly,
			e.CandidateErrors, msText(e.PrimaryP99Ms), msText(e.CandidateP99Ms))
		if e.RuleOverride != "" {
			overrides = append(overrides, fmt.Sprintf("- %s: %s\n", mdCode(endpointName(&e)), mdText(e.RuleOverride)))
		}
	}
	m.p("\n")
	if len(overrides) > 0 {
		m.p("Rules overridden per route (verdict.routes):\n\n%s\n", strings.Join(overrides, ""))
	}
}

type epField struct {
	ep *EndpointReport
	f  *FieldReport
}

func (m *md) topFields(r *Report) {
	var top []epField
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		for j := range e.Fields {
			if f := &e.Fields[j]; !f.Noisy && !f.Proxy && f.Diffs > 0 {
				top = append(top, epField{e, f})
			}
		}
	}
	m.p("## Top differences\n\n")
	if len(top) == 0 {
		m.p("No field differs other than by noise.\n\n")
		return
	}
	slices.SortStableFunc(top, func(a, b epField) int {
		return cmp.Compare(b.f.Diffs, a.f.Diffs) // ties stay in report order
	})
	if len(top) > mdTopFields {
		m.p("The %d fields that differ most often, of %d.\n\n", mdTopFields, len(top))
		top = top[:mdTopFields]
	}
	for _, t := range top {
		m.p("### %s %s\n\n", mdCode(t.ep.Method+" "+t.ep.Route), mdCode(t.f.Path))
		m.p("Differs in %d of %d pairs (%s)%s.", t.f.Diffs, t.ep.Pairs, pct(t.f.DiffRate), kindsText(t.f.Kinds))
		if t.f.Noise > 0 {
			m.p(" The secondary differs from the primary on it in %d of %d exchanges (%s).", t.f.Noise, t.ep.SecondarySamples, pct(t.f.NoiseRate))
		}
		m.p("\n\n")
		if len(t.f.Exemplars) > 0 {
			m.exemplar(t.ep, &t.f.Exemplars[0])
		}
	}
}

// pairDifferences lists every difference of an exemplar's pair, once
// per exchange.
func (m *md) pairDifferences(ep *EndpointReport, x *Exemplar) {
	if len(x.Differences) <= 1 && x.OmittedDifferences == 0 {
		return
	}
	if x.ExchangeID != "" {
		if m.listed[x.ExchangeID] {
			m.p("Every difference of this pair: as in exchange %s above.\n\n", mdCode(x.ExchangeID))
			return
		}
		m.listed[x.ExchangeID] = true
	}
	m.p("Every difference of this pair:\n\n| Path | Kind | Primary | Candidate | Class |\n|---|---|---|---|---|\n")
	for _, o := range x.Differences {
		m.p("| %s | %s | %s | %s | %s |\n", mdCell(o.Path), strings.ReplaceAll(string(o.Kind), "_", " "),
			cellValue(o.Primary), cellValue(o.Candidate), diffClass(ep, o))
	}
	if x.OmittedDifferences > 0 {
		m.p("\n%s more not listed.\n", plural(int64(x.OmittedDifferences), "difference"))
	}
	m.p("\n")
}

func cellValue(v string) string {
	if v == "" {
		return "(absent)"
	}
	return mdCell(v)
}

func (m *md) exemplar(ep *EndpointReport, x *Exemplar) {
	d := x.Difference
	m.p("Example: %s", mdCode(x.Method+" "+x.URL))
	if x.ExchangeID != "" {
		m.p(" (exchange %s)", mdCode(x.ExchangeID))
	}
	m.p(", status %d / %d\n\n", x.PrimaryStatus, x.CandidateStatus)
	m.p("- %s %s\n", mdCode(d.Path), strings.ReplaceAll(string(d.Kind), "_", " "))
	if d.Primary != "" || d.Kind == Removed || d.Kind == Changed || d.Kind == TypeChanged {
		m.p("- primary: %s\n", valueText(d.Primary))
	}
	if d.Candidate != "" || d.Kind == Added || d.Kind == Changed || d.Kind == TypeChanged {
		m.p("- candidate: %s\n", valueText(d.Candidate))
	}
	if x.Secondary != nil {
		m.p("- secondary: %s\n", valueText(x.Secondary.Candidate))
	}
	m.p("\n")
	if d.Detail != "" {
		m.codeBlock("diff", d.Detail)
	}
	m.pairDifferences(ep, x)
	if x.RequestBody == "" && x.PrimaryBody == "" && x.CandidateBody == "" {
		return
	}
	if x.ExchangeID != "" {
		if m.shown[x.ExchangeID] {
			m.p("Bodies: as in exchange %s above.\n\n", mdCode(x.ExchangeID))
			return
		}
		m.shown[x.ExchangeID] = true
	}
	m.p("<details><summary>Bodies")
	if x.Truncated {
		m.p(" (truncated)")
	}
	m.p("</summary>\n\n")
	for _, b := range []struct{ name, body string }{
		{"Request", x.RequestBody}, {"Primary", x.PrimaryBody}, {"Candidate", x.CandidateBody},
	} {
		if b.body == "" {
			continue
		}
		m.p("%s:\n\n", b.name)
		lang, text := "", b.body
		var buf bytes.Buffer
		if json.Indent(&buf, []byte(text), "", "  ") == nil {
			lang, text = "json", buf.String()
		}
		m.codeBlock(lang, text)
	}
	m.p("</details>\n\n")
}

func (m *md) noise(r *Report) {
	type row struct {
		ep  *EndpointReport
		f   *FieldReport
		why string
	}
	var rows []row
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		for j := range e.Fields {
			f := &e.Fields[j]
			switch {
			case f.Noisy:
				rows = append(rows, row{e, f, "noise"})
			case f.Noise > 0 && !isBodyField(f.Path):
				rows = append(rows, row{e, f, "counts (status/header); consider ignoring it"})
			case f.Noise > 0:
				rows = append(rows, row{e, f, "counts (candidate differs clearly more often)"})
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	m.p("## Noise\n\n")
	m.p("Fields on which the secondary (a second copy of the primary) also differs from the primary. " +
		"Fields judged noise do not make a pair differ.\n\n")
	m.p("| Endpoint | Field | Candidate diffs | Secondary diffs | Judged |\n|---|---|--:|--:|---|\n")
	for _, rw := range rows {
		m.p("| %s | %s | %d (%s) | %d (%s) | %s |\n", mdCell(rw.ep.Method+" "+rw.ep.Route), mdCell(rw.f.Path),
			rw.f.Diffs, pct(rw.f.DiffRate), rw.f.Noise, pct(rw.f.NoiseRate), rw.why)
	}
	m.p("\n")
}

func (m *md) errors(r *Report) {
	var any bool
	for _, e := range r.Endpoints {
		any = any || len(e.Errors) > 0
	}
	if !any {
		return
	}
	m.p("## Candidate errors\n\n| Endpoint | Error | Count |\n|---|---|--:|\n")
	for _, e := range r.Endpoints {
		for _, ec := range e.Errors {
			m.p("| %s | %s | %d |\n", mdCell(e.Method+" "+e.Route), mdText(ec.Error), ec.Count)
		}
	}
	m.p("\n")
}

func (m *md) codeBlock(lang, text string) {
	fence := strings.Repeat("`", max(3, longestRun(text, '`')+1))
	m.p("%s%s\n%s\n%s\n\n", fence, lang, strings.TrimRight(text, "\n"), fence)
}

func kindsText(k map[Kind]int64) string {
	if len(k) == 0 {
		return ""
	}
	var parts []string
	for _, kind := range []Kind{Changed, Added, Removed, TypeChanged} {
		if n := k[kind]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", strings.ReplaceAll(string(kind), "_", " "), n))
		}
	}
	return ": " + strings.Join(parts, ", ")
}

func valueText(v string) string {
	if v == "" {
		return "(absent)"
	}
	return mdCode(v)
}

func msText(v float64) string { return numfmt.Ms(v) }

// diffClass names how a difference of ep counts: "proxy" (shadow made
// it), "noise" (it, or its field, is noise), or "counts".
func diffClass(ep *EndpointReport, d Difference) string {
	switch {
	case d.Proxy:
		return "proxy"
	case d.Noise:
		return "noise"
	}
	f := d.Field()
	for i := range ep.Fields {
		if ep.Fields[i].Path == f && ep.Fields[i].Noisy {
			return "noise"
		}
	}
	return "counts"
}

// latency lists the latency gate's checks per endpoint.
func (m *md) latency(r *Report) {
	if len(r.Endpoints) == 0 {
		return
	}
	m.p("## Latency gate\n\n")
	if l := r.Rules.Latency; l.enabled() {
		m.p("Candidate over primary, per endpoint: at most %s, judged once an endpoint has %d pairs.\n\n", latencyLimitsText(l), l.MinPairs)
	} else {
		m.p("Off (verdict.max_latency_regression): latencies are shown, not judged.\n\n")
	}
	m.p("| Endpoint | Primary p50 / p99 | Candidate p50 / p99 | Ratio p50 / p99 | Latency |\n|---|--:|--:|--:|---|\n")
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		state := "-"
		if lc := e.Latency; lc != nil {
			switch {
			case lc.Failed:
				state = "**fail**: " + lc.Reason
			case lc.Judged:
				state = "pass"
			default:
				state = lc.Reason
			}
		}
		p50, p99 := "-", "-"
		if lc := e.Latency; lc != nil {
			p50, p99 = ratioText(lc.P50Ratio), ratioText(lc.P99Ratio)
		}
		m.p("| %s | %s / %s | %s / %s | %s / %s | %s |\n", mdCell(endpointName(e)), msText(e.PrimaryP50Ms), msText(e.PrimaryP99Ms),
			msText(e.CandidateP50Ms), msText(e.CandidateP99Ms), p50, p99, mdText(state))
	}
	m.p("\n")
}

func ratioText(x float64) string {
	if x == 0 {
		return "-"
	}
	return numfmt.Ratio(x)
}

// proxy lists the fields whose differences shadow itself made.
func (m *md) proxy(r *Report) {
	var rows []epField
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		for j := range e.Fields {
			if f := &e.Fields[j]; f.Proxy {
				rows = append(rows, epField{e, f})
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	m.p("## Made by shadow (class proxy)\n\n")
	m.p("Differences whose two values are exactly what shadow set on each side's request (marker header, Host, " +
		"X-Forwarded-*, set headers), echoed back by the service. Shown, never counted.\n\n")
	m.p("| Endpoint | Field | Pairs | Example |\n|---|---|--:|---|\n")
	for _, rw := range rows {
		ex := ""
		if len(rw.f.Exemplars) > 0 {
			d := rw.f.Exemplars[0].Difference
			ex = mdCell(d.Primary) + " → " + mdCell(d.Candidate)
		}
		m.p("| %s | %s | %d | %s |\n", mdCell(endpointName(rw.ep)), mdCell(rw.f.Path), rw.f.Diffs, ex)
	}
	m.p("\n")
}

// mdCode renders s as an inline code span: newlines flattened, fence
// longer than any backtick run inside.
func mdCode(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdCell is mdCode for a table cell, where pipes must be escaped even
// inside code spans.
func mdCell(s string) string { return strings.ReplaceAll(mdCode(s), "|", `\|`) }

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// mdText escapes text for a table cell or list item.
func mdText(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ", "|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

func longestRun(s string, c byte) int {
	best, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

// errorKindsText lists candidate errors by kind, in wire.Kinds order
// (then any other kind by name), after a separator; "" for none.
func errorKindsText(kinds map[string]int64) string {
	if len(kinds) == 0 {
		return ""
	}
	var parts []string
	for _, k := range wire.Kinds {
		if n := kinds[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		if !slices.Contains(wire.Kinds[:], k) {
			parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
		}
	}
	return "; by kind: " + strings.Join(parts, ", ")
}
