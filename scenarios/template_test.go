package scenarios

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/google/go-cmp/cmp"
)

func TestTemplateRender(t *testing.T) {
	t.Parallel()
	funcs := templateFuncs(gofakeit.New(7))
	data := &TemplateData{Synthetic: true, RunID: "r1", JourneyID: "r1-3", Vars: map[string]string{"id": "ord-1", "q": `a "b"`}}
	tests := []struct {
		name, text string
		want       *regexp.Regexp
		vars       []string
	}{
		{"static", "/orders", regexp.MustCompile(`^/orders$`), nil},
		{"dot fields", "{{ .Synthetic }} {{ .RunID }} {{ .JourneyID }}", regexp.MustCompile(`^true r1 r1-3$`), nil},
		{"vars", "/orders/{{ .Vars.id }}/{{ $.Vars.id }}", regexp.MustCompile(`^/orders/ord-1/ord-1$`), []string{"id"}},
		{"json quotes", `{"q": {{ json .Vars.q }}}`, regexp.MustCompile(`^\{"q": "a \\"b\\""\}$`), []string{"q"}},
		{"fake", "{{ fake.Name }}|{{ fake.Email }}", regexp.MustCompile(`^\S.*\|\S+@\S+$`), nil},
		{"pick", `{{ pick "pizza" "salad" }}`, regexp.MustCompile(`^(pizza|salad)$`), nil},
		{"intRange", "{{ intRange 1 3 }}", regexp.MustCompile(`^[123]$`), nil},
		{"uuid", "{{ uuid }}", regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`), nil},
		{"range over intRange", `{{ range $i := intRange 2 2 }}x{{ end }}`, regexp.MustCompile(`^xx$`), nil},
		{"range over vars", `{{ range $k, $v := .Vars }}{{ $k }};{{ end }}`, regexp.MustCompile(`^id;q;$`), nil},
		{"with keeps vars out", `{{ with .Vars }}{{ .id }}{{ end }}`, regexp.MustCompile(`^ord-1$`), nil},
	}
	for _, tt := range tests {
		c, err := compileTemplate("f", tt.text, funcs, maxRenderBody)
		if err != nil {
			t.Errorf("%s: compile: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.vars, c.vars); diff != "" {
			t.Errorf("%s: vars (-want +got):\n%s", tt.name, diff)
		}
		for range 20 { // random funcs: every draw must fit
			got, err := c.string(data)
			if err != nil || !tt.want.MatchString(got) {
				t.Errorf("%s: render = %q, %v; want match %s", tt.name, got, err, tt.want)
				break
			}
		}
	}
}

func TestTemplateRejects(t *testing.T) {
	t.Parallel()
	funcs := templateFuncs(gofakeit.New(1))
	tests := []struct{ text, want string }{
		{"{{ .Nope }}", "unknown field .Nope"},
		{"{{ range 100000 }}{{ end }}", "range supports .Vars"},
		{"{{ range intRange 1 5000 }}{{ end }}", "range supports .Vars"},
		{"{{ range fake.Uint32 }}{{ end }}", "range supports .Vars"},
		{"{{ range 3 }}{{ range 3 }}{{ end }}{{ end }}", "a range inside a range"},
		{`{{ define "x" }}{{ end }}{{ template "x" }}`, "{{ template }} is not supported"},
		{"{{ nope }}", `function "nope" not defined`},
		{"{{ fake.ImagePng 12000 12000 }}", "fake.ImagePng is not available"},
		{`{{ fake.Generate "{imagepng:9000,9000}" }}`, "fake.Generate is not available"},
		{`{{ fake.Regex "a{99999}" }}`, "fake.Regex is not available"},
		{"{{ fake.Seed 1 }}", "fake.Seed is not available"},
		{"{{ $f := fake }}{{ $f.ImagePng 9 9 }}", "fake must be followed by a function name"},
		{"{{ with fake }}{{ .ImagePng 9 9 }}{{ end }}", "fake must be followed by a function name"},
		{"{{ (fake).ImagePng 9 9 }}", "fake must be followed by a function name"},
		{"{{ fake | printf \"%v\" }}", "fake must be followed by a function name"},
	}
	for _, tt := range tests {
		_, err := compileTemplate("f", tt.text, funcs, maxRenderBody)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("compile %q = %v, want an error containing %q", tt.text, err, tt.want)
		}
	}
}

// TestTemplateBounds: whatever a template asks for, a render ends with at
// most its limit of bytes, and says why it stopped.
func TestTemplateBounds(t *testing.T) {
	t.Parallel()
	funcs := templateFuncs(gofakeit.New(1))
	tests := []struct {
		text  string
		limit int
		want  string // "" renders
	}{
		{"{{ fake.DigitN 1000 }}", maxRenderLine, ""},
		{"{{ fake.DigitN 1001 }}", maxRenderLine, "fake.DigitN 1001: want at most 1000"},
		{"{{ fake.LetterN 4000000000 }}", maxRenderLine, "fake.LetterN"},
		{"{{ fake.Password true true true true false 100000 }}", maxRenderLine, "fake.Password 100000: want at most 1000"},
		{"{{ fake.LoremIpsumParagraph 100 100 100 \"\\n\" }}", maxRenderBody, "1000000 words, want at most 1000"},
		{"{{ fake.LoremIpsumSentence -1 }}", maxRenderBody, "want at most 1000"},
		{"{{ fake.HexUint 99999999 }}", maxRenderBody, "fake.HexUint 99999999"},
		{`{{ printf "%0999999999d" 1 }}`, maxRenderBody, "widths and precisions up to 1000"},
		{`{{ printf "%.5000f" 1.5 }}`, maxRenderBody, "widths and precisions up to 1000"},
		{`{{ printf "%*d" 999999999 1 }}`, maxRenderBody, "widths from arguments"},
		{`{{ printf "%08.3f|%-5s|%[1]v" 1.5 "x" }}`, maxRenderBody, ""},
		{`{{ range 1000 }}{{ printf "%1000d" 1 }}{{ printf "%100d" 2 }}{{ end }}`, maxRenderBody, "renders too much: more than 1 MiB"},
		{`{{ range 1000 }}{{ printf "%1000d" 1 }}{{ end }}`, maxRenderLine, "renders too much: more than 16 KiB"},
		{strings.Repeat("x", maxRenderLine+1), maxRenderLine, "more than 16 KiB"},
	}
	for _, tt := range tests {
		c, err := compileTemplate("f", tt.text, funcs, tt.limit)
		if err == nil {
			var out string
			out, err = c.string(&TemplateData{Vars: map[string]string{}})
			if len(out) > tt.limit {
				t.Errorf("%.60s: rendered %d bytes, limit %d", tt.text, len(out), tt.limit)
			}
		}
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%.60s: %v, want it to render", tt.text, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%.60s: %v, want an error containing %q", tt.text, err, tt.want)
		}
	}
}

// TestRenderDeadline: a render still writing at its deadline stops there.
func TestRenderDeadline(t *testing.T) {
	t.Parallel()
	w := &renderWriter{limit: 100, deadline: time.Now().Add(-time.Nanosecond)}
	if n, err := w.Write([]byte("x")); n != 0 || !errors.Is(err, errRenderTooSlow) || len(w.buf) != 0 {
		t.Errorf("write after the deadline = %d, %v; want 0, %v", n, err, errRenderTooSlow)
	}
}

// FuzzTemplate compiles and renders any text: it must not panic, and a
// render never exceeds its limit.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"{{ fake.Name }}", "{{ range 1000 }}{{ fake.DigitN 1000 }}{{ end }}",
		`{{ printf "%9d" 1 }}`, "{{ .Vars.x }}", `{{ pick "a" 1 }}{{ json .Vars }}`, "{{ fake.LoremIpsumSentence 7 }}"} {
		f.Add(s)
	}
	funcs := templateFuncs(gofakeit.New(1))
	f.Fuzz(func(t *testing.T, text string) {
		c, err := compileTemplate("f", text, funcs, maxRenderLine)
		if err != nil {
			return
		}
		out, _ := c.string(&TemplateData{RunID: "r", Vars: map[string]string{"x": "1"}})
		if len(out) > maxRenderLine {
			t.Fatalf("rendered %d bytes, limit %d", len(out), maxRenderLine)
		}
	})
}

func TestTemplateMissingVarFailsAtRender(t *testing.T) {
	t.Parallel()
	c, err := compileTemplate("path", "/orders/{{ .Vars.id }}", templateFuncs(gofakeit.New(1)), maxRenderLine)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.string(&TemplateData{Vars: map[string]string{}})
	if err == nil || !strings.Contains(err.Error(), `map has no entry for key "id"`) {
		t.Errorf("render without the var = %v, want a missing key error", err)
	}
}

func TestFakeDataIsValidJSON(t *testing.T) {
	t.Parallel()
	sc := mustParse(t, strings.Replace(valid, `"{{ fake.Name }}"`, `{{ json fake.Name }}`, 1))
	p, probs := sc.compile(gofakeit.New(3))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	body := p.journeys[0].steps[0].body
	for range 50 {
		out, err := body.string(&TemplateData{Synthetic: true})
		if err != nil || !json.Valid([]byte(out)) {
			t.Fatalf("body %q (%v) is not valid JSON", out, err)
		}
	}
}

// TestRunBoundsTemplates: at run time too, a template fed a captured value
// too large for a header is not sent; the step counts it as a template
// failure that says why.
func TestRunBoundsTemplates(t *testing.T) { bubble(t, testRunBoundsTemplates) }

func testRunBoundsTemplates(t *testing.T) {
	shop, client := newMemShop(t)
	sc := mustParse(t, `
name: echo
target: http://127.0.0.1:1
rate: {rate: 10}
duration: 1s
journeys:
  - name: j
    steps:
      - {name: big, path: /big, capture: {blob: blob}}
      - {name: echo, path: /menu, headers: {X-Blob: '{{ .Vars.blob }}'}}
`)
	res, err := mustRunner(t, sc, RunnerOptions{Target: shop.URL, Client: client}).Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	echo := res.Steps[1]
	if n := res.Journeys.Started; n == 0 || echo.Requests != 0 || echo.Skipped != n || echo.Checks["template"] != n {
		t.Fatalf("echo step %+v over %d journeys: want every one unsent for its template", echo, n)
	}
	if msg := echo.Exemplars[0].Msg; !strings.Contains(msg, "header X-Blob: renders too much: more than 16 KiB") {
		t.Errorf("exemplar %q, want it to name the header and the limit", msg)
	}
}
