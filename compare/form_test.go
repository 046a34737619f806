package compare

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/exchange"
)

func formAnswer(body string) exchange.Response {
	return textAnswer("application/x-www-form-urlencoded", body)
}

func TestFormBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		norms []Normalizer
		p, c  string
		want  []brief
	}{
		{name: "pair order does not matter", p: "a=1&b=2", c: "b=2&a=1"},
		{name: "escapes are decoded", p: "name=a+b&x=%41", c: "name=a%20b&x=A"},
		{
			name: "a value changed",
			p:    "qty=1&sku=A",
			c:    "qty=2&sku=A",
			want: []brief{{"form.qty", Changed, `"1"`, `"2"`}},
		},
		{
			name: "repeated keys are lists",
			p:    "tag=a&tag=b",
			c:    "tag=a&tag=c&tag=d",
			want: []brief{{"form.tag[1]", Changed, `"b"`, `"c"`}, {"form.tag[2]", Added, "", `"d"`}},
		},
		{
			name: "keys added and removed",
			p:    "a=1",
			c:    "b=2&b=3",
			want: []brief{{"form.a", Removed, `"1"`, ""}, {"form.b", Added, "", `["2","3"]`}},
		},
		{
			name: "keys that are not identifiers are quoted",
			p:    "order-id=1&items%5B0%5D%5Bsku%5D=A",
			c:    "order-id=2&items%5B0%5D%5Bsku%5D=B",
			want: []brief{{`form["items[0][sku]"]`, Changed, `"A"`, `"B"`}, {`form["order-id"]`, Changed, `"1"`, `"2"`}},
		},
		{
			name: "a body that does not decode compares as text",
			p:    "a=%zz",
			c:    "a=%zy",
			want: []brief{{"body", Changed, "a=%zz", "a=%zy"}},
		},
		{
			name:  "ignore a key",
			norms: []Normalizer{{Kind: Ignore, Path: "form.csrf"}},
			p:     "csrf=abc&qty=1",
			c:     "qty=1&csrf=def",
		},
		{
			name:  "set and sort",
			norms: []Normalizer{{Kind: Set, Path: "form.tag"}, {Kind: Sort, Path: `form["ids"]`}},
			p:     "tag=b&tag=a&tag=a&ids=2&ids=1&ids=1",
			c:     "tag=a&tag=b&ids=1&ids=1&ids=2",
		},
		{
			name:  "replace at a key, and everywhere",
			norms: []Normalizer{{Kind: Replace, Builtin: "uuid", Path: "form.*"}, {Kind: Replace, Pattern: `v\d+`, Replacement: "vN"}},
			p:     "id=6f1c2a9e-8d3b-4c5e-9f7a-1b2c3d4e5f60&ver=v1",
			c:     "id=0a1b2c3d-0000-4c5e-9f7a-1b2c3d4e5f60&ver=v2",
		},
		{
			name:  "tolerance",
			norms: []Normalizer{{Kind: Tolerance, Path: "form.total", Relative: 0.01}},
			p:     "total=100.00&n=1",
			c:     "total=100.5&n=1.0",
			want:  []brief{{"form.n", Changed, `"1"`, `"1.0"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustEngine(t, Config{Normalizers: tt.norms}).Compare(pairOf("POST", "/x", formAnswer(tt.p), formAnswer(tt.c)))
			if tt.want == nil {
				tt.want = []brief{}
			}
			if diff := cmp.Diff(tt.want, briefs(res.Body)); diff != "" {
				t.Errorf("body differences (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormFields(t *testing.T) {
	t.Parallel()
	res := mustEngine(t, Config{}).Compare(pairOf("POST", "/x", formAnswer("tag=a&tag=b&x=1"), formAnswer("tag=a&tag=c&x=2")))
	var got []string
	for _, d := range res.Body {
		got = append(got, d.Path+" → "+d.Field())
	}
	want := []string{"form.tag[1] → form.tag", "form.x → form.x"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if got := (Difference{Path: `form["a[1]"][3]`}).Field(); got != `form["a[1]"]` {
		t.Errorf(`Field(form["a[1]"][3]) = %q, want form["a[1]"]`, got)
	}
}

// TestFormNoise: a token that differs on every answer, the secondary's
// too, is learned as noise; a quantity only the candidate changes is not.
func TestFormNoise(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{Seed: 1})
	form := func(token int, qty string) exchange.Response {
		return formAnswer(fmt.Sprintf("token=t%d&qty=%s", token, qty))
	}
	const n = 20
	for i := range n {
		qty := "1"
		if i%2 == 0 {
			qty = "2"
		}
		e.Observe(tripleOf("POST", "/cart", form(3*i, "1"), form(3*i+1, "1"), form(3*i+2, qty)))
	}
	fields := map[string]FieldReport{}
	for _, f := range e.Report().Endpoints[0].Fields {
		fields[f.Path] = f
	}
	if f := fields["form.token"]; !f.Noisy || f.Diffs != n {
		t.Errorf("form.token = %+v, want noisy with %d diffs", f, n)
	}
	if f := fields["form.qty"]; f.Noisy || f.Diffs != n/2 {
		t.Errorf("form.qty = %+v, want not noisy with %d diffs", f, n/2)
	}
	if res := e.Compare(pairOf("POST", "/cart", form(1, "1"), form(2, "1"))); res.Differs {
		t.Errorf("a token-only difference differs: %+v", res.Body)
	}
}

func TestFormPatterns(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]formPattern{
		"form.qty":      {key: "qty"},
		`form["a[0]"]`:  {key: "a[0]"},
		"form.*":        {any: true},
		"form[*]":       {any: true},
		"form.order-id": {key: "order-id"},
	} {
		if got, err := parseFormPattern(s); err != nil || got != want {
			t.Errorf("parseFormPattern(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for s, want := range map[string]string{
		"form.a.b":    "want one key",
		"form.tag[1]": "want one key",
		"form[1]":     "not an index",
		"form.":       "empty field name",
	} {
		if _, err := parseFormPattern(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseFormPattern(%q) = %v, want an error containing %q", s, err, want)
		}
	}
}

// FuzzFormDiff: the form differ never panics, a body diffed against its
// own second parse has no differences, and swapping the sides swaps added
// and removed while keeping every path.
func FuzzFormDiff(f *testing.F) {
	seeds := []string{"a=1&b=2", "tag=a&tag=b", "x=%41&y", "order-id=1&items%5B0%5D=A", "a=%zz", "", "&&=&"}
	for _, a := range seeds {
		for _, b := range seeds[:3] {
			f.Add(a, b)
		}
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if x, ok := (formFormat{}).parse([]byte(a)); ok {
			y, _ := (formFormat{}).parse([]byte(a))
			if d := diffDocs(formFormat{}, x, y); len(d.diffs) != 0 {
				t.Fatalf("body differs from itself: %+v", d.diffs)
			}
		}
		ab := fuzzEngine.Compare(pairOf("POST", "/f", formAnswer(a), formAnswer(b)))
		ba := fuzzEngine.Compare(pairOf("POST", "/f", formAnswer(b), formAnswer(a)))
		x, y := ab.Differences(), ba.Differences()
		if len(x) != len(y) {
			t.Fatalf("a→b has %d differences, b→a %d", len(x), len(y))
		}
		for i := range x {
			if x[i].Path != y[i].Path || x[i].Primary != y[i].Candidate || x[i].Candidate != y[i].Primary {
				t.Fatalf("a→b %+v but b→a %+v", x[i], y[i])
			}
		}
	})
}
