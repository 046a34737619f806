package compare

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
)

// XML bodies are read with encoding/xml's token stream into a tree of
// elements and diffed by path, in XPath-like syntax:
//
//   - An element is "/order/items/item[2]/price": local names from the
//     root, with a 1-based index where a name occurs more than once
//     among its siblings on either side. Same-named siblings are compared
//     in order (item[1] with item[1]); differently named siblings are
//     compared whatever their order.
//   - An attribute is "/order/@id". Namespaced attributes are written
//     with the usual prefix for xml, xsi and xlink ("@xsi:type"), and as
//     "@{uri}name" otherwise.
//   - An element's text is compared at the element's own path, with
//     white space trimmed from each run of text (indentation does not
//     matter; mixed content joins its runs with one space). Text is
//     compared as text: "1.10" and "1.1" differ unless a Tolerance
//     normalizer says otherwise.
//   - Namespaces are compared by URI, never by prefix: <a:x xmlns:a="u">
//     and <b:x xmlns:b="u"> are equal. A different namespace URI is
//     reported at "/path/@xmlns" of the element where it starts, not again
//     on descendants whose URIs differ the same way.
//   - Comments, processing instructions and the XML declaration are not
//     compared. Bodies nested deeper than maxXMLDepth, with more than one
//     root element, or not well-formed are compared as text.
//
// Fields (for noise and aggregation) drop the indexes, as XPath does:
// "/order/items/item/price" stands for the price of every item.

// XMLComparator diffs bodies as XML element trees: element paths
// ("/order/items/item[2]/price"), attributes ("/order/@id") and text.
// Automatic choice picks it for application/xml, text/xml and
// anything+xml, or a body that starts with "<?xml".
const XMLComparator ComparatorKind = "xml"

// xmlFormat is the XML format.
type xmlFormat struct{}

func (xmlFormat) kind() ComparatorKind { return XMLComparator }

func (xmlFormat) name() string { return "XML" }

func (xmlFormat) detect(contentType string, body []byte) bool {
	return isXMLType(contentType) || looksXML(body)
}

func (xmlFormat) parse(body []byte) (any, bool) {
	root, err := readXML(body)
	return root, err == nil
}

func (xmlFormat) normalize(doc any, ns []*normalizer, b *budget) any {
	normalizeXML(doc.(*xmlNode), ns, b)
	return doc
}

func (xmlFormat) diff(a, b any, c *collector) {
	r := &xmlDiffer{c: c, path: make([]byte, 0, 64), gen: make([]byte, 0, 64)}
	r.children([]*xmlNode{a.(*xmlNode)}, []*xmlNode{b.(*xmlNode)})
}

// maxXMLDepth bounds the nesting of an XML body that is diffed as a tree.
const maxXMLDepth = 256

// xmlNode is one element of an XML body.
type xmlNode struct {
	space, local string    // namespace URI and local name
	attrs        []xmlAttr // sorted by key, namespace declarations left out
	text         scalar    // the element's own text
	kids         []*xmlNode
	ignored      bool // an Ignore normalizer matched it
}

// xmlAttr is one attribute of an element.
type xmlAttr struct {
	key string // "id", "xml:lang", "{urn:x}id"
	val scalar
}

// wellKnownNS are namespaces whose attributes are written with their
// customary prefix.
var wellKnownNS = map[string]string{
	"http://www.w3.org/XML/1998/namespace":      "xml",
	"http://www.w3.org/2001/XMLSchema-instance": "xsi",
	"http://www.w3.org/1999/xlink":              "xlink",
}

func attrKey(n xml.Name) string {
	switch {
	case n.Space == "":
		return n.Local
	case wellKnownNS[n.Space] != "":
		return wellKnownNS[n.Space] + ":" + n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

var errXMLShape = errors.New("not a single-rooted XML document within the depth bound")

// readXML reads a whole XML body into its root element. It fails when
// the body is not one well-formed element (trailing white space,
// comments and processing instructions aside) no deeper than maxXMLDepth.
func readXML(b []byte) (*xmlNode, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	// Both sides are read alike, so a declared charset need not be
	// converted to be compared.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	type frame struct {
		n     *xmlNode
		buf   []byte   // the text run being read
		parts []string // finished runs, trimmed, non-empty
	}
	flush := func(f *frame) {
		if t := strings.TrimSpace(string(f.buf)); t != "" {
			f.parts = append(f.parts, t)
		}
		f.buf = f.buf[:0]
	}
	var root *xmlNode
	var stack []*frame
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && root != nil || len(stack) >= maxXMLDepth {
				return nil, errXMLShape
			}
			n := &xmlNode{space: t.Name.Space, local: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue // a prefix binding, not data
				}
				n.attrs = append(n.attrs, xmlAttr{key: attrKey(a.Name), val: scalar{s: a.Value}})
			}
			slices.SortFunc(n.attrs, func(x, y xmlAttr) int { return strings.Compare(x.key, y.key) })
			for i := 1; i < len(n.attrs); i++ {
				if n.attrs[i].key == n.attrs[i-1].key {
					return nil, errors.New("duplicate attribute " + n.attrs[i].key)
				}
			}
			if len(stack) == 0 {
				root = n
			} else {
				top := stack[len(stack)-1]
				flush(top)
				top.n.kids = append(top.n.kids, n)
			}
			stack = append(stack, &frame{n: n})
		case xml.EndElement:
			top := stack[len(stack)-1] // the decoder checks that tags match
			flush(top)
			top.n.text.s = strings.Join(top.parts, " ")
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errXMLShape
				}
				continue
			}
			top := stack[len(stack)-1]
			top.buf = append(top.buf, t...)
		}
	}
	if root == nil || len(stack) > 0 {
		return nil, errXMLShape
	}
	return root, nil
}

// xmlDiffer walks two element trees together and reports where they
// differ to its collector.
type xmlDiffer struct {
	c         *collector
	path, gen []byte // concrete path and field (indexes dropped)
	// renamed are the namespace changes reported on the current path: an
	// element whose URIs differ the same way is not reported again. It
	// holds at most one entry per level, so at most maxXMLDepth.
	renamed [][2]string
}

// add records a difference at the current path, extended by step.
func (r *xmlDiffer) add(step string, kind Kind, primary, candidate string) {
	field := string(r.gen) + step
	var d Difference
	if r.c.keeping() {
		d = Difference{Path: string(r.path) + step, Kind: kind, Primary: primary, Candidate: candidate}
	}
	r.c.add(d, field)
}

// children pairs two lists of sibling elements by name and occurrence,
// in name order so that both directions of a diff see the same order.
func (r *xmlDiffer) children(ka, kb []*xmlNode) {
	if len(ka) == 0 && len(kb) == 0 || !r.c.visit(len(ka)+len(kb)) {
		return
	}
	sa, sb := byName(ka), byName(kb)
	for (len(sa) > 0 || len(sb) > 0) && !r.c.spent {
		var name string
		switch {
		case len(sa) == 0:
			name = sb[0].local
		case len(sb) == 0:
			name = sa[0].local
		default:
			name = min(sa[0].local, sb[0].local)
		}
		ra, rb := run(sa, name), run(sb, name)
		sa, sb = sa[len(ra):], sb[len(rb):]
		indexed := len(ra) > 1 || len(rb) > 1
		for k := range max(len(ra), len(rb)) {
			pn, gn := len(r.path), len(r.gen)
			r.path = append(append(r.path, '/'), name...)
			if indexed {
				r.path = append(strconv.AppendInt(append(r.path, '['), int64(k+1), 10), ']')
			}
			r.gen = append(append(r.gen, '/'), name...)
			switch {
			case k < len(ra) && k < len(rb):
				r.element(ra[k], rb[k])
			case k < len(ra):
				if !ra[k].ignored {
					r.add("", Removed, renderXML(ra[k]), "")
				}
			default:
				if !rb[k].ignored {
					r.add("", Added, "", renderXML(rb[k]))
				}
			}
			r.path, r.gen = r.path[:pn], r.gen[:gn]
		}
	}
}

// byName returns the elements sorted by local name, document order kept
// among equal names.
func byName(ns []*xmlNode) []*xmlNode {
	out := slices.Clone(ns)
	slices.SortStableFunc(out, func(x, y *xmlNode) int { return strings.Compare(x.local, y.local) })
	return out
}

// run returns the leading elements named name.
func run(ns []*xmlNode, name string) []*xmlNode {
	i := 0
	for i < len(ns) && ns[i].local == name {
		i++
	}
	return ns[:i]
}

// element diffs two elements with the same name at the current path.
func (r *xmlDiffer) element(a, b *xmlNode) {
	if a.ignored || b.ignored || !r.c.visit(len(a.attrs)+len(b.attrs)) {
		return
	}
	if ns := [2]string{a.space, b.space}; a.space != b.space && !slices.Contains(r.renamed, ns) {
		r.add("/@xmlns", Changed, quote(a.space), quote(b.space))
		r.renamed = append(r.renamed, ns)
		defer func() { r.renamed = r.renamed[:len(r.renamed)-1] }()
	}
	i, j := 0, 0
	for i < len(a.attrs) || j < len(b.attrs) {
		switch {
		case j == len(b.attrs) || (i < len(a.attrs) && a.attrs[i].key < b.attrs[j].key):
			r.add("/@"+a.attrs[i].key, Removed, clip(quote(a.attrs[i].val.s)), "")
			i++
		case i == len(a.attrs) || b.attrs[j].key < a.attrs[i].key:
			r.add("/@"+b.attrs[j].key, Added, "", clip(quote(b.attrs[j].val.s)))
			j++
		default:
			if !scalarEqual(a.attrs[i].val, b.attrs[j].val) {
				r.add("/@"+a.attrs[i].key, Changed, clip(quote(a.attrs[i].val.s)), clip(quote(b.attrs[j].val.s)))
			}
			i, j = i+1, j+1
		}
	}
	if !scalarEqual(a.text, b.text) {
		r.add("", Changed, clip(quote(a.text.s)), clip(quote(b.text.s)))
	}
	r.children(a.kids, b.kids)
}

// renderXML renders an element as compact XML for a Difference, cut at
// maxValueLen. Namespaces are left out.
func renderXML(n *xmlNode) string {
	b := appendXML(make([]byte, 0, 64), n, maxValueLen+1)
	return clip(string(b))
}

func appendXML(b []byte, n *xmlNode, limit int) []byte {
	if len(b) > limit {
		return b
	}
	b = append(append(b, '<'), n.local...)
	for _, a := range n.attrs {
		b = append(append(append(b, ' '), a.key...), `="`...)
		b = appendEscaped(b, a.val.s)
		b = append(b, '"')
	}
	if n.text.s == "" && len(n.kids) == 0 {
		return append(b, "/>"...)
	}
	b = appendEscaped(append(b, '>'), n.text.s)
	for _, k := range n.kids {
		if k.ignored {
			continue
		}
		if b = appendXML(b, k, limit); len(b) > limit {
			return b
		}
	}
	return append(append(append(b, "</"...), n.local...), '>')
}

// appendEscaped appends s with the characters XML reserves escaped.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '&':
			b = append(b, "&amp;"...)
		case '"':
			b = append(b, "&quot;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// normalizeXML applies, in place, the normalizers that reach XML bodies:
// Ignore, Replace and Tolerance with an XML path, and Replace without a
// path (every text and attribute value).
func normalizeXML(root *xmlNode, ns []*normalizer, b *budget) {
	var xs []*normalizer
	for _, n := range ns {
		if n.xpat != nil || (n.kind == Replace && n.allStrings) {
			xs = append(xs, n)
		}
	}
	if len(xs) == 0 {
		return
	}
	doc := make([]uint64, len(xs))
	for i, n := range xs {
		if n.xpat != nil {
			doc[i] = n.xpat.start()
		}
	}
	walkXML(root, 1, xs, doc, b)
}

// walkXML normalizes element n, the index-th of its name among its
// siblings; parent holds the normalizers' position sets at its parent.
// It charges b for the element and its attributes.
func walkXML(n *xmlNode, index int, xs []*normalizer, parent []uint64, b *budget) {
	if !b.visit(1 + len(n.attrs)) {
		return
	}
	st := make([]uint64, len(xs))
	alive := false
	for i, x := range xs {
		if x.xpat == nil {
			alive = true // applies everywhere
			continue
		}
		st[i] = x.xpat.stepElem(parent[i], n.local, index)
		alive = alive || st[i] != 0
		if x.kind == Ignore && x.xpat.matched(st[i]) {
			n.ignored = true
			return
		}
	}
	if !alive {
		return
	}
	n.attrs = slices.DeleteFunc(n.attrs, func(a xmlAttr) bool {
		for i, x := range xs {
			if x.kind == Ignore && x.xpat.attrMatch(st[i], a.key) {
				return true
			}
		}
		return false
	})
	for ai := range n.attrs {
		a := &n.attrs[ai]
		for i, x := range xs {
			matched := x.xpat == nil || x.xpat.attrMatch(st[i], a.key)
			a.val = x.rewrite(a.val, matched)
		}
	}
	if n.text.s != "" {
		for i, x := range xs {
			n.text = x.rewrite(n.text, x.xpat == nil || x.xpat.matched(st[i]))
		}
	}
	var seen map[string]int
	for _, k := range n.kids {
		if seen == nil {
			seen = map[string]int{}
		}
		seen[k.local]++
		walkXML(k, seen[k.local], xs, st, b)
	}
}

// isXMLType reports whether a Content-Type names XML (application/xml,
// text/xml, anything+xml).
func isXMLType(ct string) bool {
	mt := mediaType(ct)
	return mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
}

// looksXML reports whether a body starts with an XML declaration
// (after a byte order mark and white space).
func looksXML(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	return bytes.HasPrefix(b, []byte("<?xml"))
}
