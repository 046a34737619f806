package compare

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxPatternSegs keeps the position set of an XML pattern in one uint64.
const maxPatternSegs = 62

// xpattern is a compiled XML path pattern, the XPath subset that
// normalizers use to reach into XML bodies:
//
//	/order/created_at        an element (its text) by local names
//	/order/items/item        every item: no index means any
//	/order/items/item[2]     the second item (1-based, as in XPath)
//	/order/*/price           any element name
//	//updated_at             at any depth
//	/order/@id, //@*         an attribute ("@xsi:type", "@{uri}name")
//
// Like pattern, it is matched while walking the tree, with the set of
// positions reached so far as the bits of a uint64.
type xpattern []xstep

type xstepKind uint8

const (
	xElem    xstepKind = iota // name or *, with an optional [n]
	xDescend                  // //: zero or more levels
	xAttr                     // @name or @*, last only
)

type xstep struct {
	kind  xstepKind
	name  string // "*" for any
	index int    // 1-based; 0 for any
}

// parseXPattern compiles an XML path pattern.
func parseXPattern(s string) (xpattern, error) {
	if !strings.HasPrefix(s, "/") {
		return nil, fmt.Errorf("XML path %q: must start with /", s)
	}
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("XML path %q: not valid UTF-8", s)
	}
	var p xpattern
	rest := s
	for rest != "" {
		if strings.HasPrefix(rest, "//") {
			p = append(p, xstep{kind: xDescend})
			rest = rest[2:]
		} else {
			rest = rest[1:] // "/"
		}
		if rest == "" || rest[0] == '/' {
			return nil, fmt.Errorf("XML path %q: empty step", s)
		}
		end := stepEnd(rest)
		st, err := parseXStep(rest[:end])
		if err != nil {
			return nil, fmt.Errorf("XML path %q: %w", s, err)
		}
		rest = rest[end:]
		if st.kind == xAttr && rest != "" {
			return nil, fmt.Errorf("XML path %q: an attribute step must be the last", s)
		}
		p = append(p, st)
		if len(p) > maxPatternSegs {
			return nil, fmt.Errorf("XML path %q: more than %d steps", s, maxPatternSegs)
		}
	}
	return p, nil
}

// stepEnd returns the length of the step at the start of s: up to the
// next "/" outside an "{uri}".
func stepEnd(s string) int {
	if strings.HasPrefix(s, "@{") {
		if close := strings.IndexByte(s, '}'); close > 0 {
			if i := strings.IndexByte(s[close:], '/'); i >= 0 {
				return close + i
			}
			return len(s)
		}
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return i
	}
	return len(s)
}

func parseXStep(s string) (xstep, error) {
	if name, ok := strings.CutPrefix(s, "@"); ok {
		if name == "*" {
			return xstep{kind: xAttr, name: "*"}, nil
		}
		if uri, local, ok := strings.Cut(strings.TrimPrefix(name, "{"), "}"); ok && strings.HasPrefix(name, "{") {
			if uri == "" || !validXMLName(local) {
				return xstep{}, fmt.Errorf("attribute %q: want @{uri}name", s)
			}
			return xstep{kind: xAttr, name: name}, nil
		}
		prefix, local, hasPrefix := strings.Cut(name, ":")
		if !hasPrefix {
			prefix, local = "x", name
		}
		if !validXMLName(local) || !validXMLName(prefix) {
			return xstep{}, fmt.Errorf("attribute %q: want @name, @prefix:name, @{uri}name or @*", s)
		}
		return xstep{kind: xAttr, name: name}, nil
	}
	st := xstep{kind: xElem, name: s}
	if open := strings.IndexByte(s, '['); open >= 0 {
		if !strings.HasSuffix(s, "]") {
			return xstep{}, fmt.Errorf("step %q: unterminated [", s)
		}
		n, err := strconv.Atoi(s[open+1 : len(s)-1])
		if err != nil || n < 1 || s[open+1] == '+' {
			return xstep{}, fmt.Errorf("step %q: want a position [1], [2], …", s)
		}
		st.name, st.index = s[:open], n
	}
	switch {
	case st.name == "*":
	case strings.Contains(st.name, ":"):
		return xstep{}, fmt.Errorf("step %q: elements match by local name; drop the prefix", s)
	case !validXMLName(st.name):
		return xstep{}, fmt.Errorf("step %q: want an element name, * or text like item[2]", s)
	}
	return st, nil
}

// validXMLName reports whether s can be an XML local name, loosely: not
// empty, no white space and none of the characters path syntax uses.
func validXMLName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || strings.ContainsRune(`/[]@{}:"'=<>*`, r) {
			return false
		}
	}
	return true
}

// start is the position set at the document, above the root element.
func (p xpattern) start() uint64 { return 1 }

// matched reports whether the position set has reached the end.
func (p xpattern) matched(st uint64) bool { return st&(1<<uint(len(p))) != 0 }

// stepElem advances a position set over a child element: its local name
// and 1-based position among its siblings of that name.
func (p xpattern) stepElem(st uint64, name string, index int) uint64 {
	var out uint64
	for st != 0 {
		i := bits.TrailingZeros64(st)
		st &^= 1 << uint(i)
		if i >= len(p) {
			continue
		}
		if p[i].kind == xDescend {
			out |= 1 << uint(i) // consume this element, stay
			if p[i+1].matchElem(name, index) {
				out |= 1 << uint(i+2)
			}
			continue
		}
		if p[i].matchElem(name, index) {
			out |= 1 << uint(i+1)
		}
	}
	return out
}

func (s xstep) matchElem(name string, index int) bool {
	return s.kind == xElem && (s.name == "*" || s.name == name) && (s.index == 0 || s.index == index)
}

// attrMatch reports whether the pattern selects the attribute key of the
// element whose position set is st.
func (p xpattern) attrMatch(st uint64, key string) bool {
	for st != 0 {
		i := bits.TrailingZeros64(st)
		st &^= 1 << uint(i)
		if i < len(p) && p[i].kind == xDescend {
			i++ // "//@id": the attribute of this element too
		}
		if i == len(p)-1 && p[i].kind == xAttr && (p[i].name == "*" || p[i].name == key) {
			return true
		}
	}
	return false
}

// String renders the pattern in canonical syntax.
func (p xpattern) String() string {
	var b strings.Builder
	for _, s := range p {
		switch s.kind {
		case xDescend:
			b.WriteString("/")
		case xAttr:
			b.WriteString("/@" + s.name)
		case xElem:
			b.WriteString("/" + s.name)
			if s.index > 0 {
				b.WriteString("[" + strconv.Itoa(s.index) + "]")
			}
		}
	}
	return b.String()
}
