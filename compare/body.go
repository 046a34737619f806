package compare

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/understudy-dev/understudy/exchange"
)

// bodyView is one side's body, with its content decoded (see
// decodeContent) and parsed (JSON, XML or form) and normalized at most
// once, so that the primary's tree serves both the candidate and the
// secondary comparison.
type bodyView struct {
	resp      *exchange.Response
	body      []byte // content after Content-Encoding is undone
	truncated bool   // body is a prefix of the content
	size      int64  // full content length; 0 when unknown
	bodyRules

	done   bool
	tree   any
	isJSON bool

	xmlDone, isXML bool
	xml            *xmlNode

	formDone, isForm bool
	form             []formField
}

// bodyRules say how the bodies of one exchange are compared.
type bodyRules struct {
	kind ComparatorKind // forced by the route, or AutoComparator
	w    *walker        // JSON normalizers
	ns   []*normalizer  // all normalizers, for XML and form bodies
}

// newBodyView decodes an answer's content. It stays small enough to be
// inlined, so that views live on the judge's stack.
func newBodyView(r *exchange.Response, rules bodyRules) *bodyView {
	b := &bodyView{resp: r, bodyRules: rules}
	b.body, b.truncated, b.size = decodeContent(r)
	return b
}

// jsonish reports whether the body is to be compared as JSON.
func (b *bodyView) jsonish() bool { return b.claims(JSONComparator) }

// json returns the normalized tree of a complete JSON body.
func (b *bodyView) json() (any, bool) {
	if !b.done {
		b.done = true
		if b.jsonish() {
			if v, ok := decodeJSON(b.body); ok {
				b.tree, b.isJSON = b.w.normalize(v), true
			}
		}
	}
	return b.tree, b.isJSON
}

// xmlTree returns the normalized element tree of a complete XML body.
func (b *bodyView) xmlTree() (*xmlNode, bool) {
	if !b.xmlDone {
		b.xmlDone = true
		if b.claims(XMLComparator) {
			if n, ok := parseXML(b.body); ok {
				normalizeXML(n, b.ns)
				b.xml, b.isXML = n, true
			}
		}
	}
	return b.xml, b.isXML
}

// formFields returns the normalized fields of a complete form body.
func (b *bodyView) formFields() ([]formField, bool) {
	if !b.formDone {
		b.formDone = true
		if b.claims(FormComparator) {
			if f, ok := parseForm(b.body); ok {
				b.form, b.isForm = normalizeForm(f, b.ns), true
			}
		}
	}
	return b.form, b.isForm
}

// bodyDiff is the outcome of comparing two bodies.
type bodyDiff struct {
	diffs     []Difference
	fields    []string
	omitted   int
	truncated bool
}

// diffBodies compares two bodies: structurally when both are JSON, XML
// or form, as text or bytes otherwise. A body that is one of these
// against one that is not is a type change at "body". text rewrites text
// bodies before comparing.
func diffBodies(p, c *bodyView, text func(string) string) bodyDiff {
	if p.kind == BinaryComparator {
		text = nil // bytes are compared as they are
	}
	if p.truncated || c.truncated {
		return diffTruncated(p, c, text)
	}
	if bytes.Equal(p.body, c.body) {
		return bodyDiff{}
	}
	pj, pok := p.json()
	cj, cok := c.json()
	switch {
	case pok && cok:
		return diffTrees(pj, cj)
	case pok != cok:
		return typeChange(p, c, pok, cok, "JSON")
	}
	px, pok := p.xmlTree()
	cx, cok := c.xmlTree()
	switch {
	case pok && cok:
		return diffXML(px, cx)
	case pok != cok:
		return typeChange(p, c, pok, cok, "XML")
	}
	pf, pok := p.formFields()
	cf, cok := c.formFields()
	switch {
	case pok && cok:
		return diffForms(pf, cf)
	case pok != cok:
		return typeChange(p, c, pok, cok, "form")
	}
	return diffRaw(p.body, c.body, text, p.kind)
}

// typeChange reports a body of one format against one that is not.
func typeChange(p, c *bodyView, pok, cok bool, format string) bodyDiff {
	label := func(ok bool) string {
		if ok {
			return format
		}
		return ""
	}
	return single(Difference{Path: bodyPath, Kind: TypeChanged, Primary: p.describe(label(pok)), Candidate: c.describe(label(cok))})
}

// diffTrees diffs two normalized JSON trees, quickly when they are equal.
func diffTrees(a, b any) bodyDiff {
	if jsonEqual(a, b) {
		return bodyDiff{}
	}
	diffs, fields, omitted, err := diffJSON(a, b)
	if err != nil {
		return single(Difference{Path: bodyPath, Kind: Changed, Primary: display(a), Candidate: display(b), Detail: "structural diff failed: " + err.Error()})
	}
	return bodyDiff{diffs: diffs, fields: fields, omitted: omitted}
}

func single(d Difference) bodyDiff {
	return bodyDiff{diffs: []Difference{d}, fields: []string{d.Field()}}
}

// describe says what kind of body an answer has, for a type change:
// format names the format it parsed as, if any.
func (b *bodyView) describe(format string) string {
	switch {
	case len(b.body) == 0:
		return "empty body"
	case format != "":
		return fmt.Sprintf("%s, %d bytes", format, len(b.body))
	}
	kind := "binary"
	if isText(b.body) {
		kind = "text"
	}
	if mt, _, err := mime.ParseMediaType(b.resp.Header.Get("Content-Type")); err == nil {
		kind = mt
	}
	return fmt.Sprintf("%s, %d bytes", kind, len(b.body))
}

// isText reports whether a body is UTF-8 without NUL bytes.
func isText(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }

// diffRaw compares two complete bodies as text (with a line diff) or
// bytes: as the kind forces, or text when both are text.
func diffRaw(a, b []byte, text func(string) string, kind ComparatorKind) bodyDiff {
	if kind == TextComparator || (kind != BinaryComparator && isText(a) && isText(b)) {
		sa, sb := string(a), string(b)
		if text != nil {
			sa, sb = text(sa), text(sb)
		}
		if sa == sb {
			return bodyDiff{}
		}
		return single(lineDiff(sa, sb))
	}
	if bytes.Equal(a, b) {
		return bodyDiff{}
	}
	return single(Difference{
		Path:      bodyPath,
		Kind:      Changed,
		Primary:   fmt.Sprintf("%d bytes", len(a)),
		Candidate: fmt.Sprintf("%d bytes", len(b)),
		Detail:    fmt.Sprintf("binary bodies differ from byte %d", firstDiff(a, b)),
	})
}

// firstDiff returns the offset of the first differing byte (the shorter
// length when one is a prefix of the other).
func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// Bounds of the line diff of text bodies.
const (
	maxDiffLines = 6
	maxLineLen   = 120
)

// lineDiff describes how two texts differ: the first differing line on
// each side as the values, and the differing region as a short unified
// hunk (common leading and trailing lines removed) in Detail.
func lineDiff(a, b string) Difference {
	la, lb := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	pre := 0
	for pre < len(la) && pre < len(lb) && la[pre] == lb[pre] {
		pre++
	}
	suf := 0
	for suf < len(la)-pre && suf < len(lb)-pre && la[len(la)-1-suf] == lb[len(lb)-1-suf] {
		suf++
	}
	ma, mb := la[pre:len(la)-suf], lb[pre:len(lb)-suf]
	var d strings.Builder
	fmt.Fprintf(&d, "@@ -%d,%d +%d,%d @@\n", pre+1, len(ma), pre+1, len(mb))
	writeLines(&d, "-", ma)
	writeLines(&d, "+", mb)
	diff := Difference{Path: bodyPath, Kind: Changed, Detail: strings.TrimSuffix(d.String(), "\n")}
	if len(ma) > 0 {
		diff.Primary = clipTo(strings.TrimRight(ma[0], "\r\n"), maxLineLen)
	}
	if len(mb) > 0 {
		diff.Candidate = clipTo(strings.TrimRight(mb[0], "\r\n"), maxLineLen)
	}
	return diff
}

func writeLines(b *strings.Builder, mark string, lines []string) {
	for i, l := range lines {
		if i == maxDiffLines {
			fmt.Fprintf(b, "%s… %d more lines\n", mark, len(lines)-i)
			return
		}
		b.WriteString(mark)
		b.WriteString(clipTo(strings.TrimRight(l, "\r\n"), maxLineLen))
		b.WriteByte('\n')
	}
}

// diffTruncated compares bodies of which at least one was cut off by the
// proxy: JSON as far as both trees are known (see partial.go), anything
// else (XML and form bodies too) as far as both byte prefixes go.
func diffTruncated(p, c *bodyView, text func(string) string) bodyDiff {
	if p.jsonish() && c.jsonish() {
		a, okA := decodePartial(p.body, p.truncated)
		b, okB := decodePartial(c.body, c.truncated)
		if okA && okB {
			x, y := trim(a, b)
			d := diffTrees(p.w.normalize(x), c.w.normalize(y))
			d.truncated = true
			return d
		}
	}
	out := bodyDiff{truncated: true}
	a, b := p.body, c.body
	textual := func(x, y []byte) bool {
		return p.kind == TextComparator || (p.kind != BinaryComparator && isText(x) && isText(y))
	}
	if text != nil && textual(a, b) {
		a, b = []byte(text(string(a))), []byte(text(string(b)))
	}
	n := min(len(a), len(b))
	if k := firstDiff(a[:n], b[:n]); k < n {
		d := Difference{
			Path:      bodyPath,
			Kind:      Changed,
			Primary:   fmt.Sprintf("%d bytes read", len(p.body)),
			Candidate: fmt.Sprintf("%d bytes read", len(c.body)),
			Detail:    fmt.Sprintf("truncated bodies differ from byte %d", k),
		}
		if textual(a[:n], b[:n]) {
			d = lineDiff(string(a[:n]), string(b[:n]))
			d.Detail = "truncated bodies, compared as far as both were read\n" + d.Detail
		}
		return mergeInto(out, d)
	}
	// The common prefix agrees; a complete side that is shorter than what
	// the other side already showed still differs, and so do full lengths
	// when both are known.
	if (!p.truncated && len(a) < len(b)) || (!c.truncated && len(b) < len(a)) ||
		(text == nil && p.size > 0 && c.size > 0 && p.size != c.size) {
		return mergeInto(out, Difference{
			Path:      bodyPath,
			Kind:      Changed,
			Primary:   fmt.Sprintf("%d bytes", max(p.size, int64(len(p.body)))),
			Candidate: fmt.Sprintf("%d bytes", max(c.size, int64(len(c.body)))),
			Detail:    fmt.Sprintf("bodies agree on the first %d bytes but have different lengths", n),
		})
	}
	return out
}

func mergeInto(b bodyDiff, d Difference) bodyDiff {
	s := single(d)
	s.truncated = b.truncated
	return s
}
