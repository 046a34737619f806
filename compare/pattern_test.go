package compare

import (
	"slices"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/exchange"
)

// The grammar itself is tested in internal/jsonpath; these tests check
// what compare makes of it.

func TestJSONPathErrors(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"a.b":     `path "a.b": must start with $ at offset 0`,
		"$.":      `path "$.": empty field name at offset 2`,
		`$["a]`:   `path "$[\"a]": unterminated quoted key at offset 2`,
		"$.a[-1]": `path "$.a[-1]": [-1]: want an index, * or a quoted key at offset 4`,
	} {
		_, err := New(Config{Normalizers: []Normalizer{{Kind: Ignore, Path: path}}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("path %q: error %v, want it to contain %q", path, err, want)
		}
	}
}

// TestPathsMeanTheSameInRedaction: the same JSON path selects the same
// values as a compare normalizer (Ignore) and as a capture redaction
// FieldPath, on a body with keys that need quoting, repeated names at
// several depths and arrays.
func TestPathsMeanTheSameInRedaction(t *testing.T) {
	t.Parallel()
	const doc = `{"ssn":"v1","a.b":"v2","a":{"b":"v3","ssn":"v4"},` +
		`"items":[{"ssn":"v5","x":"v6"},{"x":"v7"}],"it's":"v8","order-id":"v9",` +
		`"deep":{"er":{"ssn":"v10","x":["v11","v12"]}}}`
	paths := []string{
		"$..ssn", "$['a.b']", `$["a.b"]`, "$.a.b", "$.a", "$.a.*", "$.items[*].x", "$.items[1].x",
		"$.items[0]", `$['it\'s']`, `$["order-id"]`, "$.order-id", "$..x", "$..x[1]", "$.deep.*.ssn",
		"$..[0].ssn", "$.*", "$..*", `$['\u0061'].ssn`,
	}
	leaves := valuePaths(t, doc, strings.ReplaceAll(doc, `"v`, `"w`), Config{})
	for _, path := range paths {
		// compare: what an Ignore normalizer leaves out of the diff
		// against a body whose every value differs.
		kept := valuePaths(t, doc, strings.ReplaceAll(doc, `"v`, `"w`),
			Config{Normalizers: []Normalizer{{Kind: Ignore, Path: path}}})
		var ignored []string
		for _, l := range leaves {
			if !slices.Contains(kept, l) {
				ignored = append(ignored, l)
			}
		}
		// capture: the values a FieldPath redaction replaced, and every
		// value inside them.
		red := &capture.Redactor{FieldPaths: []string{path}, NoDefaultFieldNames: true}
		if err := red.Validate(); err != nil {
			t.Fatalf("capture refuses %q: %v", path, err)
		}
		x := exchange.Exchange{Request: exchange.Request{Method: "GET", URL: "/x"}, Primary: answer(200, doc)}
		red.Redact(&x)
		replaced := valuePaths(t, doc, string(x.Primary.Body), Config{})
		var redacted []string
		for _, l := range leaves {
			if slices.ContainsFunc(replaced, func(r string) bool { return under(l, r) }) {
				redacted = append(redacted, l)
			}
		}
		if len(ignored) == 0 {
			t.Errorf("%s selects nothing in compare: the case proves nothing", path)
		}
		if !slices.Equal(ignored, redacted) {
			t.Errorf("%s selects %q in compare but %q in capture", path, ignored, redacted)
		}
	}
}

// valuePaths lists the paths at which two JSON bodies differ, sorted.
func valuePaths(t *testing.T, a, b string, cfg Config) []string {
	t.Helper()
	res := mustEngine(t, cfg).Compare(pairOf("GET", "/x", answer(200, a), answer(200, b)))
	if res.Omitted > 0 || res.TooLarge {
		t.Fatalf("%d differences omitted", res.Omitted)
	}
	var out []string
	for _, d := range res.Body {
		out = append(out, d.Path)
	}
	slices.Sort(out)
	return out
}

// under reports whether the value at path p is the one at q or inside it.
func under(p, q string) bool {
	return p == q || strings.HasPrefix(p, q) && (p[len(q)] == '.' || p[len(q)] == '[')
}
