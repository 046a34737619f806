// Package jsonpath is understudy's one grammar for JSON field paths: the
// paths compare's normalizers and capture's redaction are configured with,
// and the paths diffs are reported at.
//
// A pattern is "$" followed by steps:
//
//	.name      an object key: any characters but '.' and '['
//	['name']   an object key, single-quoted, with backslash escapes
//	["name"]   an object key as a JSON string
//	[3]        an array index (no sign, no leading '+')
//	.* [*]     any key or index
//	..step     the step at any depth below ("$..ssn", "$..[0]", "$..*")
//
// Escapes inside quotes are JSON's (\" \\ \/ \b \f \n \r \t \uXXXX) plus \'
// so "$['it\'s']" names the key "it's". "$" alone is the root.
//
// A Pattern is matched while walking a document: the walk carries a State
// from the root (Start) down through each key or index (StepKey,
// StepIndex) and asks Matched at every value. A State is a set of
// positions in the pattern held in one uint64, so a step costs a few bit
// operations and no allocation, and State 0 means nothing below can match.
// Match checks a concrete path in one call.
package jsonpath

import (
	"errors"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxSteps bounds a pattern's steps ('..' counts as one), so that its
// State fits one uint64.
const MaxSteps = 62

// Pattern is a parsed path pattern. The zero value matches only the root.
// A Pattern is immutable and safe for concurrent use.
type Pattern struct {
	segs []seg
}

type segKind uint8

const (
	segKey     segKind = iota // .name, ['name'], ["name"]
	segIndex                  // [3]
	segAny                    // .* or [*]
	segDescend                // ..: zero or more levels
)

type seg struct {
	kind  segKind
	key   string
	index int
}

// State is where a walk stands in a Pattern: the set of steps consumed so
// far. The zero State matches nothing, here or below.
type State uint64

// Step is one step of a concrete path: an object key, or an array index
// when IsIndex is set.
type Step struct {
	Key     string
	Index   int
	IsIndex bool
}

// SyntaxError reports why a pattern does not parse.
type SyntaxError struct {
	// Offset is the byte offset in the pattern where the problem is.
	Offset int
	// Msg says what was expected.
	Msg string
}

func (e *SyntaxError) Error() string {
	return e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

// Parse parses a pattern.
func Parse(s string) (*Pattern, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, &SyntaxError{0, "must start with $"}
	}
	if !utf8.ValidString(s) {
		return nil, &SyntaxError{0, "not valid UTF-8"}
	}
	p := &Pattern{}
	i := 1
	for i < len(s) {
		if strings.HasPrefix(s[i:], "..") {
			p.segs = append(p.segs, seg{kind: segDescend})
			i += 2
			switch {
			case i == len(s):
				return nil, &SyntaxError{i, ".. must be followed by a field"}
			case s[i] == '.':
				return nil, &SyntaxError{i, "... is not a step"}
			case s[i] != '[':
				i-- // "..name" is ".." then ".name"
			}
		}
		sg, n, err := parseStep(s, i)
		if err != nil {
			return nil, err
		}
		p.segs = append(p.segs, sg)
		i += n
		if len(p.segs) > MaxSteps {
			return nil, &SyntaxError{i, "more than " + strconv.Itoa(MaxSteps) + " steps"}
		}
	}
	return p, nil
}

// MustParse is Parse for patterns known to be valid; it panics otherwise.
func MustParse(s string) *Pattern {
	p, err := Parse(s)
	if err != nil {
		panic("jsonpath: " + strconv.Quote(s) + ": " + err.Error())
	}
	return p
}

// parseStep parses the step at s[i:] and returns it and its length.
func parseStep(s string, i int) (seg, int, error) {
	r := s[i:]
	switch r[0] {
	case '.':
		end := strings.IndexAny(r[1:], ".[")
		if end < 0 {
			end = len(r) - 1
		}
		name := r[1 : 1+end]
		switch name {
		case "":
			return seg{}, 0, &SyntaxError{i + 1, "empty field name"}
		case "*":
			return seg{kind: segAny}, 1 + end, nil
		}
		return seg{kind: segKey, key: name}, 1 + end, nil
	case '[':
		if len(r) > 1 && (r[1] == '\'' || r[1] == '"') {
			key, n, err := unquote(r[1:])
			if err != nil {
				return seg{}, 0, &SyntaxError{i + 1, err.Error()}
			}
			if 1+n >= len(r) || r[1+n] != ']' {
				return seg{}, 0, &SyntaxError{i + 1 + n, "want ] after the quoted key"}
			}
			return seg{kind: segKey, key: key}, n + 2, nil
		}
		end := strings.IndexByte(r, ']')
		if end < 0 {
			return seg{}, 0, &SyntaxError{i, "unterminated ["}
		}
		inner := r[1:end]
		if inner == "*" {
			return seg{kind: segAny}, end + 1, nil
		}
		n, err := strconv.Atoi(inner)
		if err != nil || n < 0 || inner == "" || inner[0] == '+' || inner[0] == '-' {
			return seg{}, 0, &SyntaxError{i + 1, "[" + inner + "]: want an index, * or a quoted key"}
		}
		return seg{kind: segIndex, index: n}, end + 1, nil
	}
	return seg{}, 0, &SyntaxError{i, "unexpected " + strconv.QuoteRune(rune(r[0])) + `: want .name, [n], [*], ['name'] or ["name"]`}
}

var errUnterminated = errors.New("unterminated quoted key")

// unquote reads a quoted key at the start of q (which opens with ' or ")
// and returns its text and its length, quotes included.
func unquote(q string) (string, int, error) {
	quote := q[0]
	var b strings.Builder
	for i := 1; i < len(q); i++ {
		c := q[i]
		switch {
		case c == quote:
			return b.String(), i + 1, nil
		case c < 0x20:
			return "", 0, errors.New("control character in quoted key")
		case c != '\\':
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(q) {
			break
		}
		switch e := q[i]; e {
		case '\'', '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, n, ok := unicodeEscape(q[i+1:])
			if !ok {
				return "", 0, errors.New(`bad \u escape in quoted key`)
			}
			b.WriteRune(r)
			i += n
		default:
			return "", 0, errors.New(`bad escape \` + string(e) + " in quoted key")
		}
	}
	return "", 0, errUnterminated
}

// unicodeEscape reads the XXXX of \uXXXX (and a following \uXXXX low
// surrogate) and returns the rune and the bytes read.
func unicodeEscape(s string) (rune, int, bool) {
	hex := func(s string) (rune, bool) {
		if len(s) < 4 {
			return 0, false
		}
		v, err := strconv.ParseUint(s[:4], 16, 16)
		return rune(v), err == nil
	}
	r, ok := hex(s)
	if !ok {
		return 0, 0, false
	}
	if !utf16.IsSurrogate(r) {
		return r, 4, true
	}
	if len(s) >= 10 && s[4] == '\\' && s[5] == 'u' {
		if lo, ok := hex(s[6:]); ok {
			if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
				return d, 10, true
			}
		}
	}
	return 0, 0, false // a lone surrogate names no key
}

// Len is the number of steps; 0 for "$".
func (p *Pattern) Len() int { return len(p.segs) }

// Start is the State at the root.
func (p *Pattern) Start() State { return 1 }

// Matched reports whether the value a walk stands on matches.
func (p *Pattern) Matched(st State) bool { return st&(1<<uint(len(p.segs))) != 0 }

// StepKey advances st into the value under an object key.
func (p *Pattern) StepKey(st State, key string) State { return p.step(st, key, nil, 0, false) }

// StepKeyBytes is StepKey for a key held as bytes; it does not allocate.
func (p *Pattern) StepKeyBytes(st State, key []byte) State { return p.step(st, "", key, 0, false) }

// StepIndex advances st into an array element.
func (p *Pattern) StepIndex(st State, index int) State { return p.step(st, "", nil, index, true) }

func (p *Pattern) step(st State, key string, bkey []byte, index int, isIndex bool) State {
	var out State
	for st != 0 {
		i := bits.TrailingZeros64(uint64(st))
		st &^= 1 << uint(i)
		if i >= len(p.segs) {
			continue
		}
		if p.segs[i].kind == segDescend {
			out |= 1 << uint(i) // consume this level, keep descending
			if p.segs[i+1].matches(key, bkey, index, isIndex) {
				out |= 1 << uint(i+2)
			}
			continue
		}
		if p.segs[i].matches(key, bkey, index, isIndex) {
			out |= 1 << uint(i+1)
		}
	}
	return out
}

func (s seg) matches(key string, bkey []byte, index int, isIndex bool) bool {
	switch s.kind {
	case segAny:
		return true
	case segIndex:
		return isIndex && s.index == index
	case segKey:
		if isIndex {
			return false
		}
		if bkey != nil {
			return string(bkey) == s.key
		}
		return s.key == key
	}
	return false
}

// Match reports whether the concrete path matches.
func (p *Pattern) Match(path []Step) bool {
	st := p.Start()
	for _, s := range path {
		if st == 0 {
			return false
		}
		if s.IsIndex {
			st = p.StepIndex(st, s.Index)
		} else {
			st = p.StepKey(st, s.Key)
		}
	}
	return p.Matched(st)
}

// Steps returns the pattern as a concrete path; ok is false when it has a
// wildcard or '..'.
func (p *Pattern) Steps() (path []Step, ok bool) {
	path = make([]Step, 0, len(p.segs))
	for _, s := range p.segs {
		switch s.kind {
		case segKey:
			path = append(path, Step{Key: s.key})
		case segIndex:
			path = append(path, Step{Index: s.index, IsIndex: true})
		default:
			return nil, false
		}
	}
	return path, true
}

// String renders the pattern in canonical form: ".name" for identifier
// keys, `["name"]` (a JSON string) for others, "[*]" for wildcards except
// right after "..". Parsing the result gives the same pattern.
func (p *Pattern) String() string {
	var b strings.Builder
	b.WriteByte('$')
	for i, s := range p.segs {
		afterDescend := i > 0 && p.segs[i-1].kind == segDescend
		switch s.kind {
		case segDescend:
			b.WriteString("..")
		case segAny:
			if afterDescend {
				b.WriteByte('*')
			} else {
				b.WriteString("[*]")
			}
		case segIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case segKey:
			if IsIdent(s.key) {
				if !afterDescend {
					b.WriteByte('.')
				}
				b.WriteString(s.key)
			} else {
				b.WriteByte('[')
				b.WriteString(Quote(s.key))
				b.WriteByte(']')
			}
		}
	}
	return b.String()
}

// IsIdent reports whether a key can be written as ".key": a letter or '_'
// followed by letters, digits and '_'.
func IsIdent(s string) bool {
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

// Quote returns key as a JSON string, escaping only what JSON requires (so
// non-ASCII text stays readable).
func Quote(key string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range key {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == utf8.RuneError:
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(r), 16)
			b.WriteString(strings.Repeat("0", 4-len(h)) + h)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
