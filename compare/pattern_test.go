package compare

import (
	"strings"
	"testing"
)

// walkPath steps a pattern along a concrete path like `$.a[2]["b.c"]`.
func walkPath(t *testing.T, p pattern, path string) bool {
	t.Helper()
	steps, err := parsePattern(path)
	if err != nil {
		t.Fatalf("parse %q: %v", path, err)
	}
	st := p.start()
	for _, s := range steps {
		switch s.kind {
		case segKey:
			st = p.step(st, s.key, 0, false)
		case segIndex:
			st = p.step(st, "", s.index, true)
		default:
			t.Fatalf("concrete path %q has a wildcard", path)
		}
	}
	return p.matched(st)
}

func TestPatternMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"$", "$", true},
		{"$.a", "$.a", true},
		{"$.a", "$.b", false},
		{"$.a", "$.a.b", false},
		{"$.items[*].eta", "$.items[3].eta", true},
		{"$.items[*].eta", "$.items.x.eta", true}, // * is any child
		{"$.items[*].eta", "$.items[3].eta.x", false},
		{"$.items[1].eta", "$.items[2].eta", false},
		{"$.items[1].eta", "$.items[1].eta", true},
		{"$..updated_at", "$.updated_at", true},
		{"$..updated_at", "$.a[2].b.updated_at", true},
		{"$..updated_at", "$.a.updated_at.x", false},
		{"$..items[*].id", "$.order.items[0].id", true},
		{"$.*", "$.anything", true},
		{`$["a.b"]`, `$["a.b"]`, true},
		{`$["a.b"]`, "$.a.b", false},
		{"$.order-id", `$["order-id"]`, true},
		{"$..*", "$.a.b", true},
		{"$..a..b", "$.x.a.y.z.b", true},
		{"$..a..b", "$.x.b", false},
	}
	for _, tt := range tests {
		p, err := parsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("parsePattern(%q): %v", tt.pattern, err)
		}
		if got := walkPath(t, p, tt.path); got != tt.want {
			t.Errorf("%s matches %s = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestParsePatternErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"a.b", "must start with $"},
		{"$.", "empty field name"},
		{"$..", "must be followed"},
		{"$...a", "not a step"},
		{"$[x]", "want an index"},
		{"$[-1]", "want an index"},
		{`$["a]`, "unterminated"},
		{"$[1", "unterminated"},
		{"$x", "unexpected"},
		{"$" + strings.Repeat(".a", 70), "more than"},
	}
	for _, tt := range tests {
		_, err := parsePattern(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parsePattern(%q) error = %v, want it to mention %q", tt.in, err, tt.want)
		}
	}
}

func TestPatternString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"$", "$.a[*].b", "$..updated_at", `$["a.b"][2]`, "$..*", "$..[0]"} {
		p, err := parsePattern(s)
		if err != nil {
			t.Fatalf("parsePattern(%q): %v", s, err)
		}
		if got := p.String(); got != s {
			t.Errorf("String() = %q, want %q", got, s)
		}
	}
}
