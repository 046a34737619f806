package compare

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/exchange"
)

var fuzzEngine, _ = New(Config{})

func fuzzSeeds(f *testing.F) [][]byte {
	order, err := os.ReadFile("testdata/order.json")
	if err != nil {
		f.Fatal(err)
	}
	return [][]byte{
		order,
		[]byte(`{"a":1,"b":[1,2,{"c":null}],"d":"x"}`),
		[]byte(`{"a":1.10,"b":[2,1],"e":{"f":true}}`),
		[]byte(`[1,"1",null,true,{"":[]}]`),
		[]byte(`{"order-id":1e400,"a.b":-0.0}`),
		[]byte(`"just a string"`),
		[]byte("plain text\nwith lines\n"),
		[]byte("\x00\x01binary"),
		[]byte(``),
	}
}

// FuzzJSONDiff: the diff never panics, a body diffed against itself has
// no differences, and swapping the sides swaps added and removed (and the
// values) while keeping every path.
func FuzzJSONDiff(f *testing.F) {
	seeds := fuzzSeeds(f)
	for _, a := range seeds {
		for _, b := range seeds {
			f.Add(a, b)
		}
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		self := fuzzEngine.Compare(pairOf("GET", "/f", answer(200, string(a)), answer(200, string(a))))
		if len(self.Differences()) != 0 {
			t.Fatalf("body differs from itself: %+v", self.Differences())
		}
		ab := fuzzEngine.Compare(pairOf("GET", "/f", answer(200, string(a)), answer(200, string(b))))
		ba := fuzzEngine.Compare(pairOf("GET", "/f", answer(200, string(b)), answer(200, string(a))))
		x, y := ab.Differences(), ba.Differences()
		if len(x) != len(y) || ab.Omitted != ba.Omitted {
			t.Fatalf("a→b has %d differences (%d omitted), b→a %d (%d omitted)", len(x), ab.Omitted, len(y), ba.Omitted)
		}
		for i := range x {
			want := x[i]
			want.Primary, want.Candidate = x[i].Candidate, x[i].Primary
			switch want.Kind {
			case Added:
				want.Kind = Removed
			case Removed:
				want.Kind = Added
			}
			got := y[i]
			if got.Path != want.Path || got.Kind != want.Kind || got.Primary != want.Primary || got.Candidate != want.Candidate {
				t.Fatalf("a→b %+v but b→a %+v", x[i], got)
			}
		}
		if (len(x) > 0) != ab.Differs || ab.Differs != ba.Differs {
			t.Fatalf("Differs a→b %v, b→a %v with %d differences", ab.Differs, ba.Differs, len(x))
		}
		// A binary secondary makes the primary's body be read in every
		// format it can be: as a structured format or text against the
		// candidate, as bytes against the secondary.
		s := textAnswer("application/octet-stream", string(b)+"\x00")
		if tri := fuzzEngine.Compare(tripleOf("GET", "/f", answer(200, string(a)), s, answer(200, string(b)))); len(tri.Noise) == 0 {
			t.Fatalf("no noise against a secondary that differs from every body: %+v", tri)
		}
	})
}

// FuzzTruncated: a body cut anywhere never differs from the whole body,
// nor from the same body cut elsewhere. Truncation may hide differences,
// it must not invent them.
func FuzzTruncated(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, uint16(len(s)/3), uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, body []byte, cut1, cut2 uint16) {
		if hasDuplicateKeys(body) {
			t.Skip("duplicate keys: a later duplicate may override what a prefix shows")
		}
		full := answer(200, string(body))
		a := truncated(answer(200, string(body)), int(cut1)%(len(body)+1))
		b := truncated(answer(200, string(body)), int(cut2)%(len(body)+1))
		for _, pair := range [][2]string{{"full", "a"}, {"a", "full"}, {"a", "b"}} {
			side := map[string]exchange.Response{"full": full, "a": a, "b": b}
			res := fuzzEngine.Compare(pairOf("GET", "/f", side[pair[0]], side[pair[1]]))
			if d := res.Differences(); len(d) != 0 {
				t.Fatalf("%s vs %s (cuts %d, %d of %d): %+v", pair[0], pair[1], len(a.Body), len(b.Body), len(body), d)
			}
		}
	})
}

// hasDuplicateKeys reports whether some JSON object in b repeats a key.
func hasDuplicateKeys(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj    bool
		keys   []string
		expect bool // next string is a key
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.expect {
			if k, ok := tok.(string); ok {
				if slices.Contains(top.keys, k) {
					return true
				}
				top.keys = append(top.keys, k)
				top.expect = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, expect: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].expect = true
		}
	}
}

// FuzzTemplate: templating never panics, gives a path, and is idempotent.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"/", "/orders/123", "/a/b?c=d", "http://h/x/ord-1", "//", "/%41/{id}", "no-slash"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tm := newTemplater(nil, 4, 10)
		got := tm.template("GET", path, true)
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("template(%q) = %q, want a path", path, got)
		}
		if strings.ContainsAny(got, "?#") {
			return // a "#" or "?" that url parsing kept in the path
		}
		if again := tm.template("GET", got, true); again != got {
			t.Fatalf("template(%q) = %q but template(%q) = %q", path, got, got, again)
		}
	})
}
