package compare

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/exchange"
)

// TestComparatorOverride: a route's rule decides how its bodies compare,
// whatever their Content-Type; other routes still choose per body.
func TestComparatorOverride(t *testing.T) {
	t.Parallel()
	cfg := Config{
		Routes: []string{"/legacy/{id}", "/raw", "/bin", "/cart", "/num", "/any/{x}"},
		Comparators: []ComparatorRule{
			{Route: "/legacy/{id}", Kind: XMLComparator},
			{Route: "GET /raw", Kind: TextComparator},
			{Route: "/bin", Kind: BinaryComparator},
			{Route: "POST /cart", Kind: FormComparator},
			{Route: "/num", Kind: JSONComparator},
			{Route: "/any/{x}", Kind: ""}, // auto
		},
	}
	e := mustEngine(t, cfg)
	plain := func(s string) exchange.Response { return textAnswer("text/plain", s) }
	tests := []struct {
		name         string
		method, url  string
		p, c         exchange.Response
		want         []brief
		wantDetailed string
	}{
		{"XML served as text/plain, forced xml", "GET", "/legacy/7", plain(`<a><b>1</b></a>`), plain(`<a><b>2</b></a>`),
			[]brief{{"/a/b", Changed, `"1"`, `"2"`}}, ""},
		{"the same on a route without a rule compares as text", "GET", "/other", plain(`<a><b>1</b></a>`), plain(`<a><b>2</b></a>`),
			[]brief{{"body", Changed, `<a><b>1</b></a>`, `<a><b>2</b></a>`}}, ""},
		{"JSON forced to text: 1.0 is not 1", "GET", "/raw", answer(200, `{"a":1.0}`), answer(200, `{"a":1}`),
			[]brief{{"body", Changed, `{"a":1.0}`, `{"a":1}`}}, ""},
		{"the rule names GET only: POST is automatic", "POST", "/raw", answer(200, `{"a":1.0}`), answer(200, `{"a":1}`),
			nil, ""},
		{"text forced to binary", "GET", "/bin", plain("abc"), plain("abd"),
			[]brief{{"body", Changed, "3 bytes", "3 bytes"}}, "binary bodies differ from byte 2"},
		{"text/plain forced to form", "POST", "/cart", plain("b=2&a=1"), plain("a=1&b=3"),
			[]brief{{"form.b", Changed, `"2"`, `"3"`}}, ""},
		{"a scalar forced to JSON", "GET", "/num", plain(`123`), plain(`124`),
			[]brief{{"$", Changed, "123", "124"}}, ""},
		{"forced JSON against a body that is not", "GET", "/num", plain(`123`), plain(`oops`),
			[]brief{{"body", TypeChanged, "JSON, 3 bytes", "text/plain, 4 bytes"}}, ""},
		{"auto rule", "GET", "/any/1", answer(200, `{"a":1.0}`), answer(200, `{"a":1}`), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := e.Compare(pairOf(tt.method, tt.url, tt.p, tt.c))
			if tt.want == nil {
				tt.want = []brief{}
			}
			if diff := cmp.Diff(tt.want, briefs(res.Differences())); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
			if tt.wantDetailed != "" && detailOf(res.Body) != tt.wantDetailed {
				t.Errorf("detail = %q, want %q", detailOf(res.Body), tt.wantDetailed)
			}
		})
	}
}

// TestComparatorRuleOrder: the first matching rule wins, and a rule
// without a Route applies everywhere.
func TestComparatorRuleOrder(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{
		Routes:      []string{"/a"},
		Comparators: []ComparatorRule{{Route: "/a", Kind: AutoComparator}, {Kind: TextComparator}},
	})
	for _, tt := range []struct {
		url  string
		want ComparatorKind
	}{{"/a", AutoComparator}, {"/b", TextComparator}} {
		if got := e.comparatorFor(e.endpoint(pairOf("GET", tt.url, answer(200, ""), answer(200, "")), false)); got != tt.want {
			t.Errorf("comparator for %s = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestComparatorAndPathValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"every kind", Config{Comparators: []ComparatorRule{{Kind: "json"}, {Kind: "xml"}, {Kind: "form"}, {Kind: "text"}, {Kind: "binary"}, {Kind: "auto"}, {}}}, ""},
		{"unknown kind", Config{Comparators: []ComparatorRule{{Route: "/a", Kind: "json"}, {Route: "/b", Kind: "yaml"}}},
			`comparators[1].kind: unknown comparator "yaml" (want json, xml, form, protobuf, text, binary or auto)`},
		{"bad route", Config{Comparators: []ComparatorRule{{Route: "orders", Kind: "xml"}}}, "comparators[0].route: want a route template"},
		{"XML and form paths", Config{Normalizers: []Normalizer{
			{Kind: Ignore, Path: "//ts"}, {Kind: Tolerance, Path: "/o/@w", Tolerance: 1}, {Kind: Set, Path: "form.tag"},
			{Kind: Replace, Path: "form.*", Builtin: "uuid"}, {Kind: Sort, Path: "form.ids"},
		}}, ""},
		{"set on XML", Config{Normalizers: []Normalizer{{Kind: Set, Path: "/o/items"}}}, `normalizers[0].path: kind "set" applies to JSON arrays and form values, not to XML path "/o/items"`},
		{"bad XML path", Config{Normalizers: []Normalizer{{Kind: Ignore, Path: "/o/ns:x"}}}, "normalizers[0].path: XML path \"/o/ns:x\""},
		{"form path with an index", Config{Normalizers: []Normalizer{{Kind: Ignore, Path: "form.tag[1]"}}}, "normalizers[0].path: form path"},
		{"sort form values by key", Config{Normalizers: []Normalizer{{Kind: Sort, Path: "form.ids", Key: "id"}}}, "normalizers[0].key: form values are sorted as text"},
		{"a path of no format", Config{Normalizers: []Normalizer{{Kind: Ignore, Path: "items"}}}, "or an XML path like /order/id, or a form path like form.qty"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate() = %v, want an error containing %q", tt.name, err, tt.want)
		}
		if _, nerr := New(tt.cfg); (nerr == nil) != (err == nil) {
			t.Errorf("%s: New error %v disagrees with Validate error %v", tt.name, nerr, err)
		}
	}
}
