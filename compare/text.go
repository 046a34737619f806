package compare

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text bodies (any UTF-8 body without NUL bytes that no structured
// format claims, or any body on a route that forces text) compare as
// whole strings after the Replace normalizers that reach text bodies
// (Path "body", or no Path). A difference is one "body" difference whose
// values are the first differing line on each side and whose Detail is a
// short unified hunk of the differing region.

// TextComparator compares bodies as text, with a short line diff.
// Automatic choice picks it for UTF-8 bodies no structured format claims.
const TextComparator ComparatorKind = "text"

// textFormat is the text format.
type textFormat struct{}

func (textFormat) kind() ComparatorKind { return TextComparator }

func (textFormat) name() string { return "text" }

func (textFormat) detect(_ string, body []byte) bool { return isText(body) }

func (textFormat) parse(body []byte) (any, bool) { return string(body), true }

func (textFormat) normalize(doc any, ns []*normalizer, _ *budget) any {
	return rewriteText(doc.(string), ns)
}

func (textFormat) diff(a, b any, c *collector) {
	if sa, sb := a.(string), b.(string); sa != sb {
		c.one(lineDiff(sa, sb))
	}
}

// diffPrefixes compares the texts, rewritten by the normalizers that
// reach text bodies, as far as both go (see diffCut).
func (textFormat) diffPrefixes(p, c *body, r *rules, col *collector) bool {
	a, b, rewrite := p.content, c.content, rewritesText(r.ns)
	if rewrite {
		a, b = []byte(rewriteText(string(a), r.ns)), []byte(rewriteText(string(b), r.ns))
	}
	diffCut(p, c, a, b, r.kind, rewrite, col)
	return true
}

// isText reports whether a body is UTF-8 without NUL bytes.
func isText(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }

// rewritesText reports whether some normalizer rewrites text bodies.
func rewritesText(ns []*normalizer) bool {
	for _, n := range ns {
		if n.kind == Replace && n.textBody {
			return true
		}
	}
	return false
}

// rewriteText applies the Replace normalizers that reach text bodies.
func rewriteText(s string, ns []*normalizer) string {
	for _, n := range ns {
		if n.kind == Replace && n.textBody {
			s = n.re.ReplaceAllString(s, n.repl)
		}
	}
	return s
}

// Bounds of the line diff of text bodies.
const (
	maxDiffLines = 6
	maxLineLen   = 120
)

// lineDiff describes how two texts differ: the first differing line on
// each side as the values, and the differing region as a short unified
// hunk (common leading and trailing lines removed) in Detail. A line
// keeps its "\n"; the text after the last one is a line too, empty when
// the text ends with "\n". It scans both texts once and holds no copy of
// their lines, whatever their number.
func lineDiff(a, b string) Difference {
	na, nb := strings.Count(a, "\n")+1, strings.Count(b, "\n")+1
	// Common leading lines.
	pre, offA, offB := 0, 0, 0
	for pre < na && pre < nb {
		la, ea := nextLine(a, offA)
		lb, eb := nextLine(b, offB)
		if la != lb {
			break
		}
		pre, offA, offB = pre+1, ea, eb
	}
	// Common trailing lines, not overlapping the leading ones.
	suf, endA, endB := 0, len(a), len(b)
	for suf < na-pre && suf < nb-pre {
		la, sa := prevLine(a, endA, suf == 0)
		lb, sb := prevLine(b, endB, suf == 0)
		if la != lb {
			break
		}
		suf, endA, endB = suf+1, sa, sb
	}
	ma, mb := na-pre-suf, nb-pre-suf
	var d strings.Builder
	fmt.Fprintf(&d, "@@ -%d,%d +%d,%d @@\n", pre+1, ma, pre+1, mb)
	firstA := writeLines(&d, "-", a, offA, ma)
	firstB := writeLines(&d, "+", b, offB, mb)
	diff := Difference{Path: bodyPath, Kind: Changed, Detail: strings.TrimSuffix(d.String(), "\n")}
	if ma > 0 {
		diff.Primary = clipTo(strings.TrimRight(firstA, "\r\n"), maxLineLen)
	}
	if mb > 0 {
		diff.Candidate = clipTo(strings.TrimRight(firstB, "\r\n"), maxLineLen)
	}
	return diff
}

// nextLine returns the line of s that starts at offset o and the offset
// after it.
func nextLine(s string, o int) (string, int) {
	if i := strings.IndexByte(s[o:], '\n'); i >= 0 {
		return s[o : o+i+1], o + i + 1
	}
	return s[o:], len(s)
}

// prevLine returns the line of s that ends at offset end and the offset
// where it starts. last says it is the text's last line, which ends at
// the end of s rather than after a "\n".
func prevLine(s string, end int, last bool) (string, int) {
	search := end
	if !last {
		search-- // the line's own "\n"
	}
	start := strings.LastIndexByte(s[:search], '\n') + 1
	return s[start:end], start
}

// writeLines writes n lines of s from offset o, at most maxDiffLines of
// them, each marked and clipped, and returns the first.
func writeLines(b *strings.Builder, mark, s string, o, n int) (first string) {
	for i := range n {
		if i == maxDiffLines {
			fmt.Fprintf(b, "%s… %d more lines\n", mark, n-i)
			return first
		}
		var l string
		l, o = nextLine(s, o)
		if i == 0 {
			first = l
		}
		b.WriteString(mark)
		b.WriteString(clipTo(strings.TrimRight(l, "\r\n"), maxLineLen))
		b.WriteByte('\n')
	}
	return first
}
