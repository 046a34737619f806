package scenarios

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

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
		c, err := compileTemplate("f", tt.text, funcs)
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
	}
	for _, tt := range tests {
		_, err := compileTemplate("f", tt.text, funcs)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("compile %q = %v, want an error containing %q", tt.text, err, tt.want)
		}
	}
}

func TestTemplateMissingVarFailsAtRender(t *testing.T) {
	t.Parallel()
	c, err := compileTemplate("path", "/orders/{{ .Vars.id }}", templateFuncs(gofakeit.New(1)))
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
