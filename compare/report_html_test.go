package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReportHTMLGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := fixtureReport(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.html", b.Bytes())
}

// hostileText would run script or fetch an image if a report let it
// through unescaped.
const hostileText = `</pre></code></td><script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">&amp;`

// hostileReport puts hostileText in every string a report shows.
func hostileReport() *Report {
	var key bytes.Buffer
	enc := json.NewEncoder(&key)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(hostileText)
	q := strings.TrimSpace(key.String()) // "…" with < and > left as they are
	d := Difference{Path: `$["k"]`, Kind: Changed, Primary: hostileText, Candidate: hostileText, Detail: hostileText}
	return &Report{
		Schema: ReportSchema, Verdict: Fail, Reasons: []string{hostileText},
		Rules: Rules{MinPairs: 1, MaxDiffRate: 0.01, MaxErrorRate: -1},
		Endpoints: []EndpointReport{{
			Method: "GET", Route: "/x/" + hostileText, Verdict: Fail,
			Counts: Counts{Pairs: 1, Diffs: 1, DiffRate: 1, PrimaryP50Ms: 1, CandidateP99Ms: 2},
			Fields: []FieldReport{{
				Path: `$["k"]`, Diffs: 1, DiffRate: 1, Noisy: true,
				Exemplars: []Exemplar{{
					ExchangeID: hostileText, Method: "GET", URL: "/x?q=" + hostileText, Difference: d,
					Secondary:   &Difference{Path: `$["k"]`, Candidate: hostileText},
					RequestBody: hostileText, PrimaryBody: `{"k":` + q + `,` + q + `:[` + q + `]}`, CandidateBody: hostileText,
				}},
			}, {Path: hostileText, Diffs: 1}},
			Errors: []ErrorCount{{Error: hostileText, Count: 1}},
		}},
	}
}

func TestReportHTMLEscapesEverything(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := hostileReport().WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script>document", "<img", "</pre></code></td>"} {
		if strings.Contains(page, bad) {
			i := strings.Index(page, bad)
			t.Errorf("page holds %q unescaped: …%s…", bad, page[max(0, i-80):min(len(page), i+80)])
		}
	}
	if n := strings.Count(page, "<script>"); n != 1 {
		t.Errorf("page has %d <script> elements, want only its own", n)
	}
}

func TestReportHTMLNothingToShow(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{})
	var b bytes.Buffer
	if err := e.Report().WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`data-verdict="inconclusive"`, "nothing was judged", "No exchanges were observed."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("empty report lacks %q", want)
		}
	}
}

func TestJSONHTML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		marks      []string
		want       string
		notJSON    bool
	}{
		{
			name: "marks a nested value", body: `{"a":[1,{"b":"x<y"}],"c":{}}`, marks: []string{"$.a[1].b"},
			want: "{\n  \"a\": [\n    1,\n    {\n      \"b\": <mark class=\"diff\" data-path=\"$.a[1].b\">\"x&lt;y\"</mark>\n    }\n  ],\n  \"c\": {}\n}",
		},
		{
			name: "marks a whole container and a quoted key", body: `{"order-id":{"n":1},"l":[]}`, marks: []string{`$["order-id"]`, "$.l"},
			want: "{\n  \"order-id\": <mark class=\"diff\" data-path=\"$[&#34;order-id&#34;]\">{\n    \"n\": 1\n  }</mark>,\n" +
				"  \"l\": <mark class=\"diff\" data-path=\"$.l\">[]</mark>\n}",
		},
		{
			name: "keeps numbers as written", body: `[1.10, -0.0, 1e400, true, null]`, marks: []string{"$[2]"},
			want: "[\n  1.10,\n  -0.0,\n  <mark class=\"diff\" data-path=\"$[2]\">1e400</mark>,\n  true,\n  null\n]",
		},
		{
			name: "a body cut short: as far as it parses, then the rest", body: `{"a":{"b":1,"c":"tru…`, marks: []string{"$.a"},
			want: "{\n  \"a\": <mark class=\"diff\" data-path=\"$.a\">{\n    \"b\": 1,\n    \"c\": </mark>\n\"tru…",
		},
		{name: "text", body: `status: ok`, notJSON: true},
		{name: "a JSON string is shown as it is", body: `"x"`, notJSON: true},
		{name: "broken early", body: `{]`, want: "{\n]"},
		{name: "ends inside a value", body: `[[1`, marks: []string{"$"}, want: "<mark class=\"diff\" data-path=\"$\">[\n  [\n    1</mark>"},
	}
	for _, tt := range tests {
		m := marks{}
		for _, p := range tt.marks {
			m[p] = false
		}
		got, ok := jsonHTML(tt.body, m)
		if ok == tt.notJSON {
			t.Errorf("%s: jsonHTML ok = %v, want %v", tt.name, ok, !tt.notJSON)
			continue
		}
		if diff := cmp.Diff(tt.want, string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestJSONHTMLIndentIsBounded(t *testing.T) {
	t.Parallel()
	const depth = 1000
	body := strings.Repeat("[", depth) + strings.Repeat("]", depth)
	got, ok := jsonHTML(body, nil)
	if !ok {
		t.Fatal("deep array not printed as JSON")
	}
	// Only the first htmlMaxIndent levels get lines of their own.
	if limit := 2*depth + 2*htmlMaxIndent*(2*htmlMaxIndent+1); len(got) > limit {
		t.Errorf("%d levels printed in %d bytes, want at most %d", depth, len(got), limit)
	}
}

func TestLinesHTML(t *testing.T) {
	t.Parallel()
	got := linesHTML("a\nb<\nc", "a\nB\nc\nd", marks{"body": true})
	want := "a\n<mark class=\"diff noise\" data-path=\"body\">b&lt;</mark>\nc"
	if string(got) != want {
		t.Errorf("linesHTML = %q, want %q", got, want)
	}
}

var markTag = regexp.MustCompile(`<mark class="diff( noise)?" data-path="[^"<>]*">|</mark>`)

// FuzzBodyHTML: whatever the body, the page gets only balanced marks and
// escaped text; a body that is not JSON reads back exactly.
func FuzzBodyHTML(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(string(s), `{"a":2}`)
	}
	f.Add(`{"a":{"b":[1,2`, "")
	f.Fuzz(func(t *testing.T, body, other string) {
		m := marks{"$": false, "$.a": true, "$.b[1]": false, `$["order-id"]`: false, "$.items[0].price": true, "body": false}
		got := string(bodyHTML(body, other, m))
		depth := 0
		for _, m := range markTag.FindAllString(got, -1) {
			if m == "</mark>" {
				depth--
			} else {
				depth++
			}
			if depth < 0 || depth > 1+len(m) {
				t.Fatalf("marks unbalanced in %q", got)
			}
		}
		if depth != 0 {
			t.Fatalf("%d marks left open in %q", depth, got)
		}
		text := markTag.ReplaceAllString(got, "")
		if strings.ContainsAny(text, "<>") {
			t.Fatalf("unescaped markup in %q", got)
		}
		if _, isJSON := jsonHTML(body, m); !isJSON && html.UnescapeString(text) != body {
			t.Fatalf("text body %q reads back as %q", body, html.UnescapeString(text))
		}
	})
}

// The page grows with the report, never faster than a fixed factor of
// its JSON form, whatever the bodies' shape: the worst case is a long
// array of one-digit numbers at the deepest indented level, each on a
// line of its own.
func TestReportHTMLSizeIsBoundedByTheReport(t *testing.T) {
	t.Parallel()
	nest := func(depth int, v string) string { return strings.Repeat("[", depth) + v + strings.Repeat("]", depth) }
	flat := strings.TrimSuffix(strings.Repeat("1,", 600), ",")
	shapes := map[string]func(i int) string{
		"deep":             func(i int) string { return nest(300, fmt.Sprint(i%2)) },
		"flat at indent 8": func(i int) string { return nest(htmlMaxIndent, fmt.Sprint(i%2)+","+flat) },
	}
	for name, body := range shapes {
		e := mustEngine(t, Config{Exemplars: 5})
		for i := range 200 {
			x := pairOf("GET", fmt.Sprintf("/e%d/x", i%20), answer(200, body(0)), answer(200, body(i)))
			x.Request.ID = fmt.Sprint("req-", i)
			e.Observe(x)
		}
		r := e.Report()
		var js, page bytes.Buffer
		if err := r.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteHTML(&page); err != nil {
			t.Fatal(err)
		}
		const factor, fixed = 10, 32 << 10 // fixed: style, script and the page's frame
		if limit := factor*js.Len() + fixed; page.Len() > limit {
			t.Errorf("%s: page is %d bytes for a %d-byte JSON report, want at most %d", name, page.Len(), js.Len(), limit)
		}
		if n := strings.Count(page.String(), `<article class="example"`); n != 20*5/2 {
			t.Errorf("%s: %d examples shown, want the report's %d", name, n, 20*5/2)
		}
		t.Logf("%s: page %d bytes, JSON report %d bytes (%.1f×)", name, page.Len(), js.Len(), float64(page.Len())/float64(js.Len()))
	}
}
