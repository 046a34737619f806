package compare

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	gocmp "github.com/google/go-cmp/cmp"
)

// Two normalized JSON trees are diffed in two passes:
//
//  1. Pruning (jsonDiffer.prune) walks both trees together, each node at
//     most once, members in key order, and leaves out every member and
//     element that is equal. What differs it copies into a skeleton of
//     each tree: two objects become two objects (map[string]any) of the
//     members that differ, a member only one side has on that side only;
//     two arrays of the same kind become two objects keyed by index
//     (map[int]any) of the elements that differ; anything else (two
//     leaves, or values of different types) stays as it is. Most pairs
//     end here, equal, with nothing built. Pruning charges the budget for
//     the nodes it visits and the differences it finds, and stops where
//     the budget ends: what is cut is always the same.
//  2. go-cmp compares the two skeletons, once per pair that differs, and
//     reports every difference it finds to the differ, a go-cmp Reporter:
//     its path ("$.items[2].price", from go-cmp's map keys), its kind and
//     both values. It walks only what differs, in key order, so the
//     differences come in the order pruning found them, and its work is
//     bounded by the budget pruning spent.
//
// go-cmp is a test library and panics on what it cannot handle; a panic,
// or go-cmp and pruning disagreeing on the number of differences, makes
// the pair one difference at "body" that says the diff failed, never a
// crash.

// diff prunes both trees to what differs and has go-cmp report it.
func (jsonFormat) diff(a, b any, c *collector) {
	d := jsonDiffers.Get().(*jsonDiffer)
	defer d.release()
	d.c = c
	if !c.visit(2) {
		return
	}
	if x, y, differ := d.prune(a, b); differ {
		d.compare(a, b, x, y)
	}
}

// jsonDiffers keeps the differs and their scratch between diffs.
var jsonDiffers = sync.Pool{New: func() any {
	d := new(jsonDiffer)
	d.opts = gocmp.Options{gocmpOptions, gocmp.Reporter(d)}
	return d
}}

// gocmpOptions teach go-cmp the one rule of the diff it cannot know:
// numbers with a tolerance (tolNumber) compare within it.
//
// Numbers without one have no Comparer, on purpose, and this is the one
// place that works around go-cmp's symmetry check: go-cmp calls the
// first Comparer of every Equal twice, the second time with the
// arguments swapped on a new goroutine, and a Comparer for numbers made
// judging a pair with one changed number cost 13-25% more CPU. The numbers
// go-cmp sees are unequal by value (pruning leaves out equal ones, and
// numEqual holds for equal texts), so they are unequal as text too, and
// go-cmp's own comparison of their text decides them as numEqual would.
// Only pairs with a changed toleranced number pay for the check.
var gocmpOptions = gocmp.Comparer(tolEqual)

// jsonDiffer prunes two normalized trees (see prune) and is the go-cmp
// Reporter of their skeletons. The path to the current node is kept as
// steps and rendered only for a difference.
type jsonDiffer struct {
	c         *collector
	kids      []jsonKid  // members of the objects being pruned, a stack
	steps     []jsonStep // from the root to the node go-cmp is at
	frames    []gocmp.PathStep
	path, gen []byte // scratch for rendering paths and values

	// Skeleton objects, reused between diffs; the first nObjs and nArrs
	// are in use.
	objs         []map[string]any
	arrs         []map[int]any
	nObjs, nArrs int

	opts             gocmp.Option // gocmpOptions and the differ as Reporter
	pruned, reported int          // differences found by each pass
	err              error        // why go-cmp failed, if it did
}

// jsonStep is one step of a path: an object key or an array index.
type jsonStep struct {
	key   string
	index int // -1 for a key
}

// jsonKid is a member of an object being pruned. x or y is absent for a
// member only one side has.
type jsonKid struct {
	key    string
	x, y   any
	hx, hy bool // the side has the member
}

// Skeleton objects of up to maxReusedLen members, up to maxReused of
// each type, and room for maxReusedKids members are kept for the next
// diff.
const maxReusedLen, maxReused, maxReusedKids = 64, 64, 4096

// release returns the differ to the pool, holding nothing of the trees.
func (d *jsonDiffer) release() {
	d.objs, d.nObjs = reuse(d.objs, d.nObjs)
	d.arrs, d.nArrs = reuse(d.arrs, d.nArrs)
	// Pruning and PopStep clear what they pop: only the capacity of a
	// wide object's members is worth dropping.
	if cap(d.kids) > maxReusedKids {
		d.kids = nil
	}
	d.kids, d.steps, d.frames = d.kids[:0], d.steps[:0], d.frames[:0]
	d.c, d.err = nil, nil
	d.pruned, d.reported = 0, 0
	jsonDiffers.Put(d)
}

// reuse empties the first n maps of ms, dropping large ones, and keeps
// at most maxReused.
func reuse[K comparable](ms []map[K]any, n int) ([]map[K]any, int) {
	kept := ms[:0]
	for i, m := range ms {
		if (i < n && len(m) > maxReusedLen) || len(kept) == maxReused {
			continue
		}
		clear(m)
		kept = append(kept, m)
	}
	clear(ms[len(kept):])
	return kept, 0
}

// newObject returns an empty skeleton object.
func (d *jsonDiffer) newObject() map[string]any {
	if d.nObjs == len(d.objs) {
		d.objs = append(d.objs, make(map[string]any))
	}
	d.nObjs++
	return d.objs[d.nObjs-1]
}

// newArray returns an empty skeleton array.
func (d *jsonDiffer) newArray() map[int]any {
	if d.nArrs == len(d.arrs) {
		d.arrs = append(d.arrs, make(map[int]any))
	}
	d.nArrs++
	return d.arrs[d.nArrs-1]
}

// prune returns the skeletons of two values and whether they differ.
func (d *jsonDiffer) prune(a, b any) (x, y any, differ bool) {
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			return d.pruneObject(x, y)
		}
	case []any:
		if y, ok := b.([]any); ok {
			return d.pruneArray(x, y)
		}
	case partialArray:
		if y, ok := b.(partialArray); ok {
			return d.pruneArray(x, y)
		}
	default:
		if leafEqual(a, b) {
			return nil, nil, false
		}
	}
	return a, b, d.found()
}

// found charges one difference, reporting false once the budget is
// spent.
func (d *jsonDiffer) found() bool {
	if !d.c.found() {
		return false
	}
	d.pruned++
	return true
}

// pruneObject prunes two objects member by member, in key order.
func (d *jsonDiffer) pruneObject(x, y map[string]any) (any, any, bool) {
	if !d.c.visit(len(x) + len(y)) {
		return nil, nil, false
	}
	base, common := len(d.kids), 0
	for k, xv := range x {
		yv, ok := y[k]
		if ok {
			common++
			if leafEqual(xv, yv) {
				continue
			}
		}
		d.kids = append(d.kids, jsonKid{key: k, x: xv, y: yv, hx: true, hy: ok})
	}
	if common < len(y) {
		for k, yv := range y {
			if _, ok := x[k]; !ok {
				d.kids = append(d.kids, jsonKid{key: k, y: yv, hy: true})
			}
		}
	}
	end := len(d.kids)
	if end-base > 1 {
		slices.SortFunc(d.kids[base:end], func(a, b jsonKid) int { return strings.Compare(a.key, b.key) })
	}
	var sx, sy map[string]any
	for i := base; i < end && !d.c.spent; i++ {
		k := d.kids[i]
		var kx, ky any
		differ := false
		switch {
		case !k.hy:
			kx, differ = k.x, d.found()
		case !k.hx:
			ky, differ = k.y, d.found()
		default:
			kx, ky, differ = d.prune(k.x, k.y)
		}
		if !differ {
			continue
		}
		if sx == nil {
			sx, sy = d.newObject(), d.newObject()
		}
		if k.hx {
			sx[k.key] = kx
		}
		if k.hy {
			sy[k.key] = ky
		}
	}
	clear(d.kids[base:end])
	d.kids = d.kids[:base]
	return sx, sy, sx != nil
}

// pruneArray prunes two arrays index by index.
func (d *jsonDiffer) pruneArray(x, y []any) (any, any, bool) {
	if !d.c.visit(len(x) + len(y)) {
		return nil, nil, false
	}
	var sx, sy map[int]any
	n := min(len(x), len(y))
	for i := 0; i < max(len(x), len(y)) && !d.c.spent; i++ {
		if i < n && leafEqual(x[i], y[i]) {
			continue
		}
		var ex, ey any
		differ := false
		switch {
		case i >= len(y):
			ex, differ = x[i], d.found()
		case i >= len(x):
			ey, differ = y[i], d.found()
		default:
			ex, ey, differ = d.prune(x[i], y[i])
		}
		if !differ {
			continue
		}
		if sx == nil {
			sx, sy = d.newArray(), d.newArray()
		}
		if i < len(x) {
			sx[i] = ex
		}
		if i < len(y) {
			sy[i] = ey
		}
	}
	return sx, sy, sx != nil
}

// node diffs two values at the current path (d.steps), as diff does two
// roots: for a caller that walks part of the trees itself (the protobuf
// format's wire diff) and leaves the rest to the JSON diff.
func (d *jsonDiffer) node(a, b any) {
	if x, y, differ := d.prune(a, b); differ {
		d.err = nil
		d.compare(a, b, x, y)
	}
}

// compare has go-cmp compare the skeletons x and y of the trees a and b,
// reporting every difference to the collector. If go-cmp fails, what it
// reported is taken back and the pair is one difference at "body".
func (d *jsonDiffer) compare(a, b, x, y any) {
	c := d.c
	diffs, fields, omitted := len(c.diffs), len(c.fields), c.omitted
	d.gocmp(x, y)
	if d.err == nil && d.reported != d.pruned {
		d.err = fmt.Errorf("go-cmp found %d differences where pruning found %d", d.reported, d.pruned)
	}
	if d.err == nil {
		return
	}
	c.diffs, c.fields, c.omitted = c.diffs[:diffs], c.fields[:fields], omitted
	c.record(Difference{Path: bodyPath, Kind: Changed, Primary: display(a), Candidate: display(b),
		Detail: "structural diff failed: " + d.err.Error()}, bodyPath)
}

// gocmp runs go-cmp on two skeletons, turning a panic into d.err.
func (d *jsonDiffer) gocmp(x, y any) {
	defer func() {
		if p := recover(); p != nil {
			d.err = fmt.Errorf("go-cmp panicked: %v", p)
		}
	}()
	// Two objects or two arrays can only be skeletons (pruning leaves no
	// two originals of one type), and go to go-cmp as they are; anything
	// else through pointers, so that go-cmp sees the roots as interfaces
	// and a JSON null (a nil interface) is a value, not a missing one.
	_, objects := x.(map[string]any)
	_, arrays := x.(map[int]any)
	if (objects || arrays) && reflect.TypeOf(x) == reflect.TypeOf(y) {
		gocmp.Equal(x, y, d.opts)
		return
	}
	gocmp.Equal(&x, &y, d.opts)
}

// PushStep extends the path by one step. Only map indexes are steps of a
// JSON path: go-cmp's root, the pointers around it and its type
// assertions are not.
func (d *jsonDiffer) PushStep(ps gocmp.PathStep) {
	d.frames = append(d.frames, ps)
	mi, ok := ps.(gocmp.MapIndex)
	if !ok {
		return
	}
	switch k := mi.Key(); k.Kind() {
	case reflect.Int: // an array index
		d.steps = append(d.steps, jsonStep{index: int(k.Int())})
	default:
		d.steps = append(d.steps, jsonStep{key: k.String(), index: -1})
	}
}

// PopStep removes the last step.
func (d *jsonDiffer) PopStep() {
	if _, ok := d.frames[len(d.frames)-1].(gocmp.MapIndex); ok {
		d.steps[len(d.steps)-1] = jsonStep{} // a key of the body: hold none
		d.steps = d.steps[:len(d.steps)-1]
	}
	d.frames[len(d.frames)-1] = nil
	d.frames = d.frames[:len(d.frames)-1]
}

// Report records a difference go-cmp found at the current path.
func (d *jsonDiffer) Report(r gocmp.Result) {
	if r.Equal() {
		return
	}
	d.reported++
	// The values as the interfaces that hold them (a map index, or the
	// root through its pointer), not as go-cmp's type assertion of them:
	// taking those back as interfaces would copy them.
	i := len(d.frames) - 1
	if _, ok := d.frames[i].(gocmp.TypeAssertion); ok {
		i--
	}
	vx, vy := d.frames[i].Values()
	switch {
	case !vx.IsValid():
		d.record(Added, nil, vy.Interface())
	case !vy.IsValid():
		d.record(Removed, vx.Interface(), nil)
	default:
		x, y := vx.Interface(), vy.Interface()
		kind := Changed
		if jsonType(x) != jsonType(y) {
			kind = TypeChanged
		}
		d.record(kind, x, y)
	}
}

// record adds a difference at the current path to the collector. Past
// the differences a Result keeps, only its field is made.
func (d *jsonDiffer) record(kind Kind, x, y any) {
	d.gen = append(d.gen[:0], '$')
	keep := d.c.keeping()
	if keep {
		d.path = append(d.path[:0], '$')
	}
	for _, s := range d.steps {
		switch {
		case s.index >= 0:
			d.gen = append(d.gen, "[*]"...)
			if keep {
				d.path = append(strconv.AppendInt(append(d.path, '['), int64(s.index), 10), ']')
			}
		default:
			d.gen = appendKeyStep(d.gen, s.key)
			if keep {
				d.path = appendKeyStep(d.path, s.key)
			}
		}
	}
	var diff Difference
	if keep {
		diff = Difference{Path: string(d.path), Kind: kind}
		if kind != Added {
			d.path = appendDisplay(d.path[:0], x)
			diff.Primary = string(d.path)
		}
		if kind != Removed {
			d.path = appendDisplay(d.path[:0], y)
			diff.Candidate = string(d.path)
		}
	}
	d.c.record(diff, string(d.gen))
}
