package compare

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/understudy-dev/understudy/exchange"
)

// bodyView is one side's body, decoded and normalized at most once so
// that the primary's tree serves both the candidate and the secondary
// comparison.
type bodyView struct {
	resp   *exchange.Response
	w      *walker
	done   bool
	tree   any
	isJSON bool
}

func newBodyView(r *exchange.Response, w *walker) *bodyView {
	return &bodyView{resp: r, w: w}
}

// jsonish reports whether the body claims or looks like JSON.
func (b *bodyView) jsonish() bool {
	return isJSONType(b.resp.Header.Get("Content-Type")) || looksJSON(b.resp.Body)
}

// json returns the normalized tree of a complete JSON body.
func (b *bodyView) json() (any, bool) {
	if !b.done {
		b.done = true
		if b.jsonish() {
			if v, ok := decodeJSON(b.resp.Body); ok {
				b.tree, b.isJSON = b.w.normalize(v), true
			}
		}
	}
	return b.tree, b.isJSON
}

// bodyDiff is the outcome of comparing two bodies.
type bodyDiff struct {
	diffs     []Difference
	fields    []string
	omitted   int
	truncated bool
}

// diffBodies compares two bodies: structurally when both are JSON, as
// text or bytes otherwise. text rewrites text bodies before comparing.
func diffBodies(p, c *bodyView, text func(string) string) bodyDiff {
	pr, cr := p.resp, c.resp
	if pr.Truncated || cr.Truncated {
		return diffTruncated(p, c, text)
	}
	if bytes.Equal(pr.Body, cr.Body) {
		return bodyDiff{}
	}
	pj, pok := p.json()
	cj, cok := c.json()
	switch {
	case pok && cok:
		return diffTrees(pj, cj)
	case pok != cok:
		return single(Difference{Path: bodyPath, Kind: TypeChanged, Primary: describe(pr, pok), Candidate: describe(cr, cok)})
	}
	return diffRaw(pr.Body, cr.Body, text)
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

// describe says what kind of body an answer has, for a type change.
func describe(r *exchange.Response, isJSON bool) string {
	switch {
	case len(r.Body) == 0:
		return "empty body"
	case isJSON:
		return fmt.Sprintf("JSON, %d bytes", len(r.Body))
	}
	kind := "binary"
	if isText(r.Body) {
		kind = "text"
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil {
		kind = mt
	}
	return fmt.Sprintf("%s, %d bytes", kind, len(r.Body))
}

// isText reports whether a body is UTF-8 without NUL bytes.
func isText(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }

// diffRaw compares two complete non-JSON bodies.
func diffRaw(a, b []byte, text func(string) string) bodyDiff {
	if isText(a) && isText(b) {
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
// else as far as both byte prefixes go.
func diffTruncated(p, c *bodyView, text func(string) string) bodyDiff {
	pr, cr := p.resp, c.resp
	if p.jsonish() && c.jsonish() {
		a, okA := decodePartial(pr.Body, pr.Truncated)
		b, okB := decodePartial(cr.Body, cr.Truncated)
		if okA && okB {
			x, y := trim(a, b)
			d := diffTrees(p.w.normalize(x), c.w.normalize(y))
			d.truncated = true
			return d
		}
	}
	out := bodyDiff{truncated: true}
	a, b := pr.Body, cr.Body
	if text != nil && isText(a) && isText(b) {
		a, b = []byte(text(string(a))), []byte(text(string(b)))
	}
	n := min(len(a), len(b))
	if k := firstDiff(a[:n], b[:n]); k < n {
		d := Difference{
			Path:      bodyPath,
			Kind:      Changed,
			Primary:   fmt.Sprintf("%d bytes read", len(pr.Body)),
			Candidate: fmt.Sprintf("%d bytes read", len(cr.Body)),
			Detail:    fmt.Sprintf("truncated bodies differ from byte %d", k),
		}
		if isText(a[:n]) && isText(b[:n]) {
			d = lineDiff(string(a[:n]), string(b[:n]))
			d.Detail = "truncated bodies, compared as far as both were read\n" + d.Detail
		}
		return mergeInto(out, d)
	}
	// The common prefix agrees; a complete side that is shorter than what
	// the other side already showed still differs.
	if (!pr.Truncated && len(a) < len(b)) || (!cr.Truncated && len(b) < len(a)) ||
		(text == nil && pr.Size > 0 && cr.Size > 0 && pr.Size != cr.Size) {
		return mergeInto(out, Difference{
			Path:      bodyPath,
			Kind:      Changed,
			Primary:   fmt.Sprintf("%d bytes", max(pr.Size, int64(len(pr.Body)))),
			Candidate: fmt.Sprintf("%d bytes", max(cr.Size, int64(len(cr.Body)))),
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
