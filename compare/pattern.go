package compare

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the one place that knows the grammar of JSON paths in
// normalizers: JSON paths ("$.items[*].eta") and form paths, whose key
// steps are JSON's ("form.qty", `form["order-id"]`). It also renders
// the paths of differences in the same syntax (appendKeyStep). XML paths
// have their own grammar, in xmlpath.go.

// pattern is a compiled field path pattern such as "$.items[*].eta" or
// "$..updated_at". It is matched while walking a JSON tree: each node
// carries the set of pattern positions reached so far, as bits of a
// uint64, so matching costs a few bit operations per node.
type pattern []pseg

type psegKind uint8

const (
	segKey     psegKind = iota // .name or ["name"]
	segIndex                   // [3]
	segAny                     // .* or [*]: any key or index
	segDescend                 // ..: zero or more levels
)

type pseg struct {
	kind  psegKind
	key   string
	index int
}

// maxPatternSegs keeps the position set of a pattern in one uint64.
const maxPatternSegs = 62

// parsePattern compiles a path pattern. Grammar: "$" followed by steps:
// ".name" (any characters but "." and "["), `["name"]` (JSON string),
// "[3]", ".*" or "[*]" (any child), and ".." before a step (at any depth).
func parsePattern(s string) (pattern, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("path %q: must start with $", s)
	}
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("path %q: not valid UTF-8", s)
	}
	p := pattern{} // non-nil: "$" alone is a valid pattern
	rest := s[1:]
	for rest != "" {
		if strings.HasPrefix(rest, "..") {
			p = append(p, pseg{kind: segDescend})
			rest = rest[2:]
			if rest == "" {
				return nil, fmt.Errorf("path %q: .. must be followed by a field", s)
			}
			if rest[0] == '.' {
				return nil, fmt.Errorf("path %q: ... is not a step", s)
			}
			if rest[0] != '[' {
				rest = "." + rest // "..name" is ".." then ".name"
			}
		}
		seg, n, err := parseStep(rest)
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", s, err)
		}
		p = append(p, seg)
		rest = rest[n:]
		if len(p) > maxPatternSegs {
			return nil, fmt.Errorf("path %q: more than %d steps", s, maxPatternSegs)
		}
	}
	return p, nil
}

// parseStep parses one step at the start of s and returns its length.
func parseStep(s string) (pseg, int, error) {
	switch s[0] {
	case '.':
		end := strings.IndexAny(s[1:], ".[")
		if end < 0 {
			end = len(s) - 1
		}
		name := s[1 : 1+end]
		if name == "" {
			return pseg{}, 0, errors.New("empty field name")
		}
		if name == "*" {
			return pseg{kind: segAny}, 1 + end, nil
		}
		return pseg{kind: segKey, key: name}, 1 + end, nil
	case '[':
		end := strings.IndexByte(s, ']')
		if strings.HasPrefix(s, `["`) {
			end = closingQuote(s, 2)
			if end < 0 || end+1 >= len(s) || s[end+1] != ']' {
				return pseg{}, 0, errors.New(`unterminated ["key"]`)
			}
			var key string
			if err := json.Unmarshal([]byte(s[1:end+1]), &key); err != nil {
				return pseg{}, 0, fmt.Errorf("bad quoted key %s: %w", s[1:end+1], err)
			}
			return pseg{kind: segKey, key: key}, end + 2, nil
		}
		if end < 0 {
			return pseg{}, 0, errors.New("unterminated [")
		}
		inner := s[1:end]
		if inner == "*" {
			return pseg{kind: segAny}, end + 1, nil
		}
		i, err := strconv.Atoi(inner)
		if err != nil || i < 0 || inner[0] == '+' {
			return pseg{}, 0, fmt.Errorf("[%s]: want an index, * or a quoted key", inner)
		}
		return pseg{kind: segIndex, index: i}, end + 1, nil
	}
	return pseg{}, 0, fmt.Errorf("unexpected %q: want .name, [n], [*] or [\"name\"]", s[0])
}

// closingQuote returns the index of the `"` closing a JSON string whose
// body starts at i, or -1.
func closingQuote(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// start is the position set at the root.
func (p pattern) start() uint64 { return 1 }

// matched reports whether the position set has reached the end.
func (p pattern) matched(st uint64) bool { return st&(1<<uint(len(p))) != 0 }

// step advances a position set over one child: an object key (isIndex
// false) or an array index.
func (p pattern) step(st uint64, key string, index int, isIndex bool) uint64 {
	var out uint64
	for st != 0 {
		i := bits.TrailingZeros64(st)
		st &^= 1 << uint(i)
		if i >= len(p) {
			continue
		}
		if p[i].kind == segDescend {
			out |= 1 << uint(i) // consume this child, stay
			if p[i+1].matches(key, index, isIndex) {
				out |= 1 << uint(i+2)
			}
			continue
		}
		if p[i].matches(key, index, isIndex) {
			out |= 1 << uint(i+1)
		}
	}
	return out
}

func (s pseg) matches(key string, index int, isIndex bool) bool {
	switch s.kind {
	case segAny:
		return true
	case segKey:
		return !isIndex && s.key == key
	case segIndex:
		return isIndex && s.index == index
	}
	return false
}

// String renders the pattern in canonical syntax.
func (p pattern) String() string {
	var b strings.Builder
	b.WriteByte('$')
	for i, s := range p {
		switch s.kind {
		case segDescend:
			b.WriteString("..")
		case segAny:
			if i > 0 && p[i-1].kind == segDescend {
				b.WriteString("*")
			} else {
				b.WriteString("[*]")
			}
		case segIndex:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case segKey:
			if i > 0 && p[i-1].kind == segDescend && isIdent(s.key) {
				b.WriteString(s.key)
			} else {
				writeKey(&b, s.key)
			}
		}
	}
	return b.String()
}

// writeKey appends one object key step in path syntax: ".name" for
// identifiers, `["na.me"]` otherwise.
func writeKey(b *strings.Builder, key string) {
	if isIdent(key) {
		b.WriteByte('.')
		b.WriteString(key)
		return
	}
	b.WriteString("[")
	b.WriteString(quote(key))
	b.WriteString("]")
}

// isIdent reports whether a key can be written as ".key".
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// appendKeyStep appends ".key" or `["key"]`.
func appendKeyStep(b []byte, key string) []byte {
	if isIdent(key) {
		return append(append(b, '.'), key...)
	}
	b = append(b, '[')
	b = appendQuoted(b, key)
	return append(b, ']')
}

// formPattern is a compiled form path: a key, or any key.
type formPattern struct {
	key string
	any bool
}

// isFormPath reports whether a normalizer path targets form bodies.
func isFormPath(p string) bool {
	return strings.HasPrefix(p, "form.") || strings.HasPrefix(p, "form[")
}

// parseFormPattern compiles "form.key", `form["key"]`, "form.*" or
// "form[*]".
func parseFormPattern(s string) (formPattern, error) {
	rest := strings.TrimPrefix(s, "form")
	seg, n, err := parseStep(rest)
	switch {
	case err != nil:
		return formPattern{}, fmt.Errorf("form path %q: %w", s, err)
	case n != len(rest):
		return formPattern{}, fmt.Errorf("form path %q: want one key (form.key, form[\"key\"] or form.*); a normalizer applies to all of a key's values", s)
	case seg.kind == segAny:
		return formPattern{any: true}, nil
	case seg.kind != segKey:
		return formPattern{}, fmt.Errorf("form path %q: want a key, not an index", s)
	}
	return formPattern{key: seg.key}, nil
}

func (p formPattern) matches(key string) bool { return p.any || p.key == key }
