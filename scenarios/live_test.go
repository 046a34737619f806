package scenarios

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParseProductionKeys: relative rates, query guardrails (as a list or
// under queries:), think times and notify targets parse as written, and
// every bad one is named by file, line and key.
func TestParseProductionKeys(t *testing.T) {
	t.Parallel()
	good := mustParse(t, `
name: live
target: http://127.0.0.1:1
prometheus: http://prom:9090
rate: {type: relative, query: 'sum(x)', max: 100}
stages: [{duration: 1m, factor: 0.5}, {duration: 1m, factor: 1.5}]
guardrails:
  - {name: a, query: 'y', above: 0.02, for: 30s}
  - {max_error_rate: 0.1, window: 5s}
  - {name: b, query: 'z', below: 0, prometheus: 'http://other:9090', interval: 1s, hold: 10s}
notify: [{webhook_env: HOOK, on: [aborted], format: slack}]
journeys: [{name: j, think: 1s, steps: [{name: s, path: /, think: {min: 1s, max: 2s}}, {name: t, path: /}]}]
`)
	g := good.Guardrails
	if g.MaxErrorRate != 0.1 || g.Window != 5*time.Second || len(g.Queries) != 2 || g.Queries[0].field != "guardrails[0]" ||
		g.Queries[1].Name != "b" || *g.Queries[1].Below != 0 || g.Queries[1].Hold != 10*time.Second {
		t.Errorf("guardrails = %+v", g)
	}
	if j := good.Journeys[0]; j.thinkAfter(0) != (Think{Min: time.Second, Max: 2 * time.Second}) || j.thinkAfter(1) != (Think{Min: time.Second}) {
		t.Errorf("think after a step: %+v, %+v", j.thinkAfter(0), j.thinkAfter(1))
	}
	if good.ceiling() != 100 || good.duration() != 2*time.Minute || len(good.Notify) != 1 {
		t.Errorf("ceiling %v duration %v notify %v", good.ceiling(), good.duration(), good.Notify)
	}
	mapped := mustParse(t, strings.Replace(`
name: live
target: http://127.0.0.1:1
rate: {rate: 1}
duration: 1s
guardrails: {max_p99: 1s, queries: [{name: q, query: x, above: 1, prometheus: 'http://p:9090'}]}
journeys: [{name: j, steps: [{name: s, path: /}]}]
`, "\t", "", -1))
	if q := mapped.Guardrails.Queries; len(q) != 1 || q[0].field != "guardrails.queries[0]" || mapped.Guardrails.MaxP99 != time.Second {
		t.Errorf("mapping form: %+v", mapped.Guardrails)
	}

	base := "name: live\ntarget: http://127.0.0.1:1\nduration: 1m\njourneys: [{name: j, steps: [{name: s, path: /}]}]\n"
	tests := []struct {
		name, extra string
		want        []string
	}{
		{"relative without query, max or server", "rate: {type: relative}", []string{
			"x.yaml:5: rate.max: must be above 0",
			"x.yaml:5: rate.query: required: the PromQL expression to read, one number like sum(rate(http_requests_total[5m]))",
			"x.yaml:5: rate.prometheus: required: the Prometheus server to ask, like http://prometheus:9090 (here or as the scenario's prometheus)",
		}},
		{"relative with a constant's keys", "rate: {type: relative, query: x, max: 5, rate: 3, prometheus: 'http://p', factor: -1, on_lost: panic, interval: 1ms}", []string{
			"x.yaml:5: rate: a relative rate has query, factor and max, not rate, from, to or over",
			"x.yaml:5: rate.factor: want a factor of 0 or more, like 1.5, got -1",
			`x.yaml:5: rate.interval: want at least 100ms, got 1ms`,
			`x.yaml:5: rate.on_lost: want "abort" or "stop", got "panic"`,
		}},
		{"relative keys on a constant", "rate: {rate: 3, query: x}", []string{
			"x.yaml:5: rate: query, factor, max, prometheus, interval, hold and on_lost belong to a relative rate: set type: relative",
		}},
		{"stage factors without a relative rate", "stages: [{duration: 1s, rate: 1, factor: 2}]", []string{
			"x.yaml:5: stages[0].factor: factor belongs to stages of a relative rate: set rate: {type: relative, ...}",
		}},
		{"relative stages with rates", "prometheus: 'http://p'\nrate: {type: relative, query: x, max: 5, factor: 2}\nstages: [{duration: 1s, rate: 1}]", []string{
			"x.yaml:6: rate.factor: with stages, each stage has its factor: drop rate.factor",
			"x.yaml:7: stages: every stage has factor 0: nothing would start",
			"x.yaml:7: stages[0].rate: a stage of a relative rate has a factor, not a rate",
		}},
		{"bad query guardrails", "prometheus: 'ftp://p'\nrate: {rate: 1}\nguardrails:\n  - {query: x}\n  - {name: a, query: '', above: 1, below: 2, for: -1s}\n  - {name: a, query: y, above: .nan}", []string{
			`x.yaml:5: prometheus: want an http:// or https:// URL, got "ftp://p"`,
			"x.yaml:8: guardrails[0]: required: above or below, the limit that aborts the run",
			"x.yaml:8: guardrails[0].name: required: name the guardrail (it names the abort)",
			"x.yaml:9: guardrails[1].below: 2 is not below above (1): every value would be a breach",
			"x.yaml:9: guardrails[1].for: must not be negative, got -1s",
			"x.yaml:9: guardrails[1].query: required: the PromQL expression to read, one number like sum(rate(http_requests_total[5m]))",
			"x.yaml:10: guardrails[2].above: want a number, got NaN",
			`x.yaml:10: guardrails[2].name: guardrail "a" appears twice`,
		}},
		{"two window items", "rate: {rate: 1}\nguardrails: [{max_p99: 1s}, {window: 2s}]", []string{
			"x.yaml:6: guardrails[1]: the window limits (max_error_rate, max_p99, window, min_samples) are already set by guardrails[0]: want one such item; a query guardrail needs a query",
		}},
		{"bad think", "rate: {rate: 1}\njourneys: [{name: j, think: {min: 2s, max: 1s}, steps: [{name: s, path: /, think: -1s}], cleanup: [{name: c, path: /, think: 1s}]}]", []string{
			"replaced below: the journeys line goes",
		}},
		{"bad notify", "rate: {rate: 1}\nnotify: [{on: [done]}, {webhook: 'http://h', webhook_env: X, format: xml}]", []string{
			`x.yaml:6: notify[0].on[0]: want one of passed, failed, aborted, killed, stopped, inconclusive, got "done"`,
			"x.yaml:6: notify[0].webhook: required: the URL to post to (or webhook_env: the variable holding it)",
			`x.yaml:6: notify[1].format: want "json" or "slack", got "xml"`,
			"x.yaml:6: notify[1].webhook_env: set webhook or webhook_env, not both",
		}},
	}
	for _, tt := range tests {
		src := base
		if strings.HasPrefix(tt.name, "bad think") {
			src = strings.Replace(base, "journeys: [{name: j, steps: [{name: s, path: /}]}]\n", "", 1)
			tt.want = []string{
				"x.yaml:5: journeys[0].think.max: 1s is below min 2s",
				"x.yaml:5: journeys[0].steps[0].think: must not be negative, got {min: -1s, max: 0s}",
				"x.yaml:5: journeys[0].cleanup[0].think: cleanups do not think: they run one after the other",
			}
		}
		_, err := Parse("x.yaml", []byte(src+tt.extra+"\n"))
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: %v, want problems", tt.name, err)
			continue
		}
		var got []string
		for _, p := range ve.Problems {
			got = append(got, p.String())
		}
		if diff := cmp.Diff(sortedStrings(tt.want), sortedStrings(got)); diff != "" {
			t.Errorf("%s: problems (-want +got):\n%s", tt.name, diff)
		}
	}
}

func sortedStrings(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
