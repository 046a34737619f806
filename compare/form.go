package compare

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Form bodies (application/x-www-form-urlencoded) are compared key by
// key, whatever the order of the pairs: "form.qty", or `form["order-id"]`
// for a key that is not an identifier. A key with one value on both
// sides compares that value; a repeated key is a list compared in order,
// "form.tag[0]", "form.tag[1]" (0-based, as in JSON). Values compare as
// text after URL decoding. A body that does not decode (a bad escape, a
// ";" separator) is compared as text. The field of "form.tag[1]" is
// "form.tag": every value of a key counts as one field.

// FormComparator diffs application/x-www-form-urlencoded bodies key by
// key ("form.qty"); a repeated key is a list ("form.tag[1]"). Automatic
// choice picks it for the application/x-www-form-urlencoded Content-Type.
const FormComparator ComparatorKind = "form"

// formFormat is the form format.
type formFormat struct{}

func (formFormat) kind() ComparatorKind { return FormComparator }

func (formFormat) name() string { return "form" }

func (formFormat) detect(contentType string, _ []byte) bool {
	return mediaType(contentType) == "application/x-www-form-urlencoded"
}

func (formFormat) parse(body []byte) (any, bool) {
	fs, ok := parseForm(body)
	return fs, ok
}

func (formFormat) normalize(doc any, ns []*normalizer, b *budget) any {
	return normalizeForm(doc.([]formField), ns, b)
}

func (formFormat) diff(a, b any, c *collector) { diffForms(a.([]formField), b.([]formField), c) }

// formField is one key of a form body with its values in order.
type formField struct {
	key  string
	vals []scalar
}

// parseForm decodes a form body into its fields, sorted by key.
func parseForm(b []byte) ([]formField, bool) {
	q, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, false
	}
	out := make([]formField, 0, len(q))
	for k, vs := range q {
		f := formField{key: k, vals: make([]scalar, len(vs))}
		for i, v := range vs {
			f.vals[i] = scalar{s: v}
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(x, y formField) int { return strings.Compare(x.key, y.key) })
	return out, true
}

// normalizeForm applies the normalizers that reach form bodies: those
// with a form path (Ignore, Replace, Tolerance, Set, Sort) and Replace
// without a path (every value). Each of them visits every value, and b
// is charged for them.
func normalizeForm(fs []formField, ns []*normalizer, b *budget) []formField {
	values := 0
	for _, f := range fs {
		values += len(f.vals)
	}
	for _, n := range ns {
		all := n.kind == Replace && n.allStrings
		if n.fpat == nil && !all {
			continue
		}
		if !b.visit(values) {
			return fs
		}
		if n.kind == Ignore {
			fs = slices.DeleteFunc(fs, func(f formField) bool { return n.fpat.matches(f.key) })
			continue
		}
		for i := range fs {
			f := &fs[i]
			if !all && !n.fpat.matches(f.key) {
				continue
			}
			switch n.kind {
			case Set:
				slices.SortFunc(f.vals, func(x, y scalar) int { return strings.Compare(x.s, y.s) })
				f.vals = slices.CompactFunc(f.vals, func(x, y scalar) bool { return x.s == y.s })
			case Sort:
				slices.SortStableFunc(f.vals, func(x, y scalar) int { return strings.Compare(x.s, y.s) })
			default:
				for j := range f.vals {
					f.vals[j] = n.rewrite(f.vals[j], true)
				}
			}
		}
	}
	return fs
}

// diffForms diffs two normalized form bodies, reporting to c.
func diffForms(a, b []formField, c *collector) {
	if !c.visit(len(a) + len(b)) {
		return
	}
	add := func(path, field string, kind Kind, p, cv string) {
		c.add(Difference{Path: path, Kind: kind, Primary: p, Candidate: cv}, field)
	}
	i, j := 0, 0
	for (i < len(a) || j < len(b)) && !c.spent {
		switch {
		case j == len(b) || (i < len(a) && a[i].key < b[j].key):
			f := formFieldPath(a[i].key)
			add(f, f, Removed, formValues(a[i].vals), "")
			i++
		case i == len(a) || b[j].key < a[i].key:
			f := formFieldPath(b[j].key)
			add(f, f, Added, "", formValues(b[j].vals))
			j++
		default:
			va, vb := a[i].vals, b[j].vals
			if len(va) == 1 && len(vb) == 1 {
				if !scalarEqual(va[0], vb[0]) {
					f := formFieldPath(a[i].key)
					add(f, f, Changed, clip(quote(va[0].s)), clip(quote(vb[0].s)))
				}
			} else if c.visit(len(va) + len(vb)) {
				f := formFieldPath(a[i].key)
				at := func(k int) string { return f + "[" + strconv.Itoa(k) + "]" }
				for k := 0; k < max(len(va), len(vb)) && !c.spent; k++ {
					switch {
					case k >= len(vb):
						add(at(k), f, Removed, clip(quote(va[k].s)), "")
					case k >= len(va):
						add(at(k), f, Added, "", clip(quote(vb[k].s)))
					case !scalarEqual(va[k], vb[k]):
						add(at(k), f, Changed, clip(quote(va[k].s)), clip(quote(vb[k].s)))
					}
				}
			}
			i, j = i+1, j+1
		}
	}
}

// formFieldPath names a form key: "form.qty", `form["order-id"]`.
func formFieldPath(key string) string { return string(appendKeyStep([]byte("form"), key)) }

// formValues displays a key's values: one as a JSON string, several as
// a JSON array of strings.
func formValues(vs []scalar) string {
	if len(vs) == 1 {
		return clip(quote(vs[0].s))
	}
	b := []byte{'['}
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendQuoted(b, v.s)
		if len(b) > maxValueLen {
			break
		}
	}
	return clip(string(append(b, ']')))
}
