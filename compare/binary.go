package compare

import (
	"bytes"
	"fmt"
)

// Binary bodies (whatever no other format claims, or any body on a route
// that forces binary) compare byte for byte. A difference is one "body"
// difference naming both sizes and the first differing offset. Bodies cut
// off by the proxy that no prefix-reading format claims compare here too,
// as far as both sides go (as text when both are text).

// BinaryComparator compares bodies byte for byte, reporting sizes and
// the first differing offset. Automatic choice picks it for what no
// other format claims.
const BinaryComparator ComparatorKind = "binary"

// binaryFormat is the binary format.
type binaryFormat struct{}

func (binaryFormat) kind() ComparatorKind { return BinaryComparator }

func (binaryFormat) name() string { return "binary" }

func (binaryFormat) detect(string, []byte) bool { return true }

func (binaryFormat) parse(body []byte) (any, bool) { return body, true }

func (binaryFormat) normalize(doc any, _ []*normalizer, _ *budget) any { return doc }

func (binaryFormat) diff(a, b any, c *collector) {
	x, y := a.([]byte), b.([]byte)
	if bytes.Equal(x, y) {
		return
	}
	c.one(Difference{
		Path:      bodyPath,
		Kind:      Changed,
		Primary:   fmt.Sprintf("%d bytes", len(x)),
		Candidate: fmt.Sprintf("%d bytes", len(y)),
		Detail:    fmt.Sprintf("binary bodies differ from byte %d", firstDiff(x, y)),
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

// diffPrefixes compares the bytes as far as both go (see diffCut).
func (binaryFormat) diffPrefixes(p, c *body, r *rules, col *collector) bool {
	diffCut(p, c, p.content, c.content, r.kind, false, col)
	return true
}

// diffCut compares a and b, the contents of p and c as they are to be
// compared, as far as both go: the first difference as a line diff when
// text is forced or both cut contents are text (and binary is not
// forced), else as an offset. Contents that agree so far still differ
// when a complete side is shorter than what the other side showed, or
// when both full sizes are known and differ (unless a and b were
// rewritten, which changes sizes).
func diffCut(p, c *body, a, b []byte, kind ComparatorKind, rewritten bool, col *collector) {
	n := min(len(a), len(b))
	if k := firstDiff(a[:n], b[:n]); k < n {
		d := Difference{
			Path:      bodyPath,
			Kind:      Changed,
			Primary:   fmt.Sprintf("%d bytes read", len(p.content)),
			Candidate: fmt.Sprintf("%d bytes read", len(c.content)),
			Detail:    fmt.Sprintf("truncated bodies differ from byte %d", k),
		}
		if kind == TextComparator || (kind != BinaryComparator && isText(a[:n]) && isText(b[:n])) {
			d = lineDiff(string(a[:n]), string(b[:n]))
			d.Detail = "truncated bodies, compared as far as both were read\n" + d.Detail
		}
		col.one(d)
		return
	}
	if (!p.truncated && len(a) < len(b)) || (!c.truncated && len(b) < len(a)) ||
		(!rewritten && p.size > 0 && c.size > 0 && p.size != c.size) {
		col.one(Difference{
			Path:      bodyPath,
			Kind:      Changed,
			Primary:   fmt.Sprintf("%d bytes", max(p.size, int64(len(p.content)))),
			Candidate: fmt.Sprintf("%d bytes", max(c.size, int64(len(c.content)))),
			Detail:    fmt.Sprintf("bodies agree on the first %d bytes but have different lengths", n),
		})
	}
}
