package compare

import (
	"encoding/json"
	"slices"
	"strings"
)

// minSubstitution is the shortest injected value that is looked for
// inside a longer value (a self link holding the Host): shorter ones,
// like the marker's "1", would explain far too much.
const minSubstitution = 4

// injections are what the proxy set on the requests to both sides of a
// pair (exchange.Response.Injected).
type injections struct {
	a, b map[string]string
}

// any reports whether the two sides got anything different from the
// proxy; when they did not, no difference can be the proxy's.
func (in injections) any() bool {
	if len(in.a) == 0 && len(in.b) == 0 {
		return false
	}
	for k, v := range in.a {
		if w, ok := in.b[k]; !ok || w != v {
			return true
		}
	}
	for k := range in.b {
		if _, ok := in.a[k]; !ok {
			return true
		}
	}
	return false
}

// explains reports whether d is exactly what the injections make of an
// upstream that echoes its request: for some header the proxy set
// differently on the two sides, each side's value is what that side was
// sent (or absent where that side got none, and then the path must name
// the header), or the candidate's value becomes the primary's when the
// candidate's injected value is replaced by the primary's in it (a self
// link holding the Host).
func (in injections) explains(d Difference) bool {
	if d.Path == "status" || d.Path == bodyPath {
		return false // a whole body's values are only its first differing lines: see explainsText
	}
	for _, k := range headerKeys(in.a, in.b) {
		av, aok := in.a[k]
		bv, bok := in.b[k]
		if aok == bok && av == bv {
			continue
		}
		switch d.Kind {
		case Added: // only the candidate side has it
			if (!aok || av == "") && bok && bv != "" && valueIs(d.Candidate, bv) && namesHeader(d.Path, k) {
				return true
			}
		case Removed:
			if aok && av != "" && (!bok || bv == "") && valueIs(d.Primary, av) && namesHeader(d.Path, k) {
				return true
			}
		case Changed:
			if av == "" || bv == "" {
				continue
			}
			if valueIs(d.Primary, av) && valueIs(d.Candidate, bv) {
				return true
			}
			if len(av) >= minSubstitution && len(bv) >= minSubstitution && strings.Contains(d.Candidate, bv) &&
				strings.ReplaceAll(d.Candidate, bv, av) == d.Primary {
				return true
			}
		}
	}
	return false
}

// headerKeys returns the keys of both maps, sorted and distinct.
func headerKeys(a, b map[string]string) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// valueIs reports whether a difference's display value is v: the text
// itself, a JSON string holding it, or a JSON array of one such string
// (how services echo an http.Header).
func valueIs(display, v string) bool {
	if display == v {
		return true
	}
	if display == "" || (display[0] != '"' && display[0] != '[') {
		return false
	}
	var s string
	if json.Unmarshal([]byte(display), &s) == nil {
		return s == v
	}
	var list []string
	return json.Unmarshal([]byte(display), &list) == nil && len(list) == 1 && list[0] == v
}

// namesHeader reports whether a difference's path names the header k:
// its text, ignoring case, "-" and "_", holds the header's name.
func namesHeader(path, k string) bool {
	return strings.Contains(squash(path), squash(k))
}

func squash(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == '_':
			return -1
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// explainsText reports whether two text bodies are the same once what
// the proxy set differently on each side is undone: each side's lines
// naming a header only it was sent, with that value, dropped, and the
// candidate's values of the others (when long enough to be told apart)
// written back as the primary's. A service that prints its request as
// text ("Host: ...", "X-Shadow-Request: 1") then differs in nothing.
func (in injections) explainsText(a, b []byte) bool {
	if !isText(a) || !isText(b) {
		return false
	}
	at, bt := string(a), string(b)
	for _, k := range headerKeys(in.a, in.b) {
		av, bv := in.a[k], in.b[k]
		switch {
		case av == bv:
		case av == "" && bv != "":
			bt = dropLines(bt, k, bv)
		case bv == "" && av != "":
			at = dropLines(at, k, av)
		case len(av) >= minSubstitution && len(bv) >= minSubstitution:
			bt = strings.ReplaceAll(bt, bv, av)
		}
	}
	return at == bt
}

// dropLines removes the lines of s that name the header k (ignoring case,
// "-" and "_") and hold its value v.
func dropLines(s, k, v string) string {
	lines := strings.SplitAfter(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if strings.Contains(l, v) && namesHeader(l, k) {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}

// markProxy sets Proxy on the differences in lists that the injections
// explain, and returns the fields all of whose listed differences are the
// proxy's (sorted), which then do not count. A whole-body difference
// ("body": text bodies) is the proxy's when explainsText says so of the
// bodies a and b.
func markProxy(in injections, a, b []byte, lists ...[]Difference) []string {
	if !slices.ContainsFunc(lists, func(l []Difference) bool { return len(l) > 0 }) {
		return nil // nothing differs, so nothing is the proxy's: most pairs
	}
	if !in.any() {
		return nil
	}
	proxy, real := map[string]bool{}, map[string]bool{}
	for _, list := range lists {
		for i := range list {
			d := &list[i]
			if in.explains(*d) || d.Path == bodyPath && in.explainsText(a, b) {
				d.Proxy = true
				proxy[d.Field()] = true
			} else {
				real[d.Field()] = true
			}
		}
	}
	var out []string
	for f := range proxy {
		if !real[f] {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// withoutFields returns fields (sorted) without those in drop (sorted).
func withoutFields(fields, drop []string) []string {
	if len(drop) == 0 {
		return fields
	}
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		if _, ok := slices.BinarySearch(drop, f); !ok {
			out = append(out, f)
		}
	}
	return out
}

// withoutProxy returns the differences of ds that are not the proxy's.
func withoutProxy(ds []Difference) []Difference {
	if !slices.ContainsFunc(ds, func(d Difference) bool { return d.Proxy }) {
		return ds
	}
	return slices.DeleteFunc(slices.Clone(ds), func(d Difference) bool { return d.Proxy })
}
