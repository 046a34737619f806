package compare

import (
	"encoding/json"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeJSON decodes a whole body, keeping numbers exact. ok is false when
// the body is not exactly one JSON value (white space around it allowed).
//
// The result is what encoding/json's Decoder with UseNumber gives for an
// any (map[string]any, []any, json.Number, string, bool, nil), and the
// bodies it accepts are the ones that Decoder accepts followed by io.EOF:
// the same syntax, nesting depth limit, later duplicate keys winning,
// invalid UTF-8 and lone surrogates in strings replaced by U+FFFD, and
// non-nil empty arrays. FuzzDecodeJSON checks this against encoding/json.
//
// It exists because encoding/json scans every body twice (once to find
// the value's end, once to decode it), allocates every key and string,
// and grows maps one member at a time: about two thirds of the time to
// judge a pair went there. This decoder makes one pass over one string
// copy of the body; keys, numbers and strings without escapes are slices
// of it (so they cost no allocation; the trees never outlive the
// judgement), and maps and arrays are made once at their final size.
func decodeJSON(b []byte) (v any, ok bool) {
	d := decoders.Get().(*jsonDecoder)
	d.s, d.i, d.depth = string(b), 0, 0
	v, ok = d.value()
	if ok {
		d.space()
		ok = d.i == len(d.s)
	}
	if !ok {
		v = nil
	}
	d.reset()
	decoders.Put(d)
	return v, ok
}

// maxJSONDepth is encoding/json's nesting limit: deeper bodies are not
// JSON to it, so they are not to us either.
const maxJSONDepth = 10000

// jsonDecoder holds one decoding's input and the scratch stacks that
// collect the members and elements of open containers; decoders keeps
// them between bodies.
type jsonDecoder struct {
	s     string
	i     int
	depth int
	kvs   []member
	vals  []any
	buf   []byte // unescaped string being built
}

type member struct {
	k string
	v any
}

var decoders = sync.Pool{New: func() any { return new(jsonDecoder) }}

// reset drops what the decoder references, so that a pooled decoder keeps
// no body alive.
func (d *jsonDecoder) reset() {
	d.s = ""
	clear(d.kvs[:cap(d.kvs)])
	clear(d.vals[:cap(d.vals)])
	d.kvs, d.vals, d.buf = d.kvs[:0], d.vals[:0], d.buf[:0]
}

// space skips JSON white space.
func (d *jsonDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

// value decodes the value at d.i, after optional white space.
func (d *jsonDecoder) value() (any, bool) {
	d.space()
	if d.i >= len(d.s) {
		return nil, false
	}
	switch c := d.s[d.i]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, ok := d.str()
		if !ok {
			return nil, false
		}
		return s, true
	case c == '-' || (c >= '0' && c <= '9'):
		n, ok := d.number()
		if !ok {
			return nil, false
		}
		return n, true
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, false
}

func (d *jsonDecoder) literal(lit string) bool {
	if len(d.s)-d.i < len(lit) || d.s[d.i:d.i+len(lit)] != lit {
		return false
	}
	d.i += len(lit)
	return true
}

// enter counts one more open container; false past the depth limit.
func (d *jsonDecoder) enter() bool {
	d.depth++
	return d.depth <= maxJSONDepth
}

func (d *jsonDecoder) object() (any, bool) {
	if !d.enter() {
		return nil, false
	}
	d.i++ // {
	base := len(d.kvs)
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		d.depth--
		return map[string]any{}, true
	}
	for {
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return nil, false
		}
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, false
		}
		d.i++
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		d.kvs = append(d.kvs, member{k, v})
		d.space()
		if d.i >= len(d.s) {
			return nil, false
		}
		c := d.s[d.i]
		d.i++
		if c == '}' {
			break
		}
		if c != ',' {
			return nil, false
		}
	}
	ms := d.kvs[base:]
	m := make(map[string]any, len(ms))
	for _, kv := range ms {
		m[kv.k] = kv.v // a later duplicate wins, as in encoding/json
	}
	clear(ms)
	d.kvs = d.kvs[:base]
	d.depth--
	return m, true
}

func (d *jsonDecoder) array() (any, bool) {
	if !d.enter() {
		return nil, false
	}
	d.i++ // [
	base := len(d.vals)
	d.space()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		d.depth--
		return []any{}, true
	}
	for {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		d.vals = append(d.vals, v)
		d.space()
		if d.i >= len(d.s) {
			return nil, false
		}
		c := d.s[d.i]
		d.i++
		if c == ']' {
			break
		}
		if c != ',' {
			return nil, false
		}
	}
	es := d.vals[base:]
	a := make([]any, len(es))
	copy(a, es)
	clear(es)
	d.vals = d.vals[:base]
	d.depth--
	return a, true
}

// number decodes a number as its exact text.
func (d *jsonDecoder) number() (json.Number, bool) {
	s, start := d.s, d.i
	i := start
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i+1)
	default:
		return "", false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return "", false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return "", false
		}
		i = j
	}
	d.i = i
	return json.Number(s[start:i]), true
}

// digits returns the index after the decimal digits from i on.
func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// str decodes the string whose opening quote is at d.i. One that needs
// no unescaping and is valid UTF-8 is a slice of the body.
func (d *jsonDecoder) str() (string, bool) {
	s := d.s
	start := d.i + 1
	for i := start; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			d.i = i + 1
			return s[start:i], true
		case c == '\\' || c < 0x20:
			return d.strSlow(start, i)
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return d.strSlow(start, i)
			}
			i += size
		}
	}
	return "", false
}

// strSlow finishes a string that needs unescaping or repairing, from i
// on, the way encoding/json does.
func (d *jsonDecoder) strSlow(start, i int) (string, bool) {
	s := d.s
	b := append(d.buf[:0], s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			d.i = i + 1
			d.buf = b
			return string(b), true
		case c < 0x20:
			return "", false
		case c == '\\':
			if i+1 >= len(s) {
				return "", false
			}
			switch s[i+1] {
			case '"', '\\', '/':
				b = append(b, s[i+1])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s, i)
				if r < 0 {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A high and low surrogate pair is one rune; anything
					// else is a replacement character, and an escape that
					// follows is decoded on its own.
					if r2 := hex4(s, i); r2 >= 0 {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							b = utf8.AppendRune(b, dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				return "", false
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			b = utf8.AppendRune(b, r) // invalid UTF-8 becomes U+FFFD
			i += size
		}
	}
	return "", false
}

// hex4 decodes the escape `\uXXXX` at i, or returns -1.
func hex4(s string, i int) rune {
	if len(s)-i < 6 || s[i] != '\\' || s[i+1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range []byte(s[i+2 : i+6]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
