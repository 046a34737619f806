package jsonpath

import (
	"slices"
	"testing"
)

// FuzzParse: Parse never panics; what it accepts renders to a canonical
// string that parses back to the same pattern; and matching by States
// agrees with a backtracking matcher on paths built from the fuzz input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"$", "$.a.b", "$..ssn", "$['a.b']", `$["a\"b"]`, "$.items[*].pan", "$..[0]", "$..*",
		"$.a..b..c", `$['\u00e9\'']`, "$[12].x", "$..a.*[3]",
	} {
		f.Add(s, "a.b.ssn")
	}
	f.Fuzz(func(t *testing.T, s, pathSeed string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		canon := p.String()
		q, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if !slices.Equal(p.segs, q.segs) {
			t.Fatalf("%q -> %q parses to a different pattern", s, canon)
		}
		if again := q.String(); again != canon {
			t.Fatalf("String not stable: %q -> %q -> %q", s, canon, again)
		}
		// Concrete paths from the pattern's own keys and from the seed,
		// so that matches are found, not just misses.
		var keys []string
		for _, sg := range p.segs {
			if sg.kind == segKey {
				keys = append(keys, sg.key)
			}
		}
		var path []Step
		for i := 0; i < len(pathSeed) && len(path) < 12; i++ {
			c := pathSeed[i]
			switch {
			case c%3 == 0:
				path = append(path, Step{Index: int(c) % 4, IsIndex: true})
			case len(keys) > 0 && c%3 == 1:
				path = append(path, Step{Key: keys[int(c)%len(keys)]})
			default:
				path = append(path, Step{Key: string(c)})
			}
			if got, want := p.Match(path), naiveMatch(p.segs, path); got != want {
				t.Fatalf("%q on %+v: Match = %v, backtracking says %v", s, path, got, want)
			}
		}
	})
}
