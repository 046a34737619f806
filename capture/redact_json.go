package capture

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/understudy-dev/understudy/internal/jsonpath"
)

// The JSON redactor is a tolerant scanner rather than a decoder: bodies
// are often truncated by the proxy's copy limit, sometimes malformed, and
// must keep every byte that is not a secret (key order, spacing, number
// formatting) so that diffs and replays still see the original. It walks
// the structure tracking the path; a value whose key is a secret name or
// whose path matches a FieldPath is replaced, up to its end or the end of
// the body. When the structure stops making sense it falls back to
// hunting for `"name":` pairs for the rest of the body.

// parseFieldPath parses a FieldPath in the grammar of internal/jsonpath;
// a path must name a field, not the whole body.
func parseFieldPath(s string) (*jsonpath.Pattern, error) {
	p, err := jsonpath.Parse(s)
	if err != nil {
		return nil, err
	}
	if p.Len() == 0 {
		return nil, errors.New("path selects the whole body; name a field")
	}
	return p, nil
}

// maxJSONDepth bounds the containers tracked; deeper bodies are scanned
// for secret names without structure.
const maxJSONDepth = 256

// jsonFrame is one open container while scanning.
// It holds no pointers, so growing and updating the stack is cheap. The
// FieldPaths' states at each container are kept beside the stack, in
// jsonRedaction.states.
type jsonFrame struct {
	obj    bool
	ks, ke int // current key, quotes included, as in[ks:ke], when obj
	idx    int // current index when !obj
}

// jsonRedaction rewrites one body copy-on-write.
type jsonRedaction struct {
	p      *redaction
	in     []byte
	out    []byte // nil until the first replacement
	copied int    // in[:copied] has been dealt with
	arena  *[]byte
	// states holds, per open container, every FieldPath's State at that
	// container, followed by the States of the value being read.
	states []jsonpath.State
}

// redactJSON returns in, or a redacted copy and true; the copy comes from
// arena when it is not nil.
func (p *redaction) redactJSON(in []byte, arena *[]byte) ([]byte, bool) {
	j := jsonRedaction{p: p, in: in, arena: arena}
	if len(p.paths) == 0 {
		// Without paths the structure does not matter: in JSON a string
		// followed by ':' is a key, so hunting keys is exact, and faster.
		j.hunt(0)
	} else {
		j.structured()
	}
	if j.out == nil {
		return in, false
	}
	j.out = append(j.out, in[j.copied:]...)
	return j.out, true
}

// replace swaps in[start:end] for the replacement of that value.
func (j *jsonRedaction) replace(start, end int) {
	if j.out == nil {
		j.out = take(j.arena, len(j.in)+32)
	}
	j.out = append(j.out, j.in[j.copied:start]...)
	// Replacements are plain ASCII ("[REDACTED]", "hmac:<hex>"): no
	// escaping needed.
	j.out = append(j.out, '"')
	j.out = append(j.out, j.p.replacement(jsonSecret(j.in[start:end]))...)
	j.out = append(j.out, '"')
	j.copied = end
}

// jsonSecret returns what a value means, for hashing: a string's text,
// anything else's raw bytes.
func jsonSecret(v []byte) []byte {
	if len(v) == 0 || v[0] != '"' {
		return bytes.TrimSpace(v)
	}
	if len(v) >= 2 && v[len(v)-1] == '"' {
		inner := v[1 : len(v)-1]
		if bytes.IndexByte(inner, '\\') < 0 {
			return inner
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return []byte(s)
		}
	}
	return v[1:]
}

func (j *jsonRedaction) shouldRedact(stack []jsonFrame) bool {
	if n := len(stack); n > 0 && stack[n-1].obj && matchName(j.p.redactPlan, unescapeJSONKey(j.in[stack[n-1].ks:stack[n-1].ke])) {
		return true
	}
	for i, p := range j.p.paths {
		if p.Matched(j.cur()[i]) {
			return true
		}
	}
	return false
}

// cur returns the FieldPaths' States at the value being read.
func (j *jsonRedaction) cur() []jsonpath.State { return j.states[len(j.states)-len(j.p.paths):] }

// enter makes the value being read an open container: its States stay,
// and the first child's follow.
func (j *jsonRedaction) enter() {
	j.states = append(j.states, j.cur()...)
}

// child sets the States of the container's next child, under key (its
// quoted bytes) or at index.
func (j *jsonRedaction) child(f *jsonFrame) {
	n := len(j.p.paths)
	parent, cur := j.states[len(j.states)-2*n:len(j.states)-n], j.cur()
	alive := false
	for _, st := range parent {
		alive = alive || st != 0
	}
	if !alive { // no path can match below: most of a body
		clear(cur)
		return
	}
	var key []byte
	if f.obj {
		key = unescapeJSONKey(j.in[f.ks:f.ke])
	}
	for i, p := range j.p.paths {
		if parent[i] == 0 {
			cur[i] = 0
		} else if f.obj {
			cur[i] = p.StepKeyBytes(parent[i], key)
		} else {
			cur[i] = p.StepIndex(parent[i], f.idx)
		}
	}
}

// leave closes the innermost container.
func (j *jsonRedaction) leave() { j.states = j.states[:len(j.states)-len(j.p.paths)] }

// root resets the States for a top-level value.
func (j *jsonRedaction) root() {
	j.states = j.states[:0]
	for _, p := range j.p.paths {
		j.states = append(j.states, p.Start())
	}
}

// structured walks the JSON structure from the start of the body, tracking
// paths.
func (j *jsonRedaction) structured() {
	b := j.in
	var backing [16]jsonFrame
	stack := backing[:0]
	var stateBacking [64]jsonpath.State
	j.states = stateBacking[:0]
	j.root()
	i := 0
values:
	for {
		// A value is expected at i.
		i = skipWS(b, i)
		if i >= len(b) {
			return
		}
		if j.shouldRedact(stack) {
			end := skipJSONValue(b, i)
			j.replace(i, end)
			i = end
		} else {
			if c := b[i]; (c == '{' || c == '[') && len(stack) >= maxJSONDepth {
				j.hunt(i)
				return
			}
			switch b[i] {
			case '{':
				i = skipWS(b, i+1)
				if i < len(b) && b[i] == '}' {
					i++
					break
				}
				ke, next, ok := readJSONKey(b, i)
				if !ok {
					j.hunt(i)
					return
				}
				stack = append(stack, jsonFrame{obj: true, ks: i, ke: ke})
				j.enter()
				j.child(&stack[len(stack)-1])
				i = next
				continue values
			case '[':
				i = skipWS(b, i+1)
				if i < len(b) && b[i] == ']' {
					i++
					break
				}
				stack = append(stack, jsonFrame{})
				j.enter()
				j.child(&stack[len(stack)-1])
				continue values
			case '"':
				i = skipJSONString(b, i)
			default:
				end := skipJSONScalar(b, i)
				if end == i {
					j.hunt(i)
					return
				}
				i = end
			}
		}
		// A value ended before i.
		for {
			i = skipWS(b, i)
			if i >= len(b) {
				return
			}
			if len(stack) == 0 {
				j.root()
				continue values // another top-level value (NDJSON)
			}
			top := &stack[len(stack)-1]
			switch c := b[i]; {
			case c == ',' && top.obj:
				ks := skipWS(b, i+1)
				ke, next, ok := readJSONKey(b, ks)
				if !ok {
					j.hunt(i + 1)
					return
				}
				top.ks, top.ke, i = ks, ke, next
				j.child(top)
				continue values
			case c == ',':
				top.idx++
				j.child(top)
				i++
				continue values
			case c == '}' && top.obj, c == ']' && !top.obj:
				stack = stack[:len(stack)-1]
				j.leave()
				i++
			default:
				j.hunt(i)
				return
			}
		}
	}
}

// hunt redacts the value of every `"name":` pair with a secret name from
// i on, without regard to structure. i must not be inside a string.
func (j *jsonRedaction) hunt(i int) {
	b := j.in
	for i < len(b) {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return
		}
		i += q
		end := skipJSONString(b, i)
		k := skipWS(b, end)
		if k < len(b) && b[k] == ':' && matchName(j.p.redactPlan, unescapeJSONKey(b[i:end])) {
			v := skipWS(b, k+1)
			if v == len(b) {
				return // cut right after the colon: nothing to hide
			}
			e := skipJSONValue(b, v)
			j.replace(v, e)
			i = e
			continue
		}
		i = end
	}
}

// readJSONKey reads `"key" :` at i and returns the end of the quoted key
// and the index after the colon.
func readJSONKey(b []byte, i int) (end, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return i, i, false
	}
	end = skipJSONString(b, i)
	if b[end-1] != '"' || end-i < 2 {
		return i, i, false
	}
	c := skipWS(b, end)
	if c >= len(b) || b[c] != ':' {
		return i, i, false
	}
	return end, c + 1, true
}

// unescapeJSONKey returns a quoted key's text.
func unescapeJSONKey(q []byte) []byte {
	if len(q) < 2 || q[len(q)-1] != '"' {
		return nil
	}
	inner := q[1 : len(q)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return inner
	}
	return []byte(s)
}

// Byte classes for the scanner.
var (
	jsonSpace [256]bool // JSON whitespace
	jsonStop  [256]bool // ends a number or literal
)

func init() {
	for _, c := range []byte(" \t\n\r") {
		jsonSpace[c] = true
		jsonStop[c] = true
	}
	for _, c := range []byte(`,:{}[]"`) {
		jsonStop[c] = true
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && jsonSpace[b[i]] {
		i++
	}
	return i
}

// skipJSONString returns the index after the string starting at b[i]
// (a quote), or len(b) when it is not terminated. A quote ends the string
// unless an odd number of backslashes precedes it.
func skipJSONString(b []byte, i int) int {
	for j := i + 1; ; j++ {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return len(b)
		}
		j += k
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
	}
}

// skipJSONScalar returns the index after a number or literal at b[i].
func skipJSONScalar(b []byte, i int) int {
	for i < len(b) && !jsonStop[b[i]] {
		i++
	}
	return i
}

// skipJSONValue returns the index after the value at b[i], or len(b) when
// it runs to the end.
func skipJSONValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipJSONString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipJSONString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	default:
		return skipJSONScalar(b, i)
	}
}

// take returns an empty slice with room for n bytes, carved from arena
// when there is one. The slice's capacity ends where the next one starts,
// so appending past n reallocates instead of overwriting a neighbour.
func take(arena *[]byte, n int) []byte {
	if arena == nil {
		return make([]byte, 0, n)
	}
	a := *arena
	if cap(a)-len(a) < n {
		// Earlier slices keep the old array; only new ones use this one.
		a = make([]byte, 0, max(2*cap(a), n, 16<<10))
	}
	out := a[len(a) : len(a) : len(a)+n]
	*arena = a[:len(a)+n]
	return out
}
