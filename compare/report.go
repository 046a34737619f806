package compare

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/internal/atomicfile"
)

// ReportSchema identifies the JSON layout of a Report. It changes only
// when a field changes meaning or disappears; new fields may be added.
const ReportSchema = "understudy.compare.report/v1"

// Verdicts of a Report and of each endpoint in it.
const (
	Pass      = "pass"
	Fail      = "fail"
	NotJudged = "not_judged" // endpoints with too few pairs
	// Inconclusive is a report's verdict when nothing could be decided:
	// no endpoint had enough pairs, or the candidate was unreachable for
	// most copies. It is neither a pass nor a fail.
	Inconclusive = "inconclusive"
)

// Report is a point-in-time copy of the engine's aggregates, with a
// verdict. It shares no memory with the engine. Endpoints are sorted by
// route then method; fields by status, headers, then body paths.
type Report struct {
	// Schema is ReportSchema.
	Schema string `json:"schema"`
	// Verdict is Pass, Fail or Inconclusive.
	Verdict string `json:"verdict"`
	// Headline says the verdict in one line: the worst endpoint by diff
	// rate and how many others fail, or why nothing could be decided.
	Headline string `json:"headline,omitempty"`
	// Reasons explain the verdict, failures first.
	Reasons []string `json:"reasons"`
	// FailedOn names what a failing verdict failed on: FailDiffs,
	// FailErrors, FailLatency. Empty unless Verdict is Fail.
	FailedOn []string `json:"failed_on,omitempty"`
	// Rules are the thresholds the verdict and the noise judgement used.
	Rules Rules `json:"rules"`
	// Totals sum all endpoints.
	Totals Totals `json:"totals"`
	// Endpoints hold the per-endpoint aggregates.
	Endpoints []EndpointReport `json:"endpoints"`
	// Candidates judges each candidate on its own when the exchanges
	// named several (exchange.Response.Name), in the order they were
	// configured; Verdict and Reasons are then theirs together, and
	// Totals and Endpoints the first candidate's. Empty with one
	// candidate.
	Candidates []CandidateReport `json:"candidates,omitempty"`
}

// Rules records the thresholds a Report was judged with.
type Rules struct {
	// MinPairs is VerdictRule.MinPairs.
	MinPairs int `json:"min_pairs"`
	// MaxDiffRate is VerdictRule.MaxDiffRate.
	MaxDiffRate float64 `json:"max_diff_rate"`
	// MaxErrorRate is VerdictRule.MaxErrorRate; negative: not checked.
	MaxErrorRate float64 `json:"max_error_rate"`
	// NoiseRelativeThreshold is NoiseConfig.RelativeThreshold.
	NoiseRelativeThreshold float64 `json:"noise_relative_threshold"`
	// NoiseAbsoluteThreshold is NoiseConfig.AbsoluteThreshold.
	NoiseAbsoluteThreshold float64 `json:"noise_absolute_threshold"`
	// NoiseMinSamples is NoiseConfig.MinSamples.
	NoiseMinSamples int `json:"noise_min_samples"`
	// Latency is VerdictRule.Latency, with its defaults.
	Latency LatencyRule `json:"max_latency_regression"`
	// Routes are VerdictRule.Routes.
	Routes []RouteRule `json:"routes,omitempty"`
}

// Counts are the counters shared by Totals and EndpointReport.
type Counts struct {
	// Exchanges is every exchange observed.
	Exchanges int64 `json:"exchanges"`
	// Pairs is the exchanges where primary and candidate both answered
	// and were compared.
	Pairs int64 `json:"pairs"`
	// Diffs is the pairs that differ other than by noise.
	Diffs int64 `json:"diffs"`
	// DiffRate is Diffs / Pairs.
	DiffRate float64 `json:"diff_rate"`
	// NoiseOnly is the pairs whose only differences are noise.
	NoiseOnly int64 `json:"noise_only"`
	// ProxyOnly is the pairs whose only differences shadow itself made
	// (class proxy: the marker header, Host, X-Forwarded-*, set headers,
	// echoed back by the service); they do not count as diffs.
	ProxyOnly int64 `json:"proxy_only,omitempty"`
	// StatusDiffs counts pairs whose status codes differ.
	StatusDiffs int64 `json:"status_diffs"`
	// HeaderDiffs counts pairs with header differences.
	HeaderDiffs int64 `json:"header_diffs"`
	// CandidateErrors is the exchanges where the primary answered but the
	// candidate failed or timed out; they are not diffed.
	CandidateErrors int64 `json:"candidate_errors"`
	// CandidateTimeouts is the CandidateErrors that were timeouts.
	CandidateTimeouts int64 `json:"candidate_timeouts"`
	// CandidateErrorKinds counts the CandidateErrors by kind: "tls",
	// "refused", "timeout", "protocol", "reset", "other" (wire.Kinds), as
	// the proxy sorted them; empty when none was sorted.
	CandidateErrorKinds map[string]int64 `json:"candidate_error_kinds,omitempty"`
	// ErrorRate is CandidateErrors / (Pairs + CandidateErrors).
	ErrorRate float64 `json:"error_rate"`
	// PrimaryErrors is the exchanges where the primary failed; they are
	// not diffed.
	PrimaryErrors int64 `json:"primary_errors"`
	// SecondarySamples is the pairs that also had a secondary answer.
	SecondarySamples int64 `json:"secondary_samples"`
	// Truncated is the pairs where a body was cut off by the proxy and
	// compared only as far as it went.
	Truncated int64 `json:"truncated"`
	// TooLarge is the pairs whose comparison spent Config.Budget and
	// stopped: they were compared only as far as the budget went.
	TooLarge int64 `json:"too_large"`
	// PrimaryP50Ms is the primary's median latency in milliseconds, over
	// the exchanges where both answered or only the candidate failed.
	PrimaryP50Ms float64 `json:"primary_p50_ms"`
	// PrimaryP99Ms is the primary's 99th percentile latency.
	PrimaryP99Ms float64 `json:"primary_p99_ms"`
	// CandidateP50Ms is the candidate's median latency over compared
	// pairs (failed answers excluded).
	CandidateP50Ms float64 `json:"candidate_p50_ms"`
	// CandidateP99Ms is the candidate's 99th percentile latency.
	CandidateP99Ms float64 `json:"candidate_p99_ms"`
	// OutboundDiffs counts the pairs whose candidate called dependencies
	// differently from the primary (Config.Outbound): another body, URL
	// or header, or another number of calls. They count in Diffs.
	OutboundDiffs int64 `json:"outbound_diffs,omitempty"`
	// OutboundRefused counts the candidate's calls to dependencies that
	// egress refused (answered 503, never sent) because the primary made
	// no such call, or the call carried no trace context.
	OutboundRefused int64 `json:"outbound_refused,omitempty"`
}

// Totals sums every endpoint.
type Totals struct {
	// Endpoints is the number of endpoints.
	Endpoints int `json:"endpoints"`
	Counts
}

// EndpointReport is the aggregate of one endpoint.
type EndpointReport struct {
	// Method is the HTTP method ("*" for OtherRoute).
	Method string `json:"method"`
	// Route is the path template.
	Route string `json:"route"`
	// Verdict is Pass, Fail or NotJudged.
	Verdict string `json:"verdict"`
	// RuleOverride says how a verdict.routes entry changed the rule for
	// this endpoint ("max_diff_rate 5%"); empty when none applies.
	RuleOverride string `json:"rule_override,omitempty"`
	// Latency is the latency gate's check of this endpoint.
	Latency *LatencyCheck `json:"latency,omitempty"`
	Counts
	// Fields lists every field that differed, noise included.
	Fields []FieldReport `json:"fields"`
	// Errors counts candidate error messages (a few distinct ones).
	Errors []ErrorCount `json:"errors,omitempty"`
	// Messages counts the WebSocket messages among the endpoint's pairs
	// (an upgrade path with mirrored connections); nil when none.
	Messages *MessageCounts `json:"messages,omitempty"`
}

// FieldReport is the aggregate of one field of one endpoint.
type FieldReport struct {
	// Path is the field with array indexes generalized (see
	// Difference.Field): "$.items[*].price", "/order/items/item/price",
	// "form.tag", "status", "header.Etag", "body", or OtherField.
	Path string `json:"path"`
	// Diffs is the pairs where primary and candidate differ on the field.
	Diffs int64 `json:"diffs"`
	// Noise is the exchanges where primary and secondary differ on it.
	Noise int64 `json:"noise"`
	// DiffRate is Diffs / pairs.
	DiffRate float64 `json:"diff_rate"`
	// NoiseRate is Noise / secondary samples.
	NoiseRate float64 `json:"noise_rate"`
	// Noisy reports that the field's differences are judged noise and do
	// not make pairs differ.
	Noisy bool `json:"noisy"`
	// Proxy reports that the field's differences were made by shadow
	// itself (class proxy, see Difference.Proxy): shown, never counted.
	Proxy bool `json:"proxy,omitempty"`
	// Kinds counts the pairs by the kind of the field's first difference.
	Kinds map[Kind]int64 `json:"kinds,omitempty"`
	// Exemplars are example pairs: the first ones and a random sample.
	Exemplars []Exemplar `json:"exemplars,omitempty"`
}

// Exemplar is one example of a field differing, with enough of the
// exchange to reproduce it.
type Exemplar struct {
	// ExchangeID is the Request.ID of the exchange.
	ExchangeID string `json:"exchange_id,omitempty"`
	// Method is the request method.
	Method string `json:"method"`
	// URL is the request URI (path and query).
	URL string `json:"url"`
	// Difference is the concrete difference ("$.items[2].price").
	Difference Difference `json:"difference"`
	// Differences is every difference of the pair (status, headers,
	// body; proxy ones included and marked), up to maxExemplarDiffs, so
	// an exemplar shows the whole story, not only its field.
	Differences []Difference `json:"differences,omitempty"`
	// OmittedDifferences counts the pair's differences left out of
	// Differences.
	OmittedDifferences int `json:"omitted_differences,omitempty"`
	// Secondary is the primary/secondary difference at the same path in
	// the same exchange, when there was one.
	Secondary *Difference `json:"secondary,omitempty"`
	// PrimaryStatus is the primary's status code.
	PrimaryStatus int `json:"primary_status"`
	// CandidateStatus is the candidate's status code.
	CandidateStatus int `json:"candidate_status"`
	// RequestBody is the request body, cut to Config.ExemplarBytes;
	// binary bodies are described, not copied.
	RequestBody string `json:"request_body,omitempty"`
	// PrimaryBody is the primary's body, like RequestBody.
	PrimaryBody string `json:"primary_body,omitempty"`
	// CandidateBody is the candidate's body, like RequestBody.
	CandidateBody string `json:"candidate_body,omitempty"`
	// Truncated reports that a body is incomplete here.
	Truncated bool `json:"truncated,omitempty"`
}

// ErrorCount is a candidate error message and how often it occurred.
type ErrorCount struct {
	// Error is the message, cut to 200 bytes, or "(other errors)".
	Error string `json:"error"`
	// Count is how many exchanges failed with it.
	Count int64 `json:"count"`
}

// ownReport is Report for the engine's own candidate (see candidates.go).
func (e *Engine) ownReport() *Report {
	e.mu.RLock()
	aggs := make([]*endpointAgg, 0, len(e.endpoints))
	for _, a := range e.endpoints {
		aggs = append(aggs, a)
	}
	e.mu.RUnlock()

	r := &Report{
		Schema: ReportSchema,
		Rules: Rules{
			MinPairs:               e.cfg.Verdict.MinPairs,
			MaxDiffRate:            e.cfg.Verdict.MaxDiffRate,
			MaxErrorRate:           e.cfg.Verdict.MaxErrorRate,
			NoiseRelativeThreshold: e.cfg.Noise.RelativeThreshold,
			NoiseAbsoluteThreshold: e.cfg.Noise.AbsoluteThreshold,
			NoiseMinSamples:        e.cfg.Noise.MinSamples,
			Latency:                e.cfg.Verdict.Latency,
			Routes:                 e.cfg.Verdict.Routes,
		},
		Endpoints: make([]EndpointReport, 0, len(aggs)),
	}
	for _, a := range aggs {
		r.Endpoints = append(r.Endpoints, a.snapshot(e.noise))
	}
	slices.SortFunc(r.Endpoints, func(a, b EndpointReport) int {
		if c := strings.Compare(a.Route, b.Route); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	r.Totals = totals(r.Endpoints)
	r.Totals.PrimaryP50Ms = ms(e.primaryLat.Quantile(0.5))
	r.Totals.PrimaryP99Ms = ms(e.primaryLat.Quantile(0.99))
	r.Totals.CandidateP50Ms = ms(e.candidateLat.Quantile(0.5))
	r.Totals.CandidateP99Ms = ms(e.candidateLat.Quantile(0.99))
	judge(r, e.cfg.Verdict)
	return r
}

// snapshot copies the aggregate under its lock.
func (a *endpointAgg) snapshot(rule noiseRule) EndpointReport {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.c
	out := EndpointReport{
		Method: a.ep.Method,
		Route:  a.ep.Route,
		Counts: Counts{
			Exchanges:         c.exchanges,
			Pairs:             c.pairs,
			StatusDiffs:       c.statusDiffs,
			HeaderDiffs:       c.headerDiffs,
			CandidateErrors:   c.candidateErrors,
			CandidateTimeouts: c.candidateTimeouts,
			PrimaryErrors:     c.primaryErrors,
			SecondarySamples:  c.secondary,
			Truncated:         c.truncated,
			TooLarge:          c.tooLarge,
			OutboundDiffs:     c.outboundDiffs,
			OutboundRefused:   c.outboundRefused,
			PrimaryP50Ms:      ms(a.primaryLat.Quantile(0.5)),
			PrimaryP99Ms:      ms(a.primaryLat.Quantile(0.99)),
			CandidateP50Ms:    ms(a.candidateLat.Quantile(0.5)),
			CandidateP99Ms:    ms(a.candidateLat.Quantile(0.99)),
		},
		Fields: make([]FieldReport, 0, len(a.fields)),
	}
	out.CandidateErrorKinds = maps.Clone(c.errorKinds)
	noisy := map[string]bool{}
	for path, fa := range a.fields {
		fr := FieldReport{
			Path:      path,
			Diffs:     fa.diffs,
			Noise:     fa.noise,
			DiffRate:  rate(fa.diffs, c.pairs),
			NoiseRate: rate(fa.noise, c.secondary),
			Noisy:     a.isNoise(path, rule),
			Exemplars: slices.Clone(fa.exemplars),
		}
		if len(fa.kinds) > 0 {
			fr.Kinds = make(map[Kind]int64, len(fa.kinds))
			for k, n := range fa.kinds {
				fr.Kinds[k] = n
			}
		}
		for i := range fr.Exemplars {
			if s := fr.Exemplars[i].Secondary; s != nil {
				cp := *s
				fr.Exemplars[i].Secondary = &cp
			}
		}
		noisy[path] = fr.Noisy
		out.Fields = append(out.Fields, fr)
	}
	for path, fa := range a.proxy {
		fr := FieldReport{Path: path, Diffs: fa.diffs, DiffRate: rate(fa.diffs, c.pairs), Proxy: true,
			Exemplars: slices.Clone(fa.exemplars), Kinds: maps.Clone(fa.kinds)}
		out.Fields = append(out.Fields, fr)
	}
	slices.SortFunc(out.Fields, func(x, y FieldReport) int {
		return cmp.Or(compareFields(x.Path, y.Path), cmp.Compare(boolInt(x.Proxy), boolInt(y.Proxy)))
	})
	out.ProxyOnly = c.proxyOnly

	out.Diffs = c.hardDiffs + c.overflowDiffs
	out.NoiseOnly = c.overflowNoise
	for _, s := range a.sigs {
		real := false
		for _, f := range s.fields {
			if !noisy[f] {
				real = true
				break
			}
		}
		if real {
			out.Diffs += s.count
		} else {
			out.NoiseOnly += s.count
		}
	}
	out.DiffRate = rate(out.Diffs, c.pairs)
	out.ErrorRate = rate(c.candidateErrors, c.pairs+c.candidateErrors)
	out.Messages = a.msgs.report(noisy)
	for msg, n := range a.errs {
		out.Errors = append(out.Errors, ErrorCount{Error: msg, Count: n})
	}
	slices.SortFunc(out.Errors, func(x, y ErrorCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), strings.Compare(x.Error, y.Error))
	})
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// compareFields orders status first, then headers, then body fields.
func compareFields(a, b string) int {
	ra, rb := fieldRank(a), fieldRank(b)
	if ra != rb {
		return ra - rb
	}
	return strings.Compare(a, b)
}

func fieldRank(f string) int {
	switch {
	case f == "status":
		return 0
	case isHeaderPath(f):
		return 1
	case f == OtherField:
		return 3
	}
	return 2
}

func totals(eps []EndpointReport) Totals {
	t := Totals{Endpoints: len(eps)}
	for _, e := range eps {
		c := e.Counts
		t.Exchanges += c.Exchanges
		t.Pairs += c.Pairs
		t.Diffs += c.Diffs
		t.NoiseOnly += c.NoiseOnly
		t.ProxyOnly += c.ProxyOnly
		t.StatusDiffs += c.StatusDiffs
		t.HeaderDiffs += c.HeaderDiffs
		t.CandidateErrors += c.CandidateErrors
		t.CandidateTimeouts += c.CandidateTimeouts
		for k, n := range c.CandidateErrorKinds {
			if t.CandidateErrorKinds == nil {
				t.CandidateErrorKinds = map[string]int64{}
			}
			t.CandidateErrorKinds[k] += n
		}
		t.PrimaryErrors += c.PrimaryErrors
		t.SecondarySamples += c.SecondarySamples
		t.Truncated += c.Truncated
		t.TooLarge += c.TooLarge
		t.OutboundDiffs += c.OutboundDiffs
		t.OutboundRefused += c.OutboundRefused
	}
	t.DiffRate = rate(t.Diffs, t.Pairs)
	t.ErrorRate = rate(t.CandidateErrors, t.Pairs+t.CandidateErrors)
	return t
}

// rate returns n/of rounded to 6 decimals (0 when of is 0), so reports
// print the same on every platform.
func rate(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(of)*1e6) / 1e6
}

// ms converts a latency to milliseconds with microsecond precision.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write report json: %w", err)
	}
	return nil
}

// WriteReportFile writes the report to path atomically (a temporary file
// in the same directory, renamed into place) with mode 0600. format is
// "json", "md", "html" or "xml" (JUnit, also "junit"); empty picks it
// from the extension (.json, .md, .markdown, .html, .htm, .xml).
func WriteReportFile(path, format string, r *Report) error {
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".json":
			format = "json"
		case ".md", ".markdown":
			format = "md"
		case ".html", ".htm":
			format = "html"
		case ".xml":
			format = "xml"
		default:
			return fmt.Errorf("write report %q: cannot tell the format from the extension (want .json, .md, .html or .xml)", path)
		}
	}
	var write func(io.Writer) error
	switch format {
	case "json":
		write = r.WriteJSON
	case "md", "markdown":
		write = r.WriteMarkdown
	case "html":
		write = r.WriteHTML
	case "xml", "junit":
		write = r.WriteJUnit
	default:
		return fmt.Errorf("write report %q: unknown format %q (want json, md, html or xml)", path, format)
	}
	if err := atomicfile.Write(path, 0o600, write); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
