package compare

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"testing"

	gocmp "github.com/google/go-cmp/cmp"
)

// The JSON format's diff (pruning, then go-cmp once on what differs; see
// jsoncmp.go) is checked against the diff the engine used before: this
// file keeps it, go-cmp called on every frontier subtree whole with
// equality tests of its own, and TestJSONDiffMatchesGoCmp and
// FuzzJSONDiffMatchesGoCmp require both to report the same differences,
// fields and omissions on the same normalized trees. It is the reference,
// not the fast path: it is quadratic in the differing fields and calls
// go-cmp once per differing node.

// oracleEqual is a fast equality test on normalized trees with the same
// rules as the go-cmp diff; the diff runs only when it fails.
func oracleEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !oracleEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		return ok && oracleArraysEqual(x, y)
	case partialArray:
		y, ok := b.(partialArray)
		return ok && oracleArraysEqual(x, y)
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

func oracleArraysEqual(x, y []any) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !oracleEqual(x[i], y[i]) {
			return false
		}
	}
	return true
}

// oracleOptions teach go-cmp the diff's rules: numbers compare as exact
// decimals (or within a tolerance), and arrays compare index by index
// (go-cmp's own slice diff picks among equal-cost edit scripts at
// random, which would make field paths unstable between runs).
var oracleOptions = gocmp.Options{
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

// gocmpDiff lists the differences between two normalized trees. go-cmp is
// test-oriented and may panic on input it does not expect; a panic is
// returned as an error.
//
// Equal subtrees are pruned before go-cmp runs: locate walks both trees
// and descends only into children that differ, and hands go-cmp the
// frontier nodes (leaves, objects whose key sets differ, arrays whose
// lengths differ, type changes), with the path so far. go-cmp still
// decides and reports every difference; it just does not walk the parts
// of a body that are equal, which is most of it.
func gocmpDiff(a, b any) (diffs []Difference, fields []string, omitted int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("go-cmp panicked: %v", p)
		}
	}()
	if oracleEqual(a, b) {
		// As the engine's diffTrees did before calling it: oLocate hands
		// two root numbers to go-cmp as text ("0e00" against "0").
		return nil, nil, 0, nil
	}
	r := &oracleReporter{path: make([]byte, 1, 64), gen: make([]byte, 1, 64)}
	r.path[0], r.gen[0] = '$', '$'
	r.plain = gocmp.Reporter(r)
	r.opts = gocmp.Options{oracleOptions, r.plain}
	r.oLocate(a, b)
	slices.SortFunc(r.diffs, func(x, y Difference) int { return strings.Compare(x.Path, y.Path) })
	slices.Sort(r.fields)
	return r.diffs, r.fields, r.omitted, nil
}

// locate descends through the parts of two trees that have the same
// shape, and runs go-cmp where they differ.
func (r *oracleReporter) oLocate(a, b any) {
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok && len(x) == len(y) && r.oLocateObject(x, y) {
			return
		}
	case []any:
		if y, ok := b.([]any); ok && len(x) == len(y) {
			r.oLocateArray(x, y)
			return
		}
	case partialArray:
		if y, ok := b.(partialArray); ok && len(x) == len(y) {
			r.oLocateArray(x, y)
			return
		}
	}
	// Through pointers, so that go-cmp sees the values as interfaces and
	// a JSON null (a nil interface) is a value, not a missing one.
	gocmp.Equal(&a, &b, r.oOptsFor(a, b))
}

// oOptsFor returns the go-cmp options for a frontier pair. Two numbers
// that locate found unequal are unequal as text too (numEqual holds for
// equal texts), so go-cmp compares them as strings, with no Comparer:
// go-cmp runs the first Comparer call of every Equal twice, the second
// time on a new goroutine, to check that it is symmetric, and that was
// a tenth of the time to judge a pair with one changed number.
func (r *oracleReporter) oOptsFor(a, b any) gocmp.Option {
	if _, ok := a.(json.Number); ok {
		if _, ok := b.(json.Number); ok {
			return r.plain
		}
	}
	return r.opts
}

// oLocateObject descends into the members that differ of two objects of
// the same size, in key order (a stable order for the maxDifferences
// cut). It returns false, having done nothing, when their keys differ:
// go-cmp is to report the object as a whole.
func (r *oracleReporter) oLocateObject(x, y map[string]any) bool {
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
		if !oracleEqual(xv, yv) {
			kids = append(kids, kid{k, xv, yv})
		}
	}
	slices.SortFunc(kids, func(a, b kid) int { return strings.Compare(a.k, b.k) })
	for _, c := range kids {
		pn, gn := len(r.path), len(r.gen)
		r.path, r.gen = appendKeyStep(r.path, c.k), appendKeyStep(r.gen, c.k)
		r.oLocate(c.x, c.y)
		r.path, r.gen = r.path[:pn], r.gen[:gn]
	}
	return true
}

func (r *oracleReporter) oLocateArray(x, y []any) {
	for i := range x {
		if oracleEqual(x[i], y[i]) {
			continue
		}
		pn, gn := len(r.path), len(r.gen)
		r.path = append(strconv.AppendInt(append(r.path, '['), int64(i), 10), ']')
		r.gen = append(r.gen, "[*]"...)
		r.oLocate(x[i], y[i])
		r.path, r.gen = r.path[:pn], r.gen[:gn]
	}
}

// oracleReporter is a go-cmp Reporter that records each difference with its
// field path ("$.items[2].price"), its kind and both values. The path
// starts with what locate has already walked.
type oracleReporter struct {
	path, gen []byte       // concrete and generalized ("[*]") path
	opts      gocmp.Option // oracleOptions and the oracleReporter itself
	plain     gocmp.Option // the oracleReporter alone (see oOptsFor)
	stack     []oracleFrame
	diffs     []Difference
	fields    []string
	omitted   int
}

type oracleFrame struct {
	step        gocmp.PathStep
	pathN, genN int
}

// PushStep extends the path by one step.
func (r *oracleReporter) PushStep(ps gocmp.PathStep) {
	r.stack = append(r.stack, oracleFrame{ps, len(r.path), len(r.gen)})
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

// PopStep removes the last step.
func (r *oracleReporter) PopStep() {
	f := r.stack[len(r.stack)-1]
	r.stack = r.stack[:len(r.stack)-1]
	r.path, r.gen = r.path[:f.pathN], r.gen[:f.genN]
}

// Report records an unequal leaf.
func (r *oracleReporter) Report(res gocmp.Result) {
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
		d.Kind, d.Candidate = Added, oracleDisplay(vy.Interface())
	case !vy.IsValid():
		d.Kind, d.Primary = Removed, oracleDisplay(vx.Interface())
	default:
		x, y := vx.Interface(), vy.Interface()
		d.Kind = Changed
		if jsonType(x) != jsonType(y) {
			d.Kind = TypeChanged
		}
		d.Primary, d.Candidate = oracleDisplay(x), oracleDisplay(y)
	}
	r.diffs = append(r.diffs, d)
}

// oracleDisplay is display for the values go-cmp reports, which include
// the maps its index transformer makes of arrays.
func oracleDisplay(v any) string {
	if m, ok := v.(map[int]any); ok {
		arr := make([]any, len(m))
		for i := range arr {
			arr[i] = m[i]
		}
		v = arr
	}
	return display(v)
}

// walkAndGoCmp diffs two trees with the JSON format's walk and with the
// go-cmp reference, and fails the test where they disagree.
func walkAndGoCmp(t *testing.T, a, b any) {
	t.Helper()
	got := diffDocs(jsonFormat{}, a, b)
	diffs, fields, omitted, err := gocmpDiff(a, b)
	if err != nil {
		t.Fatalf("go-cmp: %v", err)
	}
	type full struct {
		Path, Primary, Candidate, Field string
		Kind                            Kind
	}
	flat := func(ds []Difference) []full {
		out := []full{}
		for _, d := range ds {
			out = append(out, full{d.Path, d.Primary, d.Candidate, d.Field(), d.Kind})
		}
		return out
	}
	if diff := gocmp.Diff(flat(diffs), flat(got.diffs)); diff != "" {
		t.Errorf("differences (-go-cmp +walk):\n%s", diff)
	}
	if fields == nil {
		fields = []string{}
	}
	if got.fields == nil {
		got.fields = []string{}
	}
	if diff := gocmp.Diff(fields, got.fields); diff != "" {
		t.Errorf("fields (-go-cmp +walk):\n%s", diff)
	}
	if omitted != got.omitted {
		t.Errorf("omitted: go-cmp %d, walk %d", omitted, got.omitted)
	}
}

// normalizedTree decodes a body and applies the normalizers to it.
func normalizedTree(t testing.TB, body string, ns []Normalizer) any {
	t.Helper()
	v, ok := decodeJSON([]byte(body))
	if !ok {
		t.Fatalf("not JSON: %s", body)
	}
	compiled, err := compileNormalizers(ns)
	if err != nil {
		t.Fatal(err)
	}
	b := newBudget(Budget{}.withDefaults())
	return jsonFormat{}.normalize(v, compiled, &b)
}

func TestJSONDiffMatchesGoCmp(t *testing.T) {
	t.Parallel()
	norms := []Normalizer{
		{Kind: Set, Path: "$.tags"},
		{Kind: Sort, Path: "$.items", Key: "sku"},
		{Kind: Tolerance, Path: "$..price", Tolerance: 0.05},
		{Kind: Ignore, Path: "$.items[1]"},
		{Kind: Ignore, Path: "$.meta"},
		{Kind: Replace, Path: "$..eta", Builtin: "date"},
	}
	cases := [][2]string{
		{`{"tags":["b","a","a"],"items":[{"sku":"B","price":1.00},{"sku":"A","price":2}]}`,
			`{"tags":["a","c"],"items":[{"sku":"A","price":2.04},{"sku":"B","price":1.2},{"sku":"C"}]}`},
		{`{"meta":{"x":1},"items":[1,2,3],"eta":"2024-05-01"}`, `{"items":[1,"2",3,4],"eta":"2024-06-01","meta":null}`},
		{`{"a":{"b":{"c":[null,true,{"d":1e2}]}}}`, `{"a":{"b":{"c":[null,false,{"d":100,"e":[]}]}}}`},
		{`[1,[2,[3,[4]]]]`, `[1,[2,[3,[5],6]]]`},
		{`{"price":1}`, `["price",1]`},
		{`{}`, `{"a":{}}`},
	}
	// More differences than a Result keeps: which are kept depends on the
	// order of the walk.
	var wa, wb strings.Builder
	for i := range 300 {
		fmt.Fprintf(&wa, `,"k%03d":{"v":%d}`, (i*7)%300, i)
		fmt.Fprintf(&wb, `,"k%03d":{"v":"%d"}`, (i*7)%300, i)
	}
	cases = append(cases, [2]string{"{" + wa.String()[1:] + "}", "{" + wb.String()[1:] + "}"})
	for i, p := range randomPairs(7, 500) {
		cases = append(cases, [2]string{string(p[0]), string(p[1])})
		if i%50 == 0 {
			cases = append(cases, [2]string{string(p[1]), string(p[0])})
		}
	}
	for _, ns := range [][]Normalizer{nil, norms} {
		for _, c := range cases {
			a, b := normalizedTree(t, c[0], ns), normalizedTree(t, c[1], ns)
			walkAndGoCmp(t, a, b)
			if t.Failed() {
				t.Fatalf("on\n%s\n%s\nwith %v", c[0], c[1], ns)
			}
		}
	}
	// Trees trimmed from bodies cut off by the proxy hold partial arrays.
	full := `{"items":[{"sku":"A","price":1.5},{"sku":"B","price":2.25}],"total":3.75}`
	x, _ := decodePartial([]byte(full[:40]), true)
	y, _ := decodePartial([]byte(strings.Replace(full, "1.5", "1.6", 1)), false)
	a, b := trim(x, y)
	walkAndGoCmp(t, a, b)
}

// FuzzJSONDiffMatchesGoCmp: on any two JSON bodies, the walk and go-cmp
// find the same differences.
func FuzzJSONDiffMatchesGoCmp(f *testing.F) {
	seeds := fuzzSeeds(f)
	for _, a := range seeds {
		for _, b := range seeds[:4] {
			f.Add(a, b)
		}
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		x, okA := decodeJSON(a)
		y, okB := decodeJSON(b)
		if !okA || !okB {
			t.Skip("not JSON")
		}
		walkAndGoCmp(t, x, y)
	})
}
