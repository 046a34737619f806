package compare

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// A truncated body holds only a prefix of the answer. Its JSON is decoded
// as far as it goes; every container still open at the cut is partial.
// Two trees are then trimmed to what both sides can soundly show: a key
// missing from a partial object may simply not have been read yet, and a
// partial array may have more elements. What survives is diffed as usual.

// diffPrefixes decodes two bodies as far as they go, trims them to what
// both can soundly show (see trim), and diffs what is left.
func (f jsonFormat) diffPrefixes(p, c *body, r *rules, col *collector) bool {
	a, okA := decodePartial(p.content, p.truncated)
	b, okB := decodePartial(c.content, c.truncated)
	if !okA || !okB {
		return false
	}
	x, y := trim(a, b)
	x, y = f.normalize(x, r.ns, &col.budget), f.normalize(y, r.ns, &col.budget)
	if !col.spent {
		f.diff(x, y, col)
	}
	return true
}

// partialArray is an array of which only a prefix is known on at least
// one side. Set and Sort normalizers cannot apply to it.
type partialArray []any

// openObject and openArray mark containers cut off by truncation.
type openObject map[string]any
type openArray []any

// decodePartial decodes a possibly truncated JSON body. ok is false when
// the bytes are not a prefix of JSON (a syntax error before the cut), or
// nothing at all could be read.
func decodePartial(b []byte, truncated bool) (v any, ok bool) {
	if !truncated {
		return decodeJSON(b)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	type frame struct {
		obj    map[string]any
		arr    []any
		key    string
		hasKey bool
	}
	var stack []*frame
	var root any
	haveRoot := false
	// add places a complete value into the innermost open container.
	add := func(val any) {
		if len(stack) == 0 {
			root, haveRoot = val, true
			return
		}
		f := stack[len(stack)-1]
		if f.obj != nil {
			f.obj[f.key] = val
			f.hasKey = false
			return
		}
		f.arr = append(f.arr, val)
	}
	// close turns the frames into values, innermost first, marking those
	// still open.
	closeAll := func() {
		for len(stack) > 0 {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			var val any
			if f.obj != nil {
				val = openObject(f.obj)
			} else {
				val = openArray(f.arr)
			}
			add(val)
		}
	}
	for {
		tok, err := d.Token()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, false
			}
			closeAll()
			return root, haveRoot
		}
		if _, isNum := tok.(json.Number); isNum && d.InputOffset() == int64(len(b)) {
			// A number that ends at the cut may have lost digits: drop it.
			closeAll()
			return root, haveRoot
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj != nil && !top.hasKey {
			if key, isKey := tok.(string); isKey {
				top.key, top.hasKey = key, true
				continue
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{obj: map[string]any{}})
			case '[':
				stack = append(stack, &frame{arr: []any{}})
			case '}':
				f := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				add(f.obj)
			case ']':
				f := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				add(f.arr)
			}
		default:
			add(t)
		}
		if len(stack) == 0 && haveRoot {
			return root, true // complete value; anything after it was cut
		}
	}
}

// trim returns copies of two partially known trees reduced to what can be
// compared soundly, with every open marker removed. Arrays that were open
// on either side become partialArray on both.
func trim(a, b any) (any, any) {
	ao, aOpen := asObject(a)
	bo, bOpen := asObject(b)
	if ao != nil && bo != nil {
		x, y := map[string]any{}, map[string]any{}
		for k, av := range ao {
			bv, ok := bo[k]
			switch {
			case ok:
				x[k], y[k] = trim(av, bv)
			case !bOpen: // b is complete and lacks k: a real difference
				x[k], _ = trim(av, av)
			}
		}
		for k, bv := range bo {
			if _, ok := ao[k]; !ok && !aOpen {
				_, y[k] = trim(bv, bv)
			}
		}
		return x, y
	}
	aa, aOpenArr := asArray(a)
	ba, bOpenArr := asArray(b)
	if aa != nil && ba != nil {
		n, m := len(aa), len(ba)
		if aOpenArr && m > n {
			m = n // b's extra elements may exist in a's unread part
		}
		if bOpenArr && n > m {
			n = m
		}
		x, y := make([]any, n), make([]any, m)
		for i := range max(n, m) {
			switch {
			case i < n && i < m:
				x[i], y[i] = trim(aa[i], ba[i])
			case i < n:
				x[i], _ = trim(aa[i], aa[i])
			default:
				_, y[i] = trim(ba[i], ba[i])
			}
		}
		if aOpenArr || bOpenArr {
			return partialArray(x), partialArray(y)
		}
		return x, y
	}
	return settle(a), settle(b)
}

// settle removes open markers from a tree compared against something of
// another type.
func settle(v any) any {
	switch x := v.(type) {
	case openObject, map[string]any:
		x2, _ := trim(x, x)
		return x2
	case openArray:
		x2, _ := trim(x, x)
		return x2
	case []any:
		x2, _ := trim(x, x)
		return x2
	}
	return v
}

func asObject(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, false
	case openObject:
		return x, true
	}
	return nil, false
}

func asArray(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, false
	case openArray:
		return x, true
	}
	return nil, false
}
