package compare

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiffJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p, c string
		want []brief
	}{
		{"equal", `{"a":1}`, `{"a":1}`, nil},
		{"equal after reformatting and key order", `{"a":1,"b":[1,2]}`, "{ \"b\" : [ 1 , 2 ] ,\n \"a\" : 1 }", nil},
		// Numbers compare as exact decimals: trailing zeros and exponent
		// spelling do not matter, every digit does.
		{"1.10 equals 1.1", `{"p":1.10}`, `{"p":1.1}`, nil},
		{"exponent spelling", `{"p":110e-2}`, `{"p":1.1}`, nil},
		{"negative zero", `{"p":-0.0}`, `{"p":0}`, nil},
		{"digits beyond float64", `{"id":12345678901234567890}`, `{"id":12345678901234567891}`,
			[]brief{{"$.id", Changed, "12345678901234567890", "12345678901234567891"}}},
		{"number vs string is a type change", `{"n":1}`, `{"n":"1"}`,
			[]brief{{"$.n", TypeChanged, `1`, `"1"`}}},
		{"null vs value", `{"n":null}`, `{"n":{"a":1}}`,
			[]brief{{"$.n", TypeChanged, `null`, `{"a":1}`}}},
		{"added and removed keys", `{"a":1,"b":2}`, `{"b":2,"c":3}`,
			[]brief{{"$.a", Removed, "1", ""}, {"$.c", Added, "", "3"}}},
		{"nested arrays", `{"a":[{"b":[0,1,{"c":true}]}]}`, `{"a":[{"b":[0,1,{"c":false}]}]}`,
			[]brief{{"$.a[0].b[2].c", Changed, "true", "false"}}},
		{"array grows", `{"a":[1,2]}`, `{"a":[1,2,3]}`, []brief{{"$.a[2]", Added, "", "3"}}},
		{"array shrinks", `[1,2,3]`, `[1,2]`, []brief{{"$[2]", Removed, "3", ""}}},
		{"arrays compare by index", `[1,2,3]`, `[0,1,2,3]`,
			[]brief{{"$[0]", Changed, "1", "0"}, {"$[1]", Changed, "2", "1"}, {"$[2]", Changed, "3", "2"}, {"$[3]", Added, "", "3"}}},
		{"root type change", `{"a":1}`, `[1]`, []brief{{"$", TypeChanged, `{"a":1}`, `[1]`}}},
		{"keys that are not identifiers are quoted", `{"order-id":1,"a.b":2}`, `{"order-id":2,"a.b":3}`,
			[]brief{{`$["a.b"]`, Changed, "2", "3"}, {`$["order-id"]`, Changed, "1", "2"}}},
		{"strings are JSON-quoted", `{"s":"a\"b"}`, `{"s":"a\nb"}`, []brief{{"$.s", Changed, `"a\"b"`, `"a\nb"`}}},
		{"bool", `{"ok":true}`, `{"ok":false}`, []brief{{"$.ok", Changed, "true", "false"}}},
		{"numbers keep their text", `{"p":1.10}`, `{"p":1.2e0}`, []brief{{"$.p", Changed, "1.10", "1.2e0"}}},
		// go-cmp reports these objects and arrays as a whole, so it must
		// compare the numbers inside them as decimals too.
		{"decimals inside an object whose keys differ", `{"a":{"x":1.10,"y":1}}`, `{"a":{"x":1.1,"z":1}}`,
			[]brief{{"$.a.y", Removed, "1", ""}, {"$.a.z", Added, "", "1"}}},
		{"decimals inside an array that grows", `[1.10,[2.0]]`, `[1.1,[2],3]`, []brief{{"$[2]", Added, "", "3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := briefs(diffOf(t, Config{}, tt.p, tt.c))
			if tt.want == nil {
				tt.want = []brief{}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffJSONFields(t *testing.T) {
	t.Parallel()
	p := `{"items":[{"price":1},{"price":2},{"price":3}],"x":{"y":[[1],[2]]}}`
	c := `{"items":[{"price":1},{"price":5},{"price":6}],"x":{"y":[[1],[3]]}}`
	e := mustEngine(t, Config{})
	res := e.Compare(pairOf("GET", "/x", answer(200, p), answer(200, c)))
	want := []string{"$.items[*].price", "$.x.y[*][*]"}
	if diff := cmp.Diff(want, res.fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	var gotFields []string
	for _, d := range res.Body {
		gotFields = append(gotFields, d.Field())
	}
	wantFields := []string{"$.items[*].price", "$.items[*].price", "$.x.y[*][*]"}
	if diff := cmp.Diff(wantFields, gotFields); diff != "" {
		t.Errorf("Field() (-want +got):\n%s", diff)
	}
	if !res.Differs {
		t.Error("Differs = false, want true")
	}
}

func TestGeneralize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"$.a[12].b", "$.a[*].b"},
		{`$["x[1]"][3]`, `$["x[1]"][*]`},
		{"header.X", "header.X"},
		{"$", "$"},
		{"$.a[*]", "$.a[*]"},
	}
	for _, tt := range tests {
		if got := generalize(tt.in); got != tt.want {
			t.Errorf("generalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNumEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"1", "1.0", true},
		{"1.10", "1.1", true},
		{"100", "1e2", true},
		{"100", "1E+2", true},
		{"0.001", "1e-3", true},
		{"-0", "0", true},
		{"0e10", "0.000", true},
		{"1", "-1", false},
		{"1.5", "15e-1", true},
		{"9007199254740993", "9007199254740992", false},
		{"1e400", "10e399", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
	}
	for _, tt := range tests {
		if got := numEqual(json.Number(tt.a), json.Number(tt.b)); got != tt.want {
			t.Errorf("numEqual(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := numEqual(json.Number(tt.b), json.Number(tt.a)); got != tt.want {
			t.Errorf("numEqual(%s, %s) = %v, want %v (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestDiffJSONBoundsDifferences(t *testing.T) {
	t.Parallel()
	p, c := []any{}, []any{}
	for i := range 300 {
		p = append(p, i)
		c = append(c, i+1)
	}
	pb, _ := json.Marshal(p)
	cb, _ := json.Marshal(c)
	res := mustEngine(t, Config{}).Compare(pairOf("GET", "/x", answer(200, string(pb)), answer(200, string(cb))))
	if len(res.Body) != maxDifferences || res.Omitted != 300-maxDifferences {
		t.Errorf("got %d differences and %d omitted, want %d and %d", len(res.Body), res.Omitted, maxDifferences, 300-maxDifferences)
	}
	if diff := cmp.Diff([]string{"$[*]"}, res.fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}
