package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// valid is a small scenario every bad case below breaks in one place.
const valid = `name: order-journey
target: http://127.0.0.1:8080
rate: {type: constant, rate: 50}
duration: 1m
max_in_flight: 200
ceiling: 500
guardrails: {max_error_rate: 0.05, max_p99: 2s, window: 10s, min_samples: 50}
journeys:
  - name: place-order
    weight: 3
    steps:
      - name: create
        method: POST
        path: /orders
        headers: {Content-Type: application/json}
        body: '{"customer": "{{ fake.Name }}", "qty": {{ intRange 1 3 }}, "synthetic": {{ .Synthetic }}}'
        capture: {order_id: id}
        assert: {status: [201], json: {status: placed}, max_latency: 500ms}
      - name: fetch
        method: GET
        path: /orders/{{ .Vars.order_id }}
        assert: {status: [200]}
    cleanup:
      - name: cancel
        method: POST
        path: /orders/{{ .Vars.order_id }}/cancel
`

func TestParseValid(t *testing.T) {
	t.Parallel()
	sc, err := Parse("order.yaml", []byte(valid))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Scenario{
		Name: "order-journey", Target: "http://127.0.0.1:8080",
		Rate:     &Rate{Type: "constant", Rate: 50},
		Duration: time.Minute, MaxInFlight: 200, Ceiling: 500,
		Guardrails: Guardrails{MaxErrorRate: 0.05, MaxP99: 2 * time.Second, Window: 10 * time.Second, MinSamples: 50},
		Journeys: []Journey{{
			Name: "place-order", Weight: 3,
			Steps: []Step{
				{
					Name: "create", Method: "POST", Path: "/orders",
					Headers: map[string]string{"Content-Type": "application/json"},
					Body:    `{"customer": "{{ fake.Name }}", "qty": {{ intRange 1 3 }}, "synthetic": {{ .Synthetic }}}`,
					Capture: Captures{{Name: "order_id", Path: "id"}},
					Assert: Assert{Status: []int{201}, JSON: JSONAssertions{{Path: "status", Want: "placed"}},
						MaxLatency: 500 * time.Millisecond},
				},
				{Name: "fetch", Method: "GET", Path: "/orders/{{ .Vars.order_id }}", Assert: Assert{Status: []int{200}}},
			},
			Cleanup: []Step{{Name: "cancel", Method: "POST", Path: "/orders/{{ .Vars.order_id }}/cancel"}},
		}},
	}
	if diff := cmp.Diff(want, sc, cmpopts.IgnoreUnexported(Scenario{})); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
	if got := sc.line("journeys[0].steps[1].path"); got != 21 {
		t.Errorf("line of journeys[0].steps[1].path = %d, want 21", got)
	}
	if sc.File() != "order.yaml" {
		t.Errorf("File() = %q, want order.yaml", sc.File())
	}
}

// TestParseBad breaks the valid scenario one way at a time; each case
// wants the exact problem lines.
func TestParseBad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		old, new string // replaced once in valid
		want     []string
	}{
		{"unknown key", "max_in_flight: 200", "max_in_flight: 200\ncolour: red",
			[]string{`order.yaml:6: colour: unknown field "colour" (want one of name, target, tls, protocol, rate, stages, duration, max_in_flight, ceiling, timeout, seed, prometheus, guardrails, data, notify, thresholds, grpc, journeys)`}},
		{"unknown nested key", "weight: 3", "weight: 3\n    retries: 2",
			[]string{`order.yaml:11: journeys[0].retries: unknown field "retries" (want one of name, weight, think, steps, cleanup)`}},
		{"bad duration", "duration: 1m", "duration: 1 minute",
			[]string{`order.yaml:4: duration: bad duration "1 minute": want a number with a unit, like 500ms, 10s or 2m`}},
		{"duration without unit", "max_latency: 500ms", "max_latency: 500",
			[]string{`order.yaml:18: journeys[0].steps[0].assert.max_latency: bad duration "500": want a number with a unit, like 500ms, 10s or 2m`}},
		{"variable not captured", "capture: {order_id: id}", "capture: {id: id}",
			[]string{
				`order.yaml:21: journeys[0].steps[1].path: variable "order_id" is not captured by an earlier step`,
				`order.yaml:26: journeys[0].cleanup[0].path: variable "order_id" is not captured by any step of the journey`,
			}},
		{"rate above ceiling", "rate: 50}", "rate: 600}",
			[]string{`order.yaml:3: rate.rate: 600/s is above the ceiling 500/s`}},
		{"negative rate", "rate: 50}", "rate: -5}",
			[]string{`order.yaml:3: rate.rate: want a rate in journeys per second, got -5`}},
		{"ramp without over", "{type: constant, rate: 50}", "{type: ramp, from: 10, to: 100}",
			[]string{`order.yaml:3: rate.over: required for a ramp: how long it takes, like 2m`}},
		{"ramp above ceiling", "{type: constant, rate: 50}", "{type: ramp, from: 10, to: 900, over: 1m}",
			[]string{`order.yaml:3: rate.to: 900/s is above the ceiling 500/s`}},
		{"unknown rate type", "type: constant", "type: sawtooth",
			[]string{`order.yaml:3: rate.type: want "constant", "ramp" or "relative", got "sawtooth"`}},
		{"rate and stages", "duration: 1m", "duration: 1m\nstages: [{duration: 1s, rate: 1}]",
			[]string{`order.yaml:5: stages: set rate or stages, not both (stages go with a relative rate, each with a factor)`}},
		{"no rate", "rate: {type: constant, rate: 50}\n", "",
			[]string{`order.yaml: rate: required: set rate (constant, ramp or relative) or stages`}},
		{"stage with no duration", "rate: {type: constant, rate: 50}", "stages: [{rate: 5}, {duration: 2s, rate: 600}]",
			[]string{
				`order.yaml:3: stages[0].duration: must be above 0, like 30s`,
				`order.yaml:3: stages[1].rate: 600/s is above the ceiling 500/s`,
			}},
		{"wrong type", "max_in_flight: 200", "max_in_flight: lots",
			[]string{`order.yaml:5: max_in_flight: want an integer, got "lots"`}},
		{"list for a mapping", "headers: {Content-Type: application/json}", "headers: [1, 2]",
			[]string{`order.yaml:15: journeys[0].steps[0].headers: want a mapping, got a list`}},
		{"guardrails list of numbers", "guardrails: {max_error_rate: 0.05, max_p99: 2s, window: 10s, min_samples: 50}", "guardrails: [1]",
			[]string{`order.yaml:7: guardrails[0]: want a mapping (a query guardrail, or the window limits), got "1"`}},
		{"error rate above 1", "max_error_rate: 0.05", "max_error_rate: 5",
			[]string{`order.yaml:7: guardrails.max_error_rate: want a ratio between 0 and 1, got 5`}},
		{"template syntax", "{{ .Synthetic }}}", "{{ if .Synthetic }}true}",
			[]string{`order.yaml:16: journeys[0].steps[0].body: template line 1: unexpected EOF`}},
		{"unknown template func", "{{ fake.Name }}", "{{ nope }}",
			[]string{`order.yaml:16: journeys[0].steps[0].body: template line 1: function "nope" not defined`}},
		{"unknown template field", "{{ .Synthetic }}", "{{ .Synthetics }}",
			[]string{`order.yaml:16: journeys[0].steps[0].body: unknown field .Synthetics (want .Synthetic, .RunID, .JourneyID, .Vars.name or .Data.feeder.column)`}},
		{"template fails to run", "{{ intRange 1 3 }}", "{{ intRange 3 1 }}",
			[]string{`order.yaml:16: journeys[0].steps[0].body: template line 1: at <intRange 3 1>: error calling intRange: intRange 3 1: the second bound is below the first`}},
		{"bad status", "status: [201]", "status: [201, 99]",
			[]string{`order.yaml:18: journeys[0].steps[0].assert.status[1]: want an HTTP status between 100 and 599 (gRPC statuses go with grpc steps), got 99`}},
		{"lower-case method", "method: POST\n        path: /orders\n", "method: post\n        path: /orders\n",
			[]string{`order.yaml:13: journeys[0].steps[0].method: want an upper-case HTTP method like GET or POST, got "post"`}},
		{"relative path", "path: /orders\n", "path: orders\n",
			[]string{`order.yaml:14: journeys[0].steps[0].path: want a path starting with /, got "orders"`}},
		{"duplicate step", "name: fetch", "name: create",
			[]string{`order.yaml:19: journeys[0].steps[1].name: step "create" appears twice in the journey`}},
		{"duplicate key", "duration: 1m", "duration: 1m\nduration: 2m",
			[]string{`order.yaml:5: duration: "duration" appears twice`}},
		{"bad target", "http://127.0.0.1:8080", "127.0.0.1:8080",
			[]string{`order.yaml:2: target: want an http:// or https:// URL, got "127.0.0.1:8080"`}},
		{"bad capture name", "capture: {order_id: id}", "capture: {order-id: id}",
			[]string{
				`order.yaml:17: journeys[0].steps[0].capture.order-id: want a variable name made of letters, digits and _, got "order-id"`,
				`order.yaml:21: journeys[0].steps[1].path: variable "order_id" is not captured by an earlier step`,
				`order.yaml:26: journeys[0].cleanup[0].path: variable "order_id" is not captured by any step of the journey`,
			}},
		{"syntax error", "journeys:\n", "journeys: [\n",
			[]string{`order.yaml:8: bad YAML: did not find expected node content`}},
		{"many at once", "duration: 1m", "duration: soon\ncolour: red",
			[]string{
				`order.yaml:4: duration: bad duration "soon": want a number with a unit, like 500ms, 10s or 2m`,
				`order.yaml:5: colour: unknown field "colour" (want one of name, target, tls, protocol, rate, stages, duration, max_in_flight, ceiling, timeout, seed, prometheus, guardrails, data, notify, thresholds, grpc, journeys)`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(valid, tt.old) {
				t.Fatalf("bad test: %q not in the valid scenario", tt.old)
			}
			src := strings.Replace(valid, tt.old, tt.new, 1)
			_, err := Parse("order.yaml", []byte(src))
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Parse error = %v, want a *ValidationError", err)
			}
			var got []string
			for _, p := range verr.Problems {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s\nsource:\n%s", diff, src)
			}
		})
	}
}

func TestParseDocumentShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{"empty", "", "x.yaml: the file is empty: want a scenario"},
		{"comment only", "# nothing\n", "x.yaml: the file is empty: want a scenario"},
		{"scalar", "hello\n", `x.yaml:1: want a mapping of scenario fields, got "hello"`},
		{"two documents", valid + "---\nname: two\n", "x.yaml:27: more than one YAML document: want exactly one scenario"},
		{"empty mapping", "{}\n", "x.yaml: name: required: name the scenario"},
	}
	for _, tt := range tests {
		_, err := Parse("x.yaml", []byte(tt.src))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to start with %q", tt.name, err, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "order.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(valid, "rate: 50}", "rate: 501}", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + ":3: rate.rate: 501/s is above the ceiling 500/s"; err == nil || err.Error() != want {
		t.Errorf("Load error = %v, want %q", err, want)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "read scenario") {
		t.Errorf("Load of a missing file: %v, want a read error", err)
	}
}

func TestValidateBuiltInCode(t *testing.T) {
	t.Parallel()
	sc := &Scenario{Name: "code", Target: "http://x", Rate: &Rate{Rate: 5}, Duration: time.Second,
		Journeys: []Journey{{Name: "j", Steps: []Step{{Name: "s", Path: "/a/{{ .Vars.x }}"}}}}}
	err := sc.Validate()
	want := `journeys[0].steps[0].path: variable "x" is not captured by an earlier step`
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %q", err, want)
	}
	sc.Journeys[0].Steps[0].Path = "/a"
	if err := sc.Validate(); err != nil {
		t.Errorf("Validate after the fix = %v, want nil", err)
	}
}

func TestExamplesParse(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../testdata/scenarios/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("examples: %v, %d files; want at least 3", err, len(files))
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%v", err)
		}
	}
}

// FuzzParse feeds Parse arbitrary bytes: it must return a scenario or an
// error, never panic or hang, and a scenario it returns must validate.
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("name: x\njourneys: &j [{name: a, steps: *j}]\n"))
	f.Add([]byte("rate: {type: ramp, from: .nan, to: .inf, over: -1s}\n"))
	f.Add([]byte("journeys: [{steps: [{path: '/{{ .Vars.x }}{{ range .Vars }}{{ .Foo }}{{ end }}'}]}]\n"))
	f.Add([]byte("guardrails: [{name: a, query: x, above: 1}, {max_p99: 1s}, 3, [1]]\nprometheus: http://p\n"))
	f.Add([]byte("rate: {type: relative, query: x, max: 1}\nstages: [{duration: 1s, factor: 2}]\njourneys: [{name: j, think: 1s, steps: [{name: s, path: /, think: {min: 1s}}]}]\n"))
	files, _ := filepath.Glob("../testdata/scenarios/*.yaml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("fuzz.yaml", data)
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) == 0 {
				t.Fatalf("error %v is not a non-empty *ValidationError", err)
			}
			return
		}
		if err := sc.Validate(); err != nil {
			t.Fatalf("parsed scenario does not validate: %v", err)
		}
	})
}
