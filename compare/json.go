package compare

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	gocmp "github.com/google/go-cmp/cmp"
)

// isJSONType reports whether a Content-Type names JSON
// (application/json, anything+json).
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

// jsonEqual is a fast equality test on normalized trees with the same
// rules as the go-cmp diff; the diff runs only when it fails.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		return ok && arraysEqual(x, y)
	case partialArray:
		y, ok := b.(partialArray)
		return ok && arraysEqual(x, y)
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && numEqual(x, y)
	case tolNumber:
		y, ok := b.(tolNumber)
		return ok && tolEqual(x, y)
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	case ignoredValue:
		_, ok := b.(ignoredValue)
		return ok
	}
	return false
}

func arraysEqual(x, y []any) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !jsonEqual(x[i], y[i]) {
			return false
		}
	}
	return true
}

// cmpOptions teach go-cmp the diff's rules: numbers compare as exact
// decimals (or within a tolerance), and arrays compare index by index
// (go-cmp's own slice diff picks among equal-cost edit scripts at
// random, which would make field paths unstable between runs).
var cmpOptions = gocmp.Options{
	gocmp.Comparer(numEqual),
	gocmp.Comparer(tolEqual),
	gocmp.Transformer("index", func(a []any) map[int]any {
		m := make(map[int]any, len(a))
		for i, v := range a {
			m[i] = v
		}
		return m
	}),
}

// diffJSON lists the differences between two normalized trees. go-cmp is
// test-oriented and may panic on input it does not expect; a panic is
// returned as an error.
//
// Equal subtrees are pruned before go-cmp runs: locate walks both trees
// and descends only into children that differ, and hands go-cmp the
// frontier nodes (leaves, objects whose key sets differ, arrays whose
// lengths differ, type changes), with the path so far. go-cmp still
// decides and reports every difference; it just does not walk the parts
// of a body that are equal, which is most of it.
func diffJSON(a, b any) (diffs []Difference, fields []string, omitted int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("go-cmp panicked: %v", p)
		}
	}()
	r := &reporter{path: make([]byte, 1, 64), gen: make([]byte, 1, 64)}
	r.path[0], r.gen[0] = '$', '$'
	r.plain = gocmp.Reporter(r)
	r.opts = gocmp.Options{cmpOptions, r.plain}
	r.locate(a, b)
	slices.SortFunc(r.diffs, func(x, y Difference) int { return strings.Compare(x.Path, y.Path) })
	slices.Sort(r.fields)
	return r.diffs, r.fields, r.omitted, nil
}

// locate descends through the parts of two trees that have the same
// shape, and runs go-cmp where they differ.
func (r *reporter) locate(a, b any) {
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok && len(x) == len(y) && r.locateObject(x, y) {
			return
		}
	case []any:
		if y, ok := b.([]any); ok && len(x) == len(y) {
			r.locateArray(x, y)
			return
		}
	case partialArray:
		if y, ok := b.(partialArray); ok && len(x) == len(y) {
			r.locateArray(x, y)
			return
		}
	}
	// Through pointers, so that go-cmp sees the values as interfaces and
	// a JSON null (a nil interface) is a value, not a missing one.
	gocmp.Equal(&a, &b, r.optsFor(a, b))
}

// optsFor returns the go-cmp options for a frontier pair. Two numbers
// that locate found unequal are unequal as text too (numEqual holds for
// equal texts), so go-cmp compares them as strings, with no Comparer:
// go-cmp runs the first Comparer call of every Equal twice, the second
// time on a new goroutine, to check that it is symmetric, and that was
// a tenth of the time to judge a pair with one changed number.
func (r *reporter) optsFor(a, b any) gocmp.Option {
	if _, ok := a.(json.Number); ok {
		if _, ok := b.(json.Number); ok {
			return r.plain
		}
	}
	return r.opts
}

// locateObject descends into the members that differ of two objects of
// the same size, in key order (a stable order for the maxDifferences
// cut). It returns false, having done nothing, when their keys differ:
// go-cmp is to report the object as a whole.
func (r *reporter) locateObject(x, y map[string]any) bool {
	type kid struct {
		k    string
		x, y any
	}
	var buf [8]kid
	kids := buf[:0]
	for k, xv := range x {
		yv, ok := y[k]
		if !ok {
			return false
		}
		if !jsonEqual(xv, yv) {
			kids = append(kids, kid{k, xv, yv})
		}
	}
	slices.SortFunc(kids, func(a, b kid) int { return strings.Compare(a.k, b.k) })
	for _, c := range kids {
		pn, gn := len(r.path), len(r.gen)
		r.path, r.gen = appendKeyStep(r.path, c.k), appendKeyStep(r.gen, c.k)
		r.locate(c.x, c.y)
		r.path, r.gen = r.path[:pn], r.gen[:gn]
	}
	return true
}

func (r *reporter) locateArray(x, y []any) {
	for i := range x {
		if jsonEqual(x[i], y[i]) {
			continue
		}
		pn, gn := len(r.path), len(r.gen)
		r.path = append(strconv.AppendInt(append(r.path, '['), int64(i), 10), ']')
		r.gen = append(r.gen, "[*]"...)
		r.locate(x[i], y[i])
		r.path, r.gen = r.path[:pn], r.gen[:gn]
	}
}

// reporter is a go-cmp Reporter that records each difference with its
// field path ("$.items[2].price"), its kind and both values. The path
// starts with what locate has already walked.
type reporter struct {
	path, gen []byte       // concrete and generalized ("[*]") path
	opts      gocmp.Option // cmpOptions and the reporter itself
	plain     gocmp.Option // the reporter alone (see optsFor)
	stack     []frame
	diffs     []Difference
	fields    []string
	omitted   int
}

type frame struct {
	step        gocmp.PathStep
	pathN, genN int
}

// PushStep extends the path by one step.
func (r *reporter) PushStep(ps gocmp.PathStep) {
	r.stack = append(r.stack, frame{ps, len(r.path), len(r.gen)})
	if len(r.stack) == 1 {
		return // go-cmp's root: the node locate stopped at
	}
	mi, ok := ps.(gocmp.MapIndex)
	if !ok {
		return // type assertions and transforms are not part of the path
	}
	k := mi.Key()
	switch k.Kind() {
	case reflect.String:
		r.path = appendKeyStep(r.path, k.String())
		r.gen = appendKeyStep(r.gen, k.String())
	case reflect.Int:
		r.path = append(r.path, '[')
		r.path = strconv.AppendInt(r.path, k.Int(), 10)
		r.path = append(r.path, ']')
		r.gen = append(r.gen, "[*]"...)
	}
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

// PopStep removes the last step.
func (r *reporter) PopStep() {
	f := r.stack[len(r.stack)-1]
	r.stack = r.stack[:len(r.stack)-1]
	r.path, r.gen = r.path[:f.pathN], r.gen[:f.genN]
}

// Report records an unequal leaf.
func (r *reporter) Report(res gocmp.Result) {
	if res.Equal() {
		return
	}
	if !slices.Contains(r.fields, string(r.gen)) {
		r.fields = append(r.fields, string(r.gen))
	}
	if len(r.diffs) >= maxDifferences {
		r.omitted++
		return
	}
	vx, vy := r.stack[len(r.stack)-1].step.Values()
	d := Difference{Path: string(r.path), field: string(r.gen)}
	switch {
	case !vx.IsValid():
		d.Kind, d.Candidate = Added, display(vy.Interface())
	case !vy.IsValid():
		d.Kind, d.Primary = Removed, display(vx.Interface())
	default:
		x, y := vx.Interface(), vy.Interface()
		d.Kind = Changed
		if jsonType(x) != jsonType(y) {
			d.Kind = TypeChanged
		}
		d.Primary, d.Candidate = display(x), display(y)
	}
	r.diffs = append(r.diffs, d)
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, tolNumber:
		return "number"
	case string:
		return "string"
	case map[string]any:
		return "object"
	case []any, partialArray, map[int]any:
		return "array"
	case ignoredValue:
		return "ignored"
	}
	return fmt.Sprintf("%T", v)
}
