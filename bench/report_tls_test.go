package bench

import (
	"bytes"
	"strings"
	"testing"
)

// tlsRecs builds one round of the tls section per element of rounds: the
// p50 and p99 (µs) of direct, direct-again, shadow-fast and nginx-fast in
// group "h2", with CPU time so that CPU per request is cpu[target] µs.
func tlsRecs(rounds []map[string][2]float64, cpu map[string]float64) []LatencyRecord {
	var recs []LatencyRecord
	for i, r := range rounds {
		for _, t := range []string{Baseline, Again, targetShadowFast, targetNginxFast} {
			q, ok := r[t]
			if !ok {
				continue
			}
			recs = append(recs, LatencyRecord{Group: "h2", Target: t, Round: i + 1, Rate: 1000, DurationS: 1, Sent: 1000, OK: 1000,
				P50us: q[0], P90us: q[0], P99us: q[1], MaxUs: q[1], CPUus: 1000 * cpu[t], Procs: 1, CPUSource: "schedstat"})
		}
	}
	return recs
}

func TestTLSGoals(t *testing.T) {
	t.Parallel()
	cpu := map[string]float64{Baseline: 100, Again: 100, targetShadowFast: 300, targetNginxFast: 600}
	tests := []struct {
		name    string
		round   map[string][2]float64
		verdict string
		hints   []string
	}{
		{"shadow adds less than nginx", map[string][2]float64{Baseline: {300, 700}, Again: {305, 720}, targetShadowFast: {500, 1500}, targetNginxFast: {700, 2700}},
			Met, []string{"p50 +200 µs vs +400 µs (0.50×)", "p99 +800 µs vs +2,000 µs (0.40×)", "CPU 300 µs/request, 0.50× nginx's"}},
		{"shadow within 1.2× of nginx", map[string][2]float64{Baseline: {300, 700}, Again: {300, 700}, targetShadowFast: {540, 1900}, targetNginxFast: {500, 1700}},
			Met, []string{"(1.20×)", "(1.20×)"}},
		{"shadow beyond 1.2× at p99, beyond noise", map[string][2]float64{Baseline: {300, 700}, Again: {310, 750}, targetShadowFast: {500, 3700}, targetNginxFast: {500, 1700}},
			Missed, []string{"p99 +3,000 µs vs +1,000 µs (3.00×)"}},
		{"nginx not measured", map[string][2]float64{Baseline: {300, 700}, targetShadowFast: {500, 900}},
			Unknown, []string{"not measured"}},
	}
	for _, tc := range tests {
		r := &Run{TLS: tlsRecs([]map[string][2]float64{tc.round}, cpu)}
		gs := r.tlsGoals()
		if len(gs) != 1 {
			t.Fatalf("%s: %d goals, want 1: %+v", tc.name, len(gs), gs)
		}
		g := gs[0]
		if g.Verdict != tc.verdict {
			t.Errorf("%s: verdict %s, want %s (%s)", tc.name, g.Verdict, tc.verdict, g.Figure)
		}
		for _, h := range tc.hints {
			if !strings.Contains(g.Figure, h) {
				t.Errorf("%s: figure %q lacks %q", tc.name, g.Figure, h)
			}
		}
		if !strings.Contains(g.Name, "over h2") {
			t.Errorf("%s: name %q does not name the protocol", tc.name, g.Name)
		}
	}
}

// TestWriteTLS renders the section: a row per target with its added
// latency and its ratio to nginx's, the CPU table, and nothing at all
// when the section did not run.
func TestWriteTLS(t *testing.T) {
	t.Parallel()
	var empty bytes.Buffer
	writeTLS(&printer{w: &empty}, &Run{})
	if empty.Len() != 0 {
		t.Errorf("no tls records rendered %q, want nothing", empty.String())
	}
	round := map[string][2]float64{Baseline: {300, 700}, Again: {305, 720}, targetShadowFast: {500, 1500}, targetNginxFast: {700, 2700}}
	cpu := map[string]float64{Baseline: 100, Again: 100, targetShadowFast: 300, targetNginxFast: 600}
	var b bytes.Buffer
	p := &printer{w: &b}
	writeTLS(p, &Run{TLS: tlsRecs([]map[string][2]float64{round, round}, cpu)})
	if p.err != nil {
		t.Fatal(p.err)
	}
	out := b.String()
	for _, want := range []string{
		"### h2",
		"| shadow-fast | 2 | 500 | 1,500 | +200 µs | +800 µs | 0.50× | 0.40× | 0 |",
		"| nginx-fast | 2 | 700 | 2,700 | +400 µs | +2,000 µs | 1.00× | 1.00× | 0 |",
		"| direct | 2 | 300 | 700 | +0 µs | +0 µs | — | — | 0 |",
		"| shadow-fast | 300 | 3.00× | — | 0.50× |",
		"Noise floor (`direct-again` against `direct`): p50 5 µs, p99 20 µs.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendering lacks %q:\n%s", want, out)
		}
	}
}
