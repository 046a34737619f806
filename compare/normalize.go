package compare

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// BuiltinPatterns are the named regular expressions a Replace normalizer
// can use through Normalizer.Builtin. Each match is replaced by
// "<name>" unless Replacement says otherwise.
var BuiltinPatterns = map[string]string{
	// uuid: 123e4567-e89b-12d3-a456-426614174000, any version.
	"uuid": `(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`,
	// rfc3339: 2024-05-01T12:34:56Z, with fractions and offsets.
	"rfc3339": `\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?`,
	// date: 2024-05-01.
	"date": `\b\d{4}-\d{2}-\d{2}\b`,
	// ipv4: 10.0.0.1.
	"ipv4": `\b(\d{1,3}\.){3}\d{1,3}\b`,
	// hex: 16 or more hex digits (hashes, trace ids, object ids).
	"hex": `(?i)\b[0-9a-f]{16,}\b`,
	// jwt: three base64url parts starting with eyJ.
	"jwt": `\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`,
	// epoch: Unix times in seconds or milliseconds (10 or 13 digits).
	"epoch": `\b\d{10}(\d{3})?\b`,
}

func builtinNames() []string {
	names := make([]string, 0, len(BuiltinPatterns))
	for n := range BuiltinPatterns {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// bodyPath names a non-JSON body in differences and normalizer paths.
const bodyPath = "body"

// ignoredValue stands in for an array element an Ignore normalizer
// removed, so that the remaining elements keep their indexes.
type ignoredValue struct{}

// tolNumber is a number compared with a tolerance.
type tolNumber struct {
	n        json.Number
	abs, rel float64
}

func tolEqual(a, b tolNumber) bool {
	if numEqual(a.n, b.n) {
		return true
	}
	fa, errA := a.n.Float64()
	fb, errB := b.n.Float64()
	if errA != nil || errB != nil {
		return false
	}
	d := math.Abs(fa - fb)
	abs, rel := max(a.abs, b.abs), max(a.rel, b.rel)
	return d <= abs || d <= rel*math.Max(math.Abs(fa), math.Abs(fb))
}

// normalizer is a compiled Normalizer.
type normalizer struct {
	kind   NormalizerKind
	pat    pattern
	method string // route filter; empty for any
	route  string // route filter; empty for any

	// replace
	re         *regexp.Regexp
	repl       string
	allStrings bool   // empty Path: every JSON string and text bodies
	textBody   bool   // applies to non-JSON text bodies
	header     string // canonical header name or "*"; "" when not a header normalizer

	key      []string // sort
	abs, rel float64  // tolerance

	xpat xpattern     // an XML path; nil otherwise
	fpat *formPattern // a form path; nil otherwise
}

func compileNormalizer(n Normalizer) (*normalizer, error) {
	c := &normalizer{kind: n.Kind, abs: n.Tolerance, rel: n.Relative}
	if n.Route != "" {
		m, r, err := parseRouteFilter(n.Route)
		if err != nil {
			return nil, err
		}
		c.method, c.route = m, r
	}
	if n.Key != "" {
		c.key = strings.Split(n.Key, ".")
	}
	if n.Kind == Replace {
		expr := n.Pattern
		c.repl = n.Replacement
		if n.Builtin != "" {
			expr = BuiltinPatterns[n.Builtin]
			if c.repl == "" {
				c.repl = "<" + n.Builtin + ">"
			}
		}
		if c.repl == "" {
			c.repl = "<replaced>"
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, err
		}
		c.re = re
		switch {
		case n.Path == "":
			c.allStrings, c.textBody = true, true
			return c, nil
		case n.Path == bodyPath:
			c.textBody = true
			return c, nil
		case isHeaderPath(n.Path):
			name := strings.TrimPrefix(n.Path, "header.")
			if name != "*" {
				name = http.CanonicalHeaderKey(name)
			}
			c.header = name
			return c, nil
		}
	}
	switch {
	case strings.HasPrefix(n.Path, "/"):
		p, err := parseXPattern(n.Path)
		if err != nil {
			return nil, err
		}
		c.xpat = p
	case isFormPath(n.Path):
		p, err := parseFormPattern(n.Path)
		if err != nil {
			return nil, err
		}
		c.fpat = &p
	default:
		p, err := parsePattern(n.Path)
		if err != nil {
			return nil, err
		}
		c.pat = p
	}
	return c, nil
}

// scalar is a text value of an XML or form body (element text, attribute
// or form value) as normalized: tol is the Tolerance normalizer that
// applies to it, if any.
type scalar struct {
	s   string
	tol *normalizer
}

// rewrite applies a Replace or Tolerance normalizer to a value it
// matched; other kinds do not rewrite values.
func (n *normalizer) rewrite(v scalar, matched bool) scalar {
	if !matched {
		return v
	}
	switch n.kind {
	case Replace:
		v.s = n.re.ReplaceAllString(v.s, n.repl)
	case Tolerance:
		v.tol = n
	}
	return v
}

// scalarEqual compares two values as text, or as numbers within a
// tolerance when a Tolerance normalizer applies to either and both are
// numbers.
func scalarEqual(a, b scalar) bool {
	if a.s == b.s {
		return true
	}
	if a.tol == nil && b.tol == nil {
		return false
	}
	x, y := strings.TrimSpace(a.s), strings.TrimSpace(b.s)
	if _, ok := parseDecimal(x); !ok {
		return false
	}
	if _, ok := parseDecimal(y); !ok {
		return false
	}
	tx, ty := tolNumber{n: json.Number(x)}, tolNumber{n: json.Number(y)}
	for _, t := range []*normalizer{a.tol, b.tol} {
		if t != nil {
			tx.abs, tx.rel = max(tx.abs, t.abs), max(tx.rel, t.rel)
		}
	}
	return tolEqual(tx, ty)
}

// appliesTo reports whether the route filter admits an endpoint.
func (n *normalizer) appliesTo(ep Endpoint) bool {
	return (n.route == "" || n.route == ep.Route) && (n.method == "" || n.method == ep.Method)
}

// walker applies the JSON normalizers of one exchange to a decoded tree,
// in place. A walker is used by one goroutine at a time.
type walker struct {
	ns      []*normalizer // JSON normalizers (pattern or allStrings)
	anyAll  bool          // some normalizer applies to every string
	scratch [][]uint64    // position sets per depth, reused
}

// newWalker returns nil when no JSON normalizer applies.
func newWalker(ns []*normalizer) *walker {
	w := &walker{}
	for _, n := range ns {
		if n.pat == nil && !n.allStrings {
			continue
		}
		w.ns = append(w.ns, n)
		w.anyAll = w.anyAll || n.allStrings
	}
	if len(w.ns) == 0 {
		return nil
	}
	return w
}

// normalize rewrites a decoded body. The result replaces the input.
func (w *walker) normalize(v any) any {
	if w == nil {
		return v
	}
	st := w.states(0)
	for i, n := range w.ns {
		st[i] = 0
		if n.pat != nil {
			st[i] = n.pat.start()
		}
	}
	switch out, act := w.walk(v, 0); act {
	case drop:
		return ignoredValue{}
	case replaced:
		return out
	}
	return v
}

// action says what walk did to a node.
type action uint8

const (
	kept     action = iota // unchanged (containers may be changed inside)
	replaced               // use the returned value instead
	drop                   // an Ignore normalizer removes it
)

func (w *walker) states(depth int) []uint64 {
	for len(w.scratch) <= depth {
		w.scratch = append(w.scratch, make([]uint64, len(w.ns)))
	}
	return w.scratch[depth]
}

// advance computes the children's position sets at depth+1 and reports
// whether any normalizer can still apply below.
func (w *walker) advance(depth int, key string, index int, isIndex bool) bool {
	cur, next := w.states(depth), w.states(depth+1)
	alive := w.anyAll
	for i, n := range w.ns {
		next[i] = 0
		if n.pat != nil && cur[i] != 0 {
			next[i] = n.pat.step(cur[i], key, index, isIndex)
			alive = alive || next[i] != 0
		}
	}
	return alive
}

func (w *walker) matches(depth int, kind NormalizerKind) bool {
	st := w.states(depth)
	for i, n := range w.ns {
		if n.kind == kind && n.pat != nil && n.pat.matched(st[i]) {
			return true
		}
	}
	return false
}

// walk normalizes the node whose position sets are at depth. Objects
// and arrays are changed in place; only what changed is written back, so
// untouched values are not re-boxed.
func (w *walker) walk(v any, depth int) (any, action) {
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
			if n.kind == Tolerance && n.pat.matched(st[i]) {
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
		if (n.kind != Set && n.kind != Sort) || !n.pat.matched(st[i]) {
			continue
		}
		if partial {
			// The order of a cut-off array depends on elements that were
			// never read: it cannot be compared as a set or sorted.
			return ignoredValue{}
		}
		if n.kind == Set {
			x = asSet(x)
		} else {
			sortByKey(x, n.key)
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
		if n.kind == Replace && (n.allStrings || n.pat.matched(st[i])) {
			s = n.re.ReplaceAllString(s, n.repl)
		}
	}
	return s
}

// asSet sorts elements by their canonical text and drops duplicates.
func asSet(x []any) []any {
	type keyed struct {
		k string
		v any
	}
	ks := make([]keyed, len(x))
	for i, e := range x {
		ks[i] = keyed{canonicalJSON(e), e}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return strings.Compare(a.k, b.k) })
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
// broken by canonical text so that the input order never matters.
func sortByKey(x []any, key []string) {
	type keyed struct {
		rank  int // 0 null, 1 bool, 2 number, 3 string, 4 other, 5 missing
		num   float64
		str   string
		canon string
		v     any
	}
	ks := make([]keyed, len(x))
	for i, e := range x {
		k := keyed{v: e, canon: canonicalJSON(e), rank: 5}
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
				k.rank, k.str = 4, canonicalJSON(t)
			}
		}
		ks[i] = k
	}
	sort.SliceStable(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if c := cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.num, b.num), strings.Compare(a.str, b.str)); c != 0 {
			return c < 0
		}
		return a.canon < b.canon
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

// textRewriter returns a function applying the text-body Replace
// normalizers, or nil when there are none.
func textRewriter(ns []*normalizer) func(string) string {
	var rs []*normalizer
	for _, n := range ns {
		if n.kind == Replace && n.textBody {
			rs = append(rs, n)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	return func(s string) string {
		for _, n := range rs {
			s = n.re.ReplaceAllString(s, n.repl)
		}
		return s
	}
}

// headerRewriter returns a function applying the header Replace
// normalizers, or nil when there are none.
func headerRewriter(ns []*normalizer) func(name, v string) string {
	var rs []*normalizer
	for _, n := range ns {
		if n.kind == Replace && n.header != "" {
			rs = append(rs, n)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	return func(name, v string) string {
		for _, n := range rs {
			if n.header == "*" || n.header == name {
				v = n.re.ReplaceAllString(v, n.repl)
			}
		}
		return v
	}
}

// compileNormalizers compiles the configured normalizers in order.
func compileNormalizers(ns []Normalizer) ([]*normalizer, error) {
	out := make([]*normalizer, 0, len(ns))
	for i, n := range ns {
		c, err := compileNormalizer(n)
		if err != nil {
			return nil, fmt.Errorf("Normalizers[%d]: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}
