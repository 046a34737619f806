package compare

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/exchange"
)

func xmlAnswer(body string) exchange.Response { return textAnswer("application/xml", body) }

func TestXMLBodies(t *testing.T) {
	t.Parallel()
	twoItems := `<order id="1"><items><item><price>3.10</price></item><item><price>2.00</price></item></items></order>`
	deep := func(leaf string) string {
		return strings.Repeat("<a>", maxXMLDepth+1) + leaf + strings.Repeat("</a>", maxXMLDepth+1)
	}
	tests := []struct {
		name string
		p, c exchange.Response
		want []brief
	}{
		{
			name: "equal despite indentation, prefixes and the order of different names",
			p:    xmlAnswer(`<?xml version="1.0"?><o:order xmlns:o="urn:orders" id="1"><o:total>3</o:total><o:items><o:item sku="A"/></o:items></o:order>`),
			c: xmlAnswer(`<order xmlns="urn:orders" id="1">
  <items>
    <item sku="A"></item>
  </items>
  <!-- a comment -->
  <total> 3 </total>
</order>`),
		},
		{
			name: "a price inside the second item",
			p:    xmlAnswer(twoItems),
			c:    xmlAnswer(strings.Replace(twoItems, "2.00", "2.50", 1)),
			want: []brief{{"/order/items/item[2]/price", Changed, `"2.00"`, `"2.50"`}},
		},
		{
			name: "attributes changed, added and removed",
			p:    xmlAnswer(`<order id="1" state="new"/>`),
			c:    xmlAnswer(`<order channel="web" id="2"/>`),
			want: []brief{
				{"/order/@channel", Added, "", `"web"`},
				{"/order/@id", Changed, `"1"`, `"2"`},
				{"/order/@state", Removed, `"new"`, ""},
			},
		},
		{
			name: "an element added to a list",
			p:    xmlAnswer(`<order><items><item sku="A"><price>1</price></item></items></order>`),
			c:    xmlAnswer(`<order><items><item sku="A"><price>1</price></item><item sku="B"><price>2 &amp; 3</price></item></items></order>`),
			want: []brief{{"/order/items/item[2]", Added, "", `<item sku="B"><price>2 &amp; 3</price></item>`}},
		},
		{
			name: "same-named siblings compare in order",
			p:    xmlAnswer(`<l><i>a</i><i>b</i></l>`),
			c:    xmlAnswer(`<l><i>b</i><i>a</i></l>`),
			want: []brief{{"/l/i[1]", Changed, `"a"`, `"b"`}, {"/l/i[2]", Changed, `"b"`, `"a"`}},
		},
		{
			name: "a namespace change is reported where it starts",
			p:    xmlAnswer(`<order xmlns="urn:v1"><id>1</id><x:meta xmlns:x="urn:meta"><v>1</v></x:meta></order>`),
			c:    xmlAnswer(`<order xmlns="urn:v2"><id>1</id><x:meta xmlns:x="urn:meta"><v>1</v></x:meta></order>`),
			want: []brief{{"/order/@xmlns", Changed, `"urn:v1"`, `"urn:v2"`}},
		},
		{
			name: "namespaced attributes",
			p:    xmlAnswer(`<a xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:q="urn:q" xsi:type="T1" q:id="1"/>`),
			c:    xmlAnswer(`<a xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:r="urn:q" i:type="T2" r:id="2"/>`),
			want: []brief{{"/a/@xsi:type", Changed, `"T1"`, `"T2"`}, {"/a/@{urn:q}id", Changed, `"1"`, `"2"`}},
		},
		{
			name: "root renamed",
			p:    xmlAnswer(`<order/>`),
			c:    xmlAnswer(`<invoice/>`),
			want: []brief{{"/invoice", Added, "", "<invoice/>"}, {"/order", Removed, "<order/>", ""}},
		},
		{
			name: "mixed content joins its text runs",
			p:    xmlAnswer(`<p>Hello <b>world</b>!</p>`),
			c:    xmlAnswer(`<p>Hello <b>world</b>?</p>`),
			want: []brief{{"/p", Changed, `"Hello !"`, `"Hello ?"`}},
		},
		{
			name: "CDATA and entities are the same text",
			p:    xmlAnswer(`<a><![CDATA[x < y]]></a>`),
			c:    xmlAnswer(`<a>x &lt; y</a>`),
		},
		{
			name: "sniffed by its declaration",
			p:    textAnswer("text/plain", `<?xml version="1.0"?><a><b>1</b></a>`),
			c:    textAnswer("text/plain", `<?xml version="1.0"?><a><b>2</b></a>`),
			want: []brief{{"/a/b", Changed, `"1"`, `"2"`}},
		},
		{
			name: "a declared charset is read as is",
			p:    xmlAnswer(`<?xml version="1.0" encoding="ISO-8859-1"?><a>1</a>`),
			c:    xmlAnswer(`<?xml version="1.0" encoding="ISO-8859-1"?><a>2</a>`),
			want: []brief{{"/a", Changed, `"1"`, `"2"`}},
		},
		{
			name: "XML against JSON is a type change",
			p:    xmlAnswer(`<a>1</a>`),
			c:    answer(200, `{"a":1}`),
			want: []brief{{"body", TypeChanged, "application/xml, 8 bytes", "JSON, 7 bytes"}},
		},
		{
			name: "XML against malformed XML is a type change",
			p:    xmlAnswer(`<order><id>1</id></order>`),
			c:    xmlAnswer(`<order><id>1</id>`),
			want: []brief{{"body", TypeChanged, "XML, 25 bytes", "application/xml, 17 bytes"}},
		},
		{
			name: "two roots compare as text",
			p:    xmlAnswer("<a>1</a>\n<b/>"),
			c:    xmlAnswer("<a>2</a>\n<b/>"),
			want: []brief{{"body", Changed, "<a>1</a>", "<a>2</a>"}},
		},
		{
			name: "too deep compares as text",
			p:    xmlAnswer(deep("x")),
			c:    xmlAnswer(deep("y")),
			want: []brief{{"body", Changed, clipTo(deep("x"), maxLineLen), clipTo(deep("y"), maxLineLen)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustEngine(t, Config{}).Compare(pairOf("GET", "/x", tt.p, tt.c))
			if tt.want == nil {
				tt.want = []brief{}
			}
			if diff := cmp.Diff(tt.want, briefs(res.Body)); diff != "" {
				t.Errorf("body differences (-want +got):\n%s", diff)
			}
			if res.Differs != (len(tt.want) > 0) {
				t.Errorf("Differs = %v with %d differences", res.Differs, len(tt.want))
			}
		})
	}
}

func TestXMLFieldsDropIndexes(t *testing.T) {
	t.Parallel()
	p := xmlAnswer(`<o><i k="1"><v>1</v></i><i k="2"><v>2</v></i></o>`)
	c := xmlAnswer(`<o><i k="1"><v>1</v></i><i k="3"><v>3</v></i></o>`)
	res := mustEngine(t, Config{}).Compare(pairOf("GET", "/x", p, c))
	var got []string
	for _, d := range res.Body {
		got = append(got, d.Path+" → "+d.Field())
	}
	want := []string{"/o/i[2]/@k → /o/i/@k", "/o/i[2]/v → /o/i/v"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	for _, path := range []string{"/o/i[2]/v", "/o/i[12]/@{urn:x[1]}k"} {
		d := Difference{Path: path}
		if want := map[string]string{"/o/i[2]/v": "/o/i/v", "/o/i[12]/@{urn:x[1]}k": "/o/i/@{urn:x[1]}k"}[path]; d.Field() != want {
			t.Errorf("Field(%q) = %q, want %q", path, d.Field(), want)
		}
	}
}

// xmlOrder renders an order; ts varies per answer, price per version.
func xmlOrder(ts int, price string) string {
	return fmt.Sprintf(`<order id="ord-1"><generated_at>2024-05-01T12:00:%02dZ</generated_at>`+
		`<items><item><price>1.00</price></item><item><price>%s</price></item></items></order>`, ts%60, price)
}

// TestXMLNoise: a timestamp element that also differs between primary
// and secondary is noise, in one exchange and as learned over many; a
// price that only the candidate changes is a real difference.
func TestXMLNoise(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{Seed: 1})

	res := e.Compare(tripleOf("GET", "/orders/ord-1",
		xmlAnswer(xmlOrder(1, "2.00")), xmlAnswer(xmlOrder(2, "2.00")), xmlAnswer(xmlOrder(3, "2.00"))))
	if res.Differs || len(res.Body) != 1 || res.Body[0].Path != "/order/generated_at" || !res.Body[0].Noise {
		t.Errorf("noise only: Differs %v, body %+v; want one noise difference at /order/generated_at", res.Differs, res.Body)
	}
	res = e.Compare(tripleOf("GET", "/orders/ord-1",
		xmlAnswer(xmlOrder(1, "2.00")), xmlAnswer(xmlOrder(2, "2.00")), xmlAnswer(xmlOrder(3, "2.50"))))
	want := []Difference{
		{Path: "/order/generated_at", Kind: Changed, Primary: `"2024-05-01T12:00:01Z"`, Candidate: `"2024-05-01T12:00:03Z"`, Noise: true},
		{Path: "/order/items/item[2]/price", Kind: Changed, Primary: `"2.00"`, Candidate: `"2.50"`},
	}
	if diff := cmp.Diff(want, res.Body, cmp.AllowUnexported(Difference{}), cmpIgnoreField); diff != "" || !res.Differs {
		t.Errorf("real difference: Differs %v (want true), body (-want +got):\n%s", res.Differs, diff)
	}

	const n = 40
	for i := range n {
		price := "2.00"
		if i%4 == 0 {
			price = "2.50"
		}
		e.Observe(tripleOf("GET", "/orders/ord-1",
			xmlAnswer(xmlOrder(3*i, "2.00")), xmlAnswer(xmlOrder(3*i+1, "2.00")), xmlAnswer(xmlOrder(3*i+2, price))))
	}
	fields := map[string]FieldReport{}
	ep := e.Report().Endpoints[0]
	for _, f := range ep.Fields {
		fields[f.Path] = f
	}
	ts, pr := fields["/order/generated_at"], fields["/order/items/item/price"]
	if !ts.Noisy || ts.Diffs != n || ts.Noise != n {
		t.Errorf("generated_at = %+v, want noisy with %d diffs and %d noise", ts, n, n)
	}
	if pr.Noisy || pr.Diffs != n/4 || pr.Noise != 0 {
		t.Errorf("price = %+v, want not noisy with %d diffs", pr, n/4)
	}
	if ep.Diffs != n/4 || ep.NoiseOnly != n-n/4 {
		t.Errorf("diffs = %d, noise only = %d; want %d and %d", ep.Diffs, ep.NoiseOnly, n/4, n-n/4)
	}
	// Learned: without a secondary, a timestamp-only difference is noise.
	res = e.Compare(pairOf("GET", "/orders/ord-1", xmlAnswer(xmlOrder(1, "2.00")), xmlAnswer(xmlOrder(2, "2.00"))))
	if res.Differs || len(res.Body) != 1 || !res.Body[0].Noise {
		t.Errorf("learned noise: %+v, want one noise difference and Differs false", res)
	}
}

var cmpIgnoreField = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".field" }, cmp.Ignore())

func TestXMLNormalizers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		norms []Normalizer
		p, c  string
		want  []brief
	}{
		{
			name:  "ignore an element at any depth",
			norms: []Normalizer{{Kind: Ignore, Path: "//generated_at"}},
			p:     xmlOrder(1, "2.00"),
			c:     xmlOrder(2, "2.50"),
			want:  []brief{{"/order/items/item[2]/price", Changed, `"2.00"`, `"2.50"`}},
		},
		{
			name:  "ignore an attribute, and one element present on one side only",
			norms: []Normalizer{{Kind: Ignore, Path: "/order/@trace"}, {Kind: Ignore, Path: "/order/debug"}},
			p:     `<order trace="a" id="1"><debug>x</debug></order>`,
			c:     `<order trace="b" id="1"/>`,
		},
		{
			name:  "ignore every attribute",
			norms: []Normalizer{{Kind: Ignore, Path: "//@*"}},
			p:     `<o a="1"><i b="2">x</i></o>`,
			c:     `<o a="3"><i c="4">x</i></o>`,
		},
		{
			name:  "ignoring the second item keeps the third one's index",
			norms: []Normalizer{{Kind: Ignore, Path: "/l/i[2]"}},
			p:     `<l><i>a</i><i>b</i><i>c</i></l>`,
			c:     `<l><i>a</i><i>x</i><i>y</i></l>`,
			want:  []brief{{"/l/i[3]", Changed, `"c"`, `"y"`}},
		},
		{
			name:  "replace a builtin in text at a path",
			norms: []Normalizer{{Kind: Replace, Builtin: "uuid", Path: "/order/*/id"}},
			p:     `<order><item><id>6f1c2a9e-8d3b-4c5e-9f7a-1b2c3d4e5f60</id></item><ref>6f1c2a9e-8d3b-4c5e-9f7a-1b2c3d4e5f60</ref></order>`,
			c:     `<order><item><id>0a1b2c3d-0000-4c5e-9f7a-1b2c3d4e5f60</id></item><ref>0a1b2c3d-0000-4c5e-9f7a-1b2c3d4e5f60</ref></order>`,
			want:  []brief{{"/order/ref", Changed, `"6f1c2a9e-8d3b-4c5e-9f7a-1b2c3d4e5f60"`, `"0a1b2c3d-0000-4c5e-9f7a-1b2c3d4e5f60"`}},
		},
		{
			name:  "replace without a path reaches text and attributes",
			norms: []Normalizer{{Kind: Replace, Builtin: "rfc3339"}},
			p:     `<o at="2024-05-01T12:00:00Z"><t>at 2024-05-01T12:00:00Z</t></o>`,
			c:     `<o at="2024-06-01T00:00:00Z"><t>at 2024-06-01T00:00:00Z</t></o>`,
		},
		{
			name:  "tolerance on text and attributes",
			norms: []Normalizer{{Kind: Tolerance, Path: "//price", Tolerance: 0.01}, {Kind: Tolerance, Path: "//@w", Relative: 0.1}},
			p:     `<o><price>2.00</price><b w="100"/><price>1</price><q>1.0</q></o>`,
			c:     `<o><price>2.005</price><b w="105"/><price>2</price><q>1</q></o>`,
			want:  []brief{{"/o/price[2]", Changed, `"1"`, `"2"`}, {"/o/q", Changed, `"1.0"`, `"1"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustEngine(t, Config{Normalizers: tt.norms}).Compare(pairOf("GET", "/x", xmlAnswer(tt.p), xmlAnswer(tt.c)))
			if tt.want == nil {
				tt.want = []brief{}
			}
			if diff := cmp.Diff(tt.want, briefs(res.Body)); diff != "" {
				t.Errorf("body differences (-want +got):\n%s", diff)
			}
		})
	}
}

func TestXPattern(t *testing.T) {
	t.Parallel()
	valid := []string{"/order", "/order/items/item[2]/price", "//updated_at", "/order/*/price", "/order/@id",
		"//@*", "/a//b[3]//@xsi:type", "/a/@{http://x/y}z", "/*"}
	for _, s := range valid {
		p, err := parseXPattern(s)
		if err != nil {
			t.Errorf("parseXPattern(%q) = %v", s, err)
			continue
		}
		if p.String() != s {
			t.Errorf("parseXPattern(%q).String() = %q", s, p.String())
		}
	}
	invalid := map[string]string{
		"order":                                "must start with /",
		"/":                                    "empty step",
		"/a//":                                 "empty step",
		"/a/@id/b":                             "attribute step must be the last",
		"/a/item[0]":                           "want a position",
		"/a/item[x]":                           "want a position",
		"/a/item[2":                            "unterminated [",
		"/ns:order":                            "drop the prefix",
		"/a/@{}x":                              "want @{uri}name",
		"/a b":                                 "want an element name",
		"/a/@":                                 "want @name",
		"/" + "\xff":                           "not valid UTF-8",
		strings.Repeat("/a", maxPatternSegs+1): "more than",
	}
	for s, want := range invalid {
		if _, err := parseXPattern(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseXPattern(%q) = %v, want an error containing %q", s, err, want)
		}
	}
}

// FuzzXMLDiff: the XML differ never panics, a body diffed against its own
// second parse has no differences, and swapping the sides swaps added and
// removed (and the values) while keeping every path.
func FuzzXMLDiff(f *testing.F) {
	seeds := []string{
		xmlOrder(1, "2.00"),
		`<?xml version="1.0"?><o:order xmlns:o="urn:orders" id="1"><o:total>3</o:total></o:order>`,
		`<l><i>a</i><i>b</i><i k="1"/></l>`,
		`<p>Hello <b>world</b>!<![CDATA[<x>]]></p>`,
		`<a xmlns="urn:v1" xmlns:x="urn:x" x:id="1"><b xmlns="urn:v2"/></a>`,
		`<a><b></a>`,
		`<a/><b/>`,
		`not xml`,
		``,
	}
	for _, a := range seeds {
		for _, b := range seeds[:4] {
			f.Add([]byte(a), []byte(b))
		}
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if x, ok := (xmlFormat{}).parse(a); ok {
			y, _ := (xmlFormat{}).parse(a)
			if d := diffDocs(xmlFormat{}, x, y); len(d.diffs) != 0 || len(d.fields) != 0 {
				t.Fatalf("body differs from itself: %+v", d.diffs)
			}
		}
		ab := fuzzEngine.Compare(pairOf("GET", "/f", xmlAnswer(string(a)), xmlAnswer(string(b))))
		ba := fuzzEngine.Compare(pairOf("GET", "/f", xmlAnswer(string(b)), xmlAnswer(string(a))))
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
	})
}

// FuzzXPattern: parsing never panics, and a parsed pattern prints as text
// that parses back to the same pattern.
func FuzzXPattern(f *testing.F) {
	for _, s := range []string{"/a", "/a/b[2]/@c", "//x", "/a//@*", "/a/@{u/v}w", "/", "a", "/a[", "//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseXPattern(s)
		if err != nil {
			return
		}
		q, err := parseXPattern(p.String())
		if err != nil || q.String() != p.String() {
			t.Fatalf("%q → %q → %v, %v", s, p.String(), q, err)
		}
	})
}
