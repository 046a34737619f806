package compare

import (
	"fmt"
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

// formPattern is a compiled form path: a key, or any key.
type formPattern struct {
	key string
	any bool
}

// isFormPath reports whether a normalizer path targets form bodies.
func isFormPath(p string) bool {
	return strings.HasPrefix(p, "form.") || strings.HasPrefix(p, "form[")
}

// parseFormPattern compiles "form.key", `form["key"]`, "form.*" or
// "form[*]".
func parseFormPattern(s string) (formPattern, error) {
	rest := strings.TrimPrefix(s, "form")
	seg, n, err := parseStep(rest)
	switch {
	case err != nil:
		return formPattern{}, fmt.Errorf("form path %q: %w", s, err)
	case n != len(rest):
		return formPattern{}, fmt.Errorf("form path %q: want one key (form.key, form[\"key\"] or form.*); a normalizer applies to all of a key's values", s)
	case seg.kind == segAny:
		return formPattern{any: true}, nil
	case seg.kind != segKey:
		return formPattern{}, fmt.Errorf("form path %q: want a key, not an index", s)
	}
	return formPattern{key: seg.key}, nil
}

func (p formPattern) matches(key string) bool { return p.any || p.key == key }

// normalizeForm applies the normalizers that reach form bodies: those
// with a form path (Ignore, Replace, Tolerance, Set, Sort) and Replace
// without a path (every value).
func normalizeForm(fs []formField, ns []*normalizer) []formField {
	for _, n := range ns {
		all := n.kind == Replace && n.allStrings
		if n.fpat == nil && !all {
			continue
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

// diffForms diffs two normalized form bodies.
func diffForms(a, b []formField) bodyDiff {
	var out bodyDiff
	add := func(path, field string, kind Kind, p, c string) {
		if n := len(out.fields); n == 0 || out.fields[n-1] != field {
			out.fields = append(out.fields, field) // keys come in order
		}
		if len(out.diffs) >= maxDifferences {
			out.omitted++
			return
		}
		out.diffs = append(out.diffs, Difference{Path: path, Kind: kind, Primary: p, Candidate: c, field: field})
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
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
			f := formFieldPath(a[i].key)
			if len(va) == 1 && len(vb) == 1 {
				if !scalarEqual(va[0], vb[0]) {
					add(f, f, Changed, clip(quote(va[0].s)), clip(quote(vb[0].s)))
				}
			} else {
				for k := range max(len(va), len(vb)) {
					p := f + "[" + strconv.Itoa(k) + "]"
					switch {
					case k >= len(vb):
						add(p, f, Removed, clip(quote(va[k].s)), "")
					case k >= len(va):
						add(p, f, Added, "", clip(quote(vb[k].s)))
					case !scalarEqual(va[k], vb[k]):
						add(p, f, Changed, clip(quote(va[k].s)), clip(quote(vb[k].s)))
					}
				}
			}
			i, j = i+1, j+1
		}
	}
	slices.SortFunc(out.diffs, func(x, y Difference) int { return strings.Compare(x.Path, y.Path) })
	slices.Sort(out.fields)
	out.fields = slices.Compact(out.fields)
	return out
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
