package compare

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// The HTML report's page, style and script, embedded: the file it writes
// stands alone, with nothing fetched when it is opened.
var (
	//go:embed html/report.tmpl
	htmlPage string
	//go:embed html/report.css
	htmlCSS string
	//go:embed html/report.js
	htmlJS string

	htmlTemplate = template.Must(template.New("report").Parse(htmlPage))
	// htmlCSP lets the page run its own style and script and nothing
	// else: no fetch, image, font or frame from anywhere.
	htmlCSP = "default-src 'none'; style-src " + cspHash(htmlCSS) + "; script-src " + cspHash(htmlJS) +
		"; img-src 'none'; base-uri 'none'; form-action 'none'"
)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// WriteHTML writes the report as one self-contained HTML page, for a
// person to open in a browser: the verdict and its reasons, the summary
// and the rules it was judged by, a sortable table of endpoints, and per
// endpoint its latency (primary against candidate), its fields with noise
// marked, the candidate's errors and its examples, primary and candidate
// bodies side by side with the differing values marked. The page holds
// only what the report holds (redacted before it was built) and loads
// nothing: style and script are inline and its content security policy
// forbids every fetch.
func (r *Report) WriteHTML(w io.Writer) error {
	if err := htmlTemplate.Execute(w, newHTMLReport(r)); err != nil {
		return fmt.Errorf("write report html: %w", err)
	}
	return nil
}

// htmlReport is what the page template shows.
type htmlReport struct {
	Verdict, VerdictText string
	Headline             string
	Unreachable          string // "N of M copies (refused N)" when the candidate was unreachable for most
	Reasons              []string
	Summary, Settings    []htmlRow
	Candidates           []htmlCandidate
	Several              bool        // more than one candidate
	Compare              htmlCompare // Several: a column per candidate
	CSS                  template.CSS
	JS                   template.JS
	CSP                  string
}

// htmlRow is a labelled value; Key names the config key it comes from.
type htmlRow struct{ Label, Value, Key string }

type htmlCandidate struct {
	ID, Name, Verdict string
	Endpoints         []htmlEndpoint
}

type htmlEndpoint struct {
	*EndpointReport
	ID, Name, VerdictLabel string
	VerdictRank, Order     int // sort keys: fail first; report order
	DiffRateText           string
	PrimaryP99, CandP99    string
	Summary                string
	LatencyState           string // "pass", "fail", "not_judged", "off"
	LatencyText            string
	P99Ratio               float64
	P99RatioText           string
	MessagesText           string // WebSocket messages compared / differing; "" for none
	Fields                 []htmlField
	Examples               []*htmlExample
	Chart                  latencyChart
}

type htmlField struct {
	*FieldReport
	DiffRateText, NoiseRateText, Kinds string
	Examples                           []htmlLink
}

type htmlLink struct{ ID, Label string }

// htmlExample is one exchange of an endpoint with every difference the
// report keeps for it, across its fields.
type htmlExample struct {
	ID, Label                      string
	Method, URL, ExchangeID        string
	PrimaryStatus, CandidateStatus int
	Truncated                      bool
	Diffs                          []htmlDiff
	Request                        string
	Primary, Candidate             template.HTML // marked up by render

	primaryBody, candidateBody string
}

type htmlDiff struct {
	Difference
	KindText, Secondary string
	HasSecondary, Noise bool
}

func newHTMLReport(r *Report) htmlReport {
	t, ru := r.Totals, r.Rules
	v := htmlReport{
		Verdict:     r.Verdict,
		VerdictText: strings.ToUpper(words(r.Verdict)),
		Headline:    r.Headline,
		Reasons:     r.Reasons,
		CSS:         template.CSS(htmlCSS),
		JS:          template.JS(htmlJS),
		CSP:         htmlCSP,
		Summary: []htmlRow{
			{Label: "Endpoints", Value: fmt.Sprint(t.Endpoints)},
			{Label: "Exchanges", Value: fmt.Sprint(t.Exchanges)},
			{Label: "Compared pairs", Value: fmt.Sprint(t.Pairs)},
			{Label: "Differing pairs (noise excluded)", Value: fmt.Sprintf("%d (%s)", t.Diffs, pct(t.DiffRate))},
			{Label: "Pairs differing only by noise", Value: fmt.Sprint(t.NoiseOnly)},
			{Label: "Pairs differing only where shadow changed the request (proxy)", Value: fmt.Sprint(t.ProxyOnly)},
			{Label: "Pairs with a secondary answer", Value: fmt.Sprint(t.SecondarySamples)},
			{Label: "Candidate errors", Value: fmt.Sprintf("%d (%s; %s%s)", t.CandidateErrors, pct(t.ErrorRate), plural(t.CandidateTimeouts, "timeout"), errorKindsText(t.CandidateErrorKinds))},
			{Label: "Primary errors (not compared)", Value: fmt.Sprint(t.PrimaryErrors)},
			{Label: "Pairs with truncated bodies", Value: fmt.Sprint(t.Truncated)},
			{Label: "Pairs too large to compare completely", Value: fmt.Sprint(t.TooLarge)},
			{Label: "Primary latency p50 / p99", Value: msText(t.PrimaryP50Ms) + " / " + msText(t.PrimaryP99Ms)},
			{Label: "Candidate latency p50 / p99", Value: msText(t.CandidateP50Ms) + " / " + msText(t.CandidateP99Ms)},
		},
		Settings: []htmlRow{
			{Label: "Pairs before an endpoint is judged", Value: fmt.Sprint(ru.MinPairs), Key: "compare.verdict.min_pairs"},
			{Label: "Most pairs that may differ", Value: pct(ru.MaxDiffRate), Key: "compare.verdict.max_diff_rate"},
			{Label: "Most candidate requests that may fail", Value: errorLimit(ru.MaxErrorRate), Key: "compare.verdict.max_error_rate"},
			{Label: "Noise: candidate excess, relative", Value: pct(ru.NoiseRelativeThreshold), Key: "compare.noise.relative_threshold"},
			{Label: "Noise: candidate excess, absolute", Value: pct(ru.NoiseAbsoluteThreshold), Key: "compare.noise.absolute_threshold"},
			{Label: "Noise: secondary samples first", Value: fmt.Sprint(ru.NoiseMinSamples), Key: "compare.noise.min_samples"},
			{Label: "Latency gate", Value: latencyGateText(ru.Latency), Key: "compare.verdict.max_latency_regression"},
		},
	}
	for _, rr := range ru.Routes {
		v.Settings = append(v.Settings, htmlRow{Label: "Override for " + rr.Route, Value: routeRuleText(rr), Key: "compare.verdict.routes"})
	}
	if t.CandidateUnreachable() {
		v.Unreachable = fmt.Sprintf("%d of %d copies%s", t.Unreachable(), t.Pairs+t.CandidateErrors, errorKindsText(t.CandidateErrorKinds))
	}
	v.Summary = append(v.Summary, outboundRows(t)...)
	cs := candidates(r)
	v.Several = len(cs) > 1
	for i, c := range cs {
		hc := htmlCandidate{ID: fmt.Sprintf("c%d", i), Name: c.Name, Verdict: c.Verdict}
		for j := range c.Endpoints {
			hc.Endpoints = append(hc.Endpoints, newHTMLEndpoint(fmt.Sprintf("%s-ep%d", hc.ID, j+1), j, &c.Endpoints[j]))
		}
		v.Candidates = append(v.Candidates, hc)
	}
	if v.Several {
		v.Compare = newHTMLCompare(cs)
	}
	return v
}

func errorLimit(r float64) string {
	if r < 0 {
		return "not checked"
	}
	return pct(r)
}

// latencyGateText states the latency gate's limits.
func latencyGateText(l LatencyRule) string {
	if !l.enabled() {
		return "off"
	}
	return fmt.Sprintf("%s, from %d pairs", latencyLimitsText(l), l.MinPairs)
}

// routeRuleText states what a verdict.routes entry sets.
func routeRuleText(rr RouteRule) string {
	var parts []string
	if rr.MinPairs != nil {
		parts = append(parts, fmt.Sprintf("min_pairs %d", *rr.MinPairs))
	}
	if rr.MaxDiffRate != nil {
		parts = append(parts, "max_diff_rate "+pct(*rr.MaxDiffRate))
	}
	if rr.MaxErrorRate != nil {
		parts = append(parts, "max_error_rate "+errorLimit(*rr.MaxErrorRate))
	}
	if rr.Latency != nil {
		parts = append(parts, "latency "+latencyGateText(LatencyRule{}.withDefaults().over(*rr.Latency)))
	}
	return strings.Join(parts, ", ")
}

// words spells an identifier ("not_judged", "type_changed") as words.
func words(v string) string { return strings.ReplaceAll(v, "_", " ") }

// verdictRank sorts failing endpoints first, then the unjudged.
func verdictRank(v string) int {
	switch v {
	case Fail:
		return 0
	case NotJudged:
		return 1
	}
	return 2
}

func newHTMLEndpoint(id string, order int, ep *EndpointReport) htmlEndpoint {
	h := htmlEndpoint{
		EndpointReport: ep,
		ID:             id,
		Name:           endpointName(ep),
		VerdictLabel:   words(ep.Verdict),
		VerdictRank:    verdictRank(ep.Verdict),
		Order:          order,
		DiffRateText:   pct(ep.DiffRate),
		PrimaryP99:     msText(ep.PrimaryP99Ms),
		CandP99:        msText(ep.CandidateP99Ms),
		Summary:        endpointSummary(ep),
		MessagesText:   messagesText(ep),
		Chart:          newLatencyChart(&ep.Counts),
		LatencyState:   "off",
		LatencyText:    "not checked",
		P99RatioText:   "-",
	}
	if lc := ep.Latency; lc != nil {
		h.LatencyText, h.P99Ratio, h.P99RatioText = latencyCheckText(lc), lc.P99Ratio, ratioText(lc.P99Ratio)
		switch {
		case lc.Failed:
			h.LatencyState = Fail
		case lc.Judged:
			h.LatencyState = Pass
		case lc.Enabled:
			h.LatencyState = NotJudged
		}
	}
	byExchange := map[string]*htmlExample{}
	noisy := map[string]bool{}
	for _, f := range ep.Fields {
		noisy[f.Path] = noisy[f.Path] || f.Noisy
	}
	for i := range ep.Fields {
		f := &ep.Fields[i]
		hf := htmlField{
			FieldReport:   f,
			DiffRateText:  pct(f.DiffRate),
			NoiseRateText: pct(f.NoiseRate),
			Kinds:         strings.TrimPrefix(kindsText(f.Kinds), ": "),
		}
		for j := range f.Exemplars {
			x := &f.Exemplars[j]
			key := x.ExchangeID
			if key == "" {
				key = fmt.Sprintf("\x00%d/%d", i, j) // no id: an example of its own
			}
			ex := byExchange[key]
			if ex == nil {
				ex = newHTMLExample(fmt.Sprintf("%s-ex%d", id, len(h.Examples)+1), len(h.Examples)+1, x)
				byExchange[key] = ex
				h.Examples = append(h.Examples, ex)
			}
			ex.add(f, x)
			for _, o := range x.Differences { // the pair's other differences too
				ex.addDiff(o, noisy[o.Field()], nil)
			}
			hf.Examples = append(hf.Examples, htmlLink{ID: ex.ID, Label: ex.Label})
		}
		h.Fields = append(h.Fields, hf)
	}
	for _, ex := range h.Examples {
		ex.render()
	}
	return h
}

func newHTMLExample(id string, n int, x *Exemplar) *htmlExample {
	return &htmlExample{
		ID: id, Label: fmt.Sprintf("#%d", n),
		Method: x.Method, URL: x.URL, ExchangeID: x.ExchangeID,
		PrimaryStatus: x.PrimaryStatus, CandidateStatus: x.CandidateStatus,
		Truncated: x.Truncated,
		Request:   x.RequestBody,
		// The bodies are marked up once every difference is known.
		primaryBody: x.PrimaryBody, candidateBody: x.CandidateBody,
	}
}

// add records x's difference on the example, once per path.
func (ex *htmlExample) add(f *FieldReport, x *Exemplar) {
	ex.addDiff(x.Difference, f.Noisy, x.Secondary)
	ex.Truncated = ex.Truncated || x.Truncated
}

// addDiff records one difference on the example, once per path.
func (ex *htmlExample) addDiff(diff Difference, noisy bool, secondary *Difference) {
	for _, d := range ex.Diffs {
		if d.Path == diff.Path {
			return
		}
	}
	d := htmlDiff{
		Difference: diff,
		KindText:   words(string(diff.Kind)),
		Noise:      diff.Noise || noisy,
	}
	if secondary != nil {
		d.HasSecondary, d.Secondary = true, secondary.Candidate
	}
	ex.Diffs = append(ex.Diffs, d)
}

// render marks up the bodies with every difference of the example.
func (ex *htmlExample) render() {
	m := make(marks, len(ex.Diffs))
	for _, d := range ex.Diffs {
		m[d.Path] = d.Noise || d.Proxy // marked, but not as a difference that counts
	}
	ex.Primary = bodyHTML(ex.primaryBody, ex.candidateBody, m)
	ex.Candidate = bodyHTML(ex.candidateBody, ex.primaryBody, m)
}
