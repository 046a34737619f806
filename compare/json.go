package compare

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/understudy-dev/understudy/internal/jsonpath"
)

// JSON bodies are decoded with numbers kept exact (jsondecode.go;
// jsonpartial.go for bodies the proxy cut off), normalized by the
// normalizers with a JSON path (pattern.go) and diffed as trees:
//
//   - A difference names its path: "$.items[2].price", `$["order-id"]`
//     for a key that is not an identifier. Its field drops the indexes:
//     "$.items[*].price".
//   - Objects compare key by key, whatever their order; arrays index by
//     index (an insertion shows as changes from that index on; Set and
//     Sort normalizers make order not matter).
//   - Numbers compare as exact decimals (jsonvalue.go): 1.10 equals 1.1,
//     12345678901234567890 differs from 12345678901234567891, and 1
//     against "1" is a type change.
//
// The diff (jsoncmp.go) prunes both trees to what differs in one walk,
// and go-cmp reports every difference from what is left.

// JSONComparator diffs bodies as JSON trees, field by field
// ("$.items[2].price"). Automatic choice picks it for application/json,
// text/json and anything+json, or a body that starts with "{" or "[".
const JSONComparator ComparatorKind = "json"

// jsonFormat is the JSON format.
type jsonFormat struct{}

func (jsonFormat) kind() ComparatorKind { return JSONComparator }

func (jsonFormat) name() string { return "JSON" }

// detect: a JSON Content-Type (application/json, text/json, anything
// +json), or a body that starts like an object or an array.
func (jsonFormat) detect(contentType string, body []byte) bool {
	return isJSONType(contentType) || looksJSON(body)
}

func (jsonFormat) parse(body []byte) (any, bool) { return decodeJSON(body) }

// isJSONType reports whether a Content-Type names JSON.
func isJSONType(ct string) bool {
	mt := mediaType(ct)
	return mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json"
}

// looksJSON reports whether a body starts like a JSON object or array.
func looksJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// ignoredValue stands in for a value an Ignore normalizer removed: an
// array element (so that the others keep their indexes) or the root.
type ignoredValue struct{}

// normalize applies, in place, the normalizers with a JSON path and the
// Replace normalizers without a path (every string).
func (jsonFormat) normalize(doc any, ns []*normalizer, b *budget) any {
	if !slices.ContainsFunc(ns, reachesJSON) {
		return doc
	}
	w := walkers.Get().(*walker)
	defer w.release()
	w.reset(ns, b)
	switch out, act := w.walk(doc, 0); act {
	case drop:
		return ignoredValue{}
	case replaced:
		return out
	}
	return doc
}

// walker applies the JSON normalizers of one body to its tree: each
// node carries, per normalizer, where it stands in the normalizer's path
// (a jsonpath.State), and the walk goes only where some normalizer can
// still apply.
type walker struct {
	ns      []*normalizer      // JSON normalizers (pattern or allStrings)
	anyAll  bool               // some normalizer applies to every string
	scratch [][]jsonpath.State // states per depth, reused
	b       *budget
}

var walkers = sync.Pool{New: func() any { return new(walker) }}

// reachesJSON reports whether a normalizer applies to JSON bodies.
func reachesJSON(n *normalizer) bool { return n.pat != nil || n.allStrings }

// reset prepares the walker for one tree.
func (w *walker) reset(ns []*normalizer, b *budget) {
	w.ns, w.anyAll, w.b = w.ns[:0], false, b
	for _, n := range ns {
		if reachesJSON(n) {
			w.ns = append(w.ns, n)
			w.anyAll = w.anyAll || n.allStrings
		}
	}
	st := w.states(0)
	for i, n := range w.ns {
		st[i] = 0
		if n.pat != nil {
			st[i] = n.pat.Start()
		}
	}
}

// release returns the walker to the pool, holding nothing of the tree.
func (w *walker) release() {
	clear(w.ns)
	w.ns, w.b = w.ns[:0], nil
	walkers.Put(w)
}

// action says what walk did to a node.
type action uint8

const (
	kept     action = iota // unchanged (containers may be changed inside)
	replaced               // use the returned value instead
	drop                   // an Ignore normalizer removes it
)

func (w *walker) states(depth int) []jsonpath.State {
	for len(w.scratch) <= depth {
		w.scratch = append(w.scratch, nil)
	}
	if s := w.scratch[depth]; cap(s) >= len(w.ns) {
		return s[:len(w.ns)]
	}
	w.scratch[depth] = make([]jsonpath.State, len(w.ns))
	return w.scratch[depth]
}

// advance computes the states of a child (an object key, or an array
// index when isIndex) at depth+1 and reports whether any normalizer can
// still apply below.
func (w *walker) advance(depth int, key string, index int, isIndex bool) bool {
	cur, next := w.states(depth), w.states(depth+1)
	alive := w.anyAll
	for i, n := range w.ns {
		next[i] = 0
		switch {
		case n.pat == nil || cur[i] == 0:
		case isIndex:
			next[i] = n.pat.StepIndex(cur[i], index)
		default:
			next[i] = n.pat.StepKey(cur[i], key)
		}
		alive = alive || next[i] != 0
	}
	return alive
}

func (w *walker) matches(depth int, kind NormalizerKind) bool {
	st := w.states(depth)
	for i, n := range w.ns {
		if n.kind == kind && n.pat != nil && n.pat.Matched(st[i]) {
			return true
		}
	}
	return false
}

// walk normalizes the node whose states are at depth. Objects
// and arrays are changed in place; only what changed is written back, so
// untouched values are not re-boxed.
func (w *walker) walk(v any, depth int) (any, action) {
	if !w.b.visit(1) {
		return v, kept
	}
	if w.matches(depth, Ignore) {
		return nil, drop
	}
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if !w.advance(depth, k, 0, false) {
				continue
			}
			switch nv, act := w.walk(child, depth+1); act {
			case drop:
				delete(x, k)
			case replaced:
				x[k] = nv
			}
		}
	case []any:
		return w.walkArray(x, depth, false), replaced
	case partialArray:
		return w.walkArray(x, depth, true), replaced
	case string:
		if s := w.replace(x, depth); s != x {
			return s, replaced
		}
	case json.Number:
		st := w.states(depth)
		for i, n := range w.ns {
			if n.kind == Tolerance && n.pat.Matched(st[i]) {
				return tolNumber{n: x, abs: n.abs, rel: n.rel}, replaced
			}
		}
	}
	return v, kept
}

func (w *walker) walkArray(x []any, depth int, partial bool) any {
	for i, child := range x {
		if !w.advance(depth, "", i, true) {
			continue
		}
		switch nv, act := w.walk(child, depth+1); act {
		case drop:
			x[i] = ignoredValue{}
		case replaced:
			x[i] = nv
		}
	}
	st := w.states(depth)
	for i, n := range w.ns {
		if (n.kind != Set && n.kind != Sort) || !n.pat.Matched(st[i]) {
			continue
		}
		if partial {
			// The order of a cut-off array depends on elements that were
			// never read: it cannot be compared as a set or sorted.
			return ignoredValue{}
		}
		if n.kind == Set {
			x = asSet(x, w.b)
		} else {
			sortByKey(x, n.key, w.b)
		}
	}
	if partial {
		return partialArray(x)
	}
	return x
}

func (w *walker) replace(s string, depth int) string {
	st := w.states(depth)
	for i, n := range w.ns {
		if n.kind == Replace && (n.allStrings || n.pat.Matched(st[i])) {
			s = n.re.ReplaceAllString(s, n.repl)
		}
	}
	return s
}

// asSet sorts elements by their canonical text and drops duplicates (the
// first of equal elements stays). Rendering the elements visits their
// nodes: b is charged for them.
func asSet(x []any, b *budget) []any {
	type keyed struct {
		k string
		i int
		v any
	}
	ks := make([]keyed, len(x))
	for i, e := range x {
		ks[i] = keyed{canonicalJSON(e, b), i, e}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return cmp.Or(strings.Compare(a.k, b.k), cmp.Compare(a.i, b.i)) })
	out := x[:0]
	for i, e := range ks {
		if i > 0 && e.k == ks[i-1].k {
			continue
		}
		out = append(out, e.v)
	}
	clear(x[len(out):])
	return out
}

// sortByKey orders elements by the value at key (numbers numerically,
// then strings, then other types), elements without the key last, ties
// broken by canonical text and then by position, so that the input order
// of unequal elements never matters.
func sortByKey(x []any, key []string, b *budget) {
	type keyed struct {
		rank  int // 0 null, 1 bool, 2 number, 3 string, 4 other, 5 missing
		num   float64
		str   string
		canon string
		i     int
		v     any
	}
	ks := make([]keyed, len(x))
	for i, e := range x {
		k := keyed{v: e, i: i, canon: canonicalJSON(e, b), rank: 5}
		if kv, ok := lookup(e, key); ok {
			switch t := kv.(type) {
			case nil:
				k.rank = 0
			case bool:
				k.rank = 1
				if t {
					k.num = 1
				}
			case json.Number:
				k.rank = 2
				k.num, _ = t.Float64()
			case tolNumber:
				k.rank = 2
				k.num, _ = t.n.Float64()
			case string:
				k.rank, k.str = 3, t
			default:
				k.rank, k.str = 4, canonicalJSON(t, b)
			}
		}
		ks[i] = k
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.num, b.num), strings.Compare(a.str, b.str),
			strings.Compare(a.canon, b.canon), cmp.Compare(a.i, b.i))
	})
	for i := range ks {
		x[i] = ks[i].v
	}
}

// lookup follows a dotted key path into nested objects; an empty path is
// the element itself.
func lookup(v any, key []string) (any, bool) {
	for _, k := range key {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}
