package compare

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		norms []Normalizer
		p, c  string
		want  []brief
	}{
		{
			name:  "ignore with wildcard",
			norms: []Normalizer{{Kind: Ignore, Path: "$.items[*].eta"}},
			p:     `{"items":[{"eta":"a","q":1},{"eta":"b","q":2}]}`,
			c:     `{"items":[{"eta":"x","q":1},{"eta":"y","q":3}]}`,
			want:  []brief{{"$.items[1].q", Changed, "2", "3"}},
		},
		{
			name:  "ignore a key present on one side only",
			norms: []Normalizer{{Kind: Ignore, Path: "$..debug"}},
			p:     `{"a":{"debug":1},"b":1}`,
			c:     `{"a":{},"b":1}`,
		},
		{
			name:  "ignore array elements keeps indexes",
			norms: []Normalizer{{Kind: Ignore, Path: "$[0]"}},
			p:     `[1,2]`,
			c:     `[9,3]`,
			want:  []brief{{"$[1]", Changed, "2", "3"}},
		},
		{
			name:  "replace builtin uuid everywhere",
			norms: []Normalizer{{Kind: Replace, Builtin: "uuid"}},
			p:     `{"id":"6f1c2a9e-8d3b-4c5e-9f7a-1b2c3d4e5f60","msg":"order 11111111-2222-3333-4444-555555555555 ok"}`,
			c:     `{"id":"0a1b2c3d-0000-4c5e-9f7a-1b2c3d4e5f60","msg":"order 99999999-2222-3333-4444-555555555555 ok"}`,
		},
		{
			name:  "replace builtin rfc3339 at a path only",
			norms: []Normalizer{{Kind: Replace, Builtin: "rfc3339", Path: "$.at"}},
			p:     `{"at":"2024-05-01T12:00:00Z","other":"2024-05-01T12:00:00Z"}`,
			c:     `{"at":"2024-06-01T13:14:15.123+02:00","other":"2024-05-02T12:00:00Z"}`,
			want:  []brief{{"$.other", Changed, `"2024-05-01T12:00:00Z"`, `"2024-05-02T12:00:00Z"`}},
		},
		{
			name:  "replace pattern with groups",
			norms: []Normalizer{{Kind: Replace, Pattern: `(v)\d+`, Replacement: "${1}N", Path: "$.ver"}},
			p:     `{"ver":"v1"}`,
			c:     `{"ver":"v2"}`,
		},
		{
			name:  "set ignores order and duplicates",
			norms: []Normalizer{{Kind: Set, Path: "$.tags"}},
			p:     `{"tags":["a","b","b",{"x":1.10}]}`,
			c:     `{"tags":[{"x":1.1},"b","a"]}`,
		},
		{
			name:  "set still finds a missing element",
			norms: []Normalizer{{Kind: Set, Path: "$.tags"}},
			p:     `{"tags":["a","b","c"]}`,
			c:     `{"tags":["c","a"]}`,
			want:  []brief{{"$.tags[1]", Changed, `"b"`, `"c"`}, {"$.tags[2]", Removed, `"c"`, ""}},
		},
		{
			name:  "sort by key",
			norms: []Normalizer{{Kind: Sort, Path: "$.items", Key: "sku"}},
			p:     `{"items":[{"sku":"B","q":1},{"sku":"A","q":2}]}`,
			c:     `{"items":[{"sku":"A","q":2},{"sku":"B","q":5}]}`,
			want:  []brief{{"$.items[1].q", Changed, "1", "5"}},
		},
		{
			name:  "sort by nested numeric key",
			norms: []Normalizer{{Kind: Sort, Path: "$", Key: "p.id"}},
			p:     `[{"p":{"id":10}},{"p":{"id":9}},{"x":1}]`,
			c:     `[{"x":1},{"p":{"id":9}},{"p":{"id":10}}]`,
		},
		{
			name:  "tolerance absolute",
			norms: []Normalizer{{Kind: Tolerance, Path: "$..price", Tolerance: 0.01}},
			p:     `{"a":{"price":10.00},"b":{"price":10.00}}`,
			c:     `{"a":{"price":10.01},"b":{"price":10.02}}`,
			want:  []brief{{"$.b.price", Changed, "10.00", "10.02"}},
		},
		{
			name:  "tolerance relative",
			norms: []Normalizer{{Kind: Tolerance, Path: "$.n", Relative: 0.001}},
			p:     `{"n":1000}`,
			c:     `{"n":1000.9}`,
		},
		{
			name:  "route filter excludes other endpoints",
			norms: []Normalizer{{Kind: Ignore, Path: "$.a", Route: "GET /other"}},
			p:     `{"a":1}`,
			c:     `{"a":2}`,
			want:  []brief{{"$.a", Changed, "1", "2"}},
		},
		{
			name:  "route filter admits its endpoint",
			norms: []Normalizer{{Kind: Ignore, Path: "$.a", Route: "/x"}},
			p:     `{"a":1}`,
			c:     `{"a":2}`,
		},
		{
			name: "normalizers apply in order",
			norms: []Normalizer{
				{Kind: Replace, Path: "$.s", Pattern: "a", Replacement: "b"},
				{Kind: Replace, Path: "$.s", Pattern: "b", Replacement: "c"},
			},
			p: `{"s":"a"}`,
			c: `{"s":"c"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := briefs(diffOf(t, Config{Normalizers: tt.norms}, tt.p, tt.c))
			if tt.want == nil {
				tt.want = []brief{}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplaceTextBodyAndHeaders(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{Normalizers: []Normalizer{
		{Kind: Replace, Builtin: "rfc3339", Path: "body"},
		{Kind: Replace, Builtin: "uuid", Path: "header.Location"},
	}})
	p := textAnswer("text/plain", "generated 2024-05-01T12:00:00Z\nok\n")
	c := textAnswer("text/plain", "generated 2024-05-01T12:00:09Z\nok\n")
	p.Header.Set("Location", "/orders/11111111-2222-3333-4444-555555555555")
	c.Header.Set("Location", "/orders/99999999-2222-3333-4444-555555555555")
	res := e.Compare(pairOf("GET", "/x", p, c))
	if got := res.Differences(); len(got) != 0 {
		t.Errorf("differences = %+v, want none", got)
	}
	c.Header.Set("Location", "/carts/99999999-2222-3333-4444-555555555555")
	res = e.Compare(pairOf("GET", "/x", p, c))
	if got := briefs(res.Headers); len(got) != 1 || got[0].Path != "header.Location" {
		t.Errorf("header differences = %+v, want header.Location", got)
	}
}

func TestNormalizerValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    Normalizer
		want string
	}{
		{Normalizer{}, "normalizers[0].kind: required"},
		{Normalizer{Kind: "squash", Path: "$"}, "kind: unknown"},
		{Normalizer{Kind: Ignore}, "path: required"},
		{Normalizer{Kind: Ignore, Path: "items"}, "path: path \"items\": must start with $"},
		{Normalizer{Kind: Replace}, "pattern: replace needs"},
		{Normalizer{Kind: Replace, Pattern: "(", Path: "$"}, "pattern: error parsing regexp"},
		{Normalizer{Kind: Replace, Builtin: "nope"}, `builtin: unknown pattern "nope"`},
		{Normalizer{Kind: Replace, Builtin: "uuid", Pattern: "x"}, "builtin: set either"},
		{Normalizer{Kind: Tolerance, Path: "$.a"}, "tolerance: set tolerance or relative"},
		{Normalizer{Kind: Tolerance, Path: "$.a", Tolerance: -1}, "tolerance: must be"},
		{Normalizer{Kind: Set, Path: "$.a", Key: "id"}, "key: only used by kind"},
		{Normalizer{Kind: Ignore, Path: "$.a", Route: "orders"}, "route: want a route template"},
	}
	for _, tt := range tests {
		err := Config{Normalizers: []Normalizer{tt.n}}.Validate()
		if err == nil || !contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want it to mention %q", tt.n, err, tt.want)
		}
	}
}

func TestBuiltinPatternsCompile(t *testing.T) {
	t.Parallel()
	for name := range BuiltinPatterns {
		if _, err := New(Config{Normalizers: []Normalizer{{Kind: Replace, Builtin: name}}}); err != nil {
			t.Errorf("builtin %q: %v", name, err)
		}
	}
}
