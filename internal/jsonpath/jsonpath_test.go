package jsonpath

import (
	"strings"
	"testing"
)

// concrete parses a concrete path such as `$.a[2]["b.c"]`.
func concrete(t testing.TB, s string) []Step {
	t.Helper()
	p, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	steps, ok := p.Steps()
	if !ok {
		t.Fatalf("%q is not a concrete path", s)
	}
	return steps
}

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"$", "$", true},
		{"$", "$.a", false},
		{"$.a", "$.a", true},
		{"$.a", "$.b", false},
		{"$.a", "$.a.b", false},
		{"$.a", "$[0]", false},
		{"$[0]", "$.a", false},
		{"$.items[*].eta", "$.items[3].eta", true},
		{"$.items[*].eta", "$.items.x.eta", true}, // * is any child
		{"$.items.*.eta", "$.items[3].eta", true},
		{"$.items[*].eta", "$.items[3].eta.x", false},
		{"$.items[1].eta", "$.items[2].eta", false},
		{"$.items[1].eta", "$.items[1].eta", true},
		{"$..ssn", "$.ssn", true},
		{"$..ssn", "$.a[2].b.ssn", true},
		{"$..ssn", "$.a.ssn.x", false},
		{"$..items[*].id", "$.order.items[0].id", true},
		{"$..[0]", "$.a.b[0]", true},
		{"$..[0]", "$.a.b[1]", false},
		{"$.*", "$.anything", true},
		{"$..*", "$.a.b", true},
		{"$..a..b", "$.x.a.y.z.b", true},
		{"$..a..b", "$.x.b", false},
		{"$.a..b", "$.a.b", true},
		{"$.a..b", "$.b", false},
		{`$["a.b"]`, `$["a.b"]`, true},
		{`$['a.b']`, `$["a.b"]`, true},
		{`$['a.b']`, "$.a.b", false},
		{`$['it\'s']`, `$["it's"]`, true},
		{`$["q\"uote"]`, `$['q"uote']`, true},
		{`$['\u00e9']`, `$.é`, true},
		{`$["\ud83d\ude00"]`, `$["😀"]`, true},
		{"$.order-id", `$["order-id"]`, true},
		{"$.Card", "$.card", false}, // keys are case-sensitive
	}
	for _, tt := range tests {
		p, err := Parse(tt.pattern)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.pattern, err)
		}
		if got := p.Match(concrete(t, tt.path)); got != tt.want {
			t.Errorf("%s matches %s = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
		if got := naiveMatch(p.segs, concrete(t, tt.path)); got != tt.want {
			t.Errorf("naive: %s matches %s = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestStepKeyBytesAgrees(t *testing.T) {
	p := MustParse("$..card['num.ber']")
	st := p.StepKeyBytes(p.StepKey(p.Start(), "x"), []byte("card"))
	if got := p.Matched(p.StepKeyBytes(st, []byte("num.ber"))); !got {
		t.Error("StepKeyBytes did not reach the match StepKey reaches")
	}
	if n := testing.AllocsPerRun(100, func() { p.StepKeyBytes(st, []byte("num.ber")) }); n != 0 {
		t.Errorf("StepKeyBytes allocated %v times per call, want 0", n)
	}
	a := MustParse("$.a")
	if st := a.StepIndex(a.Start(), 0); st != 0 {
		t.Errorf("a dead walk has state %b, want 0", st)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"a.b", "must start with $"},
		{"$.", "empty field name"},
		{"$.a.", "empty field name"},
		{"$..", "must be followed"},
		{"$...a", "not a step"},
		{"$[x]", "want an index"},
		{"$[-1]", "want an index"},
		{"$[+1]", "want an index"},
		{"$[]", "want an index"},
		{`$["a]`, "unterminated"},
		{`$['a`, "unterminated"},
		{`$['a'`, "want ]"},
		{`$['a\q']`, `bad escape`},
		{`$['\u12']`, `bad \u`},
		{`$['\ud800']`, `bad \u`},
		{"$['a\tb']", "control character"},
		{"$[1", "unterminated"},
		{"$x", "unexpected"},
		{"$\xff", "UTF-8"},
		{"$" + strings.Repeat(".a", 70), "more than"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want it to mention %q", tt.in, err, tt.want)
		}
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"$", "$"},
		{"$.a[*].b", "$.a[*].b"},
		{"$.a.*", "$.a[*]"},
		{"$..updated_at", "$..updated_at"},
		{`$["a.b"][2]`, `$["a.b"][2]`},
		{`$['a.b']`, `$["a.b"]`},
		{`$['it\'s']`, `$["it's"]`},
		{"$..*", "$..*"},
		{"$..[0]", "$..[0]"},
		{"$..['a b']", `$..["a b"]`},
		{"$.order-id", `$["order-id"]`},
	}
	for _, tt := range tests {
		if got := MustParse(tt.in).String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// naiveMatch is the definition Step must agree with, by backtracking.
func naiveMatch(segs []seg, path []Step) bool {
	if len(segs) == 0 {
		return len(path) == 0
	}
	s := segs[0]
	if s.kind == segDescend {
		for skip := 0; skip < len(path); skip++ {
			if naiveMatch(segs[1:], path[skip:]) {
				return true
			}
		}
		return false
	}
	if len(path) == 0 {
		return false
	}
	st := path[0]
	ok := s.kind == segAny ||
		(s.kind == segKey && !st.IsIndex && st.Key == s.key) ||
		(s.kind == segIndex && st.IsIndex && st.Index == s.index)
	return ok && naiveMatch(segs[1:], path[1:])
}
