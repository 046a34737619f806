package compare

import (
	"strings"
	"unicode/utf8"
)

// Kind says how a field differs.
type Kind string

// The kinds of difference. The primary is the left side: "added" means the
// candidate (or secondary) has something the primary has not.
const (
	// Changed means both sides have the field, with different values of
	// the same type.
	Changed Kind = "changed"
	// Added means only the candidate has the field.
	Added Kind = "added"
	// Removed means only the primary has the field.
	Removed Kind = "removed"
	// TypeChanged means both sides have the field with values of different
	// JSON types (1 and "1", an object and null), or one body is JSON and
	// the other is not.
	TypeChanged Kind = "type_changed"
)

// Difference is one way two answers differ.
type Difference struct {
	// Path names what differs: "status", "header.Content-Type", "body"
	// (a text or binary body, or one format against another), a JSON path
	// such as "$.items[2].price", an XML path such as
	// "/order/items/item[2]/price" or "/order/@id", or a form key such as
	// "form.qty" ("form.tag[1]" for a repeated key). JSON and form keys
	// that are not identifiers are quoted: `$["order-id"]`.
	Path string `json:"path"`
	// Kind says how it differs.
	Kind Kind `json:"kind"`
	// Primary is the primary's value as display text, empty when absent.
	// Body fields are compact JSON (`"1"` is a string, `1` a number), cut
	// to a bounded length with "…".
	Primary string `json:"primary,omitempty"`
	// Candidate is the other side's value, like Primary. For noise
	// differences it is the secondary's value.
	Candidate string `json:"candidate,omitempty"`
	// Detail adds context when the values alone do not tell the story: a
	// short line diff for text bodies, sizes and the first differing
	// offset for binary ones.
	Detail string `json:"detail,omitempty"`
	// Noise reports that this difference is explained by noise: the
	// secondary differs from the primary on the same field in this
	// exchange, or the engine has learned that the field is noisy.
	Noise bool `json:"noise,omitempty"`
	// Proxy reports that shadow itself made this difference (class
	// proxy): both values are exactly what the proxy set on the request
	// it sent to each side (Response.Injected: the marker header, Host,
	// X-Forwarded-*, set headers, traceparent), echoed back by the
	// service. It is shown but never counted, with or without a
	// secondary.
	Proxy bool `json:"proxy,omitempty"`

	field string // Path with array indexes generalized; see Field
}

// Field returns the path under which the difference is aggregated: Path
// with every array index generalized, so that the same field in
// different elements counts as one. JSON indexes become "*"
// ("$.items[*].price"); XML and form indexes are dropped
// ("/order/items/item/price", "form.tag"), as in XPath, where a step
// without an index stands for every element of that name.
func (d Difference) Field() string {
	if d.field != "" {
		return d.field
	}
	return generalize(d.Path)
}

// generalize generalizes the indexes in a concrete path (see Field).
func generalize(path string) string {
	var repl string
	switch {
	case strings.HasPrefix(path, "$"):
		repl = "[*]"
	case strings.HasPrefix(path, "/"), isFormPath(path):
		repl = ""
	default:
		return path
	}
	if !strings.Contains(path, "[") {
		return path
	}
	var b strings.Builder
	b.Grow(len(path))
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '[' && i+1 < len(path) && path[i+1] >= '0' && path[i+1] <= '9':
			j := i + 1
			for j < len(path) && path[j] >= '0' && path[j] <= '9' {
				j++
			}
			if j < len(path) && path[j] == ']' {
				b.WriteString(repl)
				i = j
				continue
			}
			b.WriteByte(c)
		case c == '[' && i+1 < len(path) && path[i+1] == '"':
			// Quoted key: copy it verbatim up to the closing `"]`.
			j := i + 2
			for j < len(path) && path[j] != '"' {
				if path[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+2, len(path))
			b.WriteString(path[i:end])
			i = end - 1
		case c == '{' && repl == "":
			// An XML namespace URI ("@{uri}name"): copy it verbatim.
			end := strings.IndexByte(path[i:], '}')
			if end < 0 {
				end = len(path) - i - 1
			}
			b.WriteString(path[i : i+end+1])
			i += end
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Outcome says whether an exchange could be compared.
type Outcome string

// The outcomes of judging one exchange.
const (
	// Compared means both primary and candidate answered and were diffed.
	Compared Outcome = "compared"
	// PrimaryFailed means the primary gave no complete answer; nothing was
	// compared.
	PrimaryFailed Outcome = "primary_error"
	// CandidateFailed means the candidate gave no complete answer (other
	// than a timeout); nothing was compared.
	CandidateFailed Outcome = "candidate_error"
	// CandidateTimedOut means the candidate did not answer in time.
	CandidateTimedOut Outcome = "candidate_timeout"
	// NotSent means the candidate was not asked (exchange.Response.NotSent:
	// its queue was full, or it was down) while another candidate was;
	// it is not counted for it at all.
	NotSent Outcome = "not_sent"
)

// Result is the judgement of one exchange.
type Result struct {
	// Endpoint is the method and route template the exchange belongs to.
	Endpoint Endpoint `json:"endpoint"`
	// Outcome says whether the answers could be compared.
	Outcome Outcome `json:"outcome"`
	// Status holds the status code difference, if any.
	Status []Difference `json:"status,omitempty"`
	// Headers holds header differences, sorted by path.
	Headers []Difference `json:"headers,omitempty"`
	// Body holds body differences, sorted by path.
	Body []Difference `json:"body,omitempty"`
	// Noise holds the differences between primary and secondary, sorted
	// by path; empty without a secondary.
	Noise []Difference `json:"noise,omitempty"`
	// Outbound holds the differences between the candidate's and the
	// primary's outbound calls to dependencies (Config.Outbound), paths
	// starting with OutboundPrefix; the ones marked Noise do not count.
	Outbound []Difference `json:"outbound,omitempty"`
	// Omitted counts differences left out of Headers, Body and Noise to
	// keep a Result bounded (maxDifferences per list).
	Omitted int `json:"omitted,omitempty"`
	// Truncated reports that a body was truncated by the proxy, so it was
	// compared only as far as both sides could be read.
	Truncated bool `json:"truncated,omitempty"`
	// TooLarge reports that comparing the bodies spent Config.Budget and
	// stopped: Body and Noise hold what was found until then. Like
	// truncation, it can hide a difference but never invents one.
	TooLarge bool `json:"too_large,omitempty"`
	// Differs reports that the candidate differs in a way that is not
	// noise: a status or header difference, or a body difference that is
	// not marked Noise.
	Differs bool `json:"differs"`
	// Candidate names the candidate judged, when several are
	// (exchange.Response.Name); empty with one.
	Candidate string `json:"candidate,omitempty"`
	// Others holds the judgements of the exchange's OtherCandidates, in
	// their order; empty with one candidate.
	Others []Result `json:"others,omitempty"`

	fields      []string // distinct Field()s of primary/candidate differences, sorted
	noiseFields []string // distinct Field()s of primary/secondary differences, sorted
	proxyFields []string // distinct Field()s whose differences are all the proxy's, sorted
	hard        bool     // a status or header difference
	hasSecond   bool     // a secondary answer was compared
	noiseStatus bool     // primary and secondary statuses differ
	outbound    bool     // an outbound difference that is not noise

	primaryBody, candidateBody []byte // content as compared (decompressed)
}

// maxDifferences bounds each difference list of a Result.
const maxDifferences = 100

// Differences returns every primary/candidate difference: status, then
// headers, then body, then the outbound calls' (noise left out).
func (r Result) Differences() []Difference {
	out := make([]Difference, 0, len(r.Status)+len(r.Headers)+len(r.Body)+len(r.Outbound))
	out = append(out, r.Status...)
	out = append(out, r.Headers...)
	out = append(out, r.Body...)
	for _, d := range r.Outbound {
		if !d.Noise {
			out = append(out, d)
		}
	}
	return out
}

// maxValueLen bounds the display text of one value in a Difference.
const maxValueLen = 256

// clip cuts display text to maxValueLen bytes at a rune boundary,
// marking the cut with "…".
func clip(s string) string { return clipTo(s, maxValueLen) }

func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
