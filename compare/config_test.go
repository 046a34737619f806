package compare

import (
	"math"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"zero value", Config{}, ""},
		{"full", Config{
			IgnoreHeaders: []string{"Etag", "X-Debug-*"},
			Routes:        []string{"/orders/{id}"},
			Normalizers:   []Normalizer{{Kind: Ignore, Path: "$..ts"}},
			Noise:         NoiseConfig{RelativeThreshold: 0.5, AbsoluteThreshold: 0.1, MinSamples: 3},
			Verdict:       VerdictRule{MinPairs: 5, MaxDiffRate: 0.05, MaxErrorRate: -1},
		}, ""},
		{"relative threshold", Config{Noise: NoiseConfig{RelativeThreshold: 1.5}}, "noise.relative_threshold: must be a rate"},
		{"absolute threshold", Config{Noise: NoiseConfig{AbsoluteThreshold: math.NaN()}}, "noise.absolute_threshold"},
		{"min samples", Config{Noise: NoiseConfig{MinSamples: -1}}, "noise.min_samples"},
		{"min pairs", Config{Verdict: VerdictRule{MinPairs: -2}}, "verdict.min_pairs"},
		{"max diff rate", Config{Verdict: VerdictRule{MaxDiffRate: 2}}, "verdict.max_diff_rate"},
		{"max error rate", Config{Verdict: VerdictRule{MaxErrorRate: 3}}, "verdict.max_error_rate"},
		{"max endpoints", Config{MaxEndpoints: -1}, "max_endpoints: must not be negative"},
		{"max fields", Config{MaxFields: -1}, "max_fields"},
		{"exemplar bytes", Config{ExemplarBytes: -1}, "exemplar_bytes"},
		{"segment values", Config{MaxSegmentValues: -1}, "max_segment_values"},
		{"route", Config{Routes: []string{"/ok", "bad"}}, "routes[1]"},
		{"normalizer", Config{Normalizers: []Normalizer{{Kind: Ignore, Path: "$.a"}, {Kind: Sort}}}, "normalizers[1].path: required"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate() = %v, want an error mentioning %q", tt.name, err, tt.want)
		}
		if _, nerr := New(tt.cfg); (nerr == nil) != (err == nil) {
			t.Errorf("%s: New error %v disagrees with Validate error %v", tt.name, nerr, err)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := Config{}.withDefaults()
	got := []float64{c.Noise.RelativeThreshold, c.Noise.AbsoluteThreshold, float64(c.Noise.MinSamples),
		float64(c.Exemplars), float64(c.MaxEndpoints), float64(c.Verdict.MinPairs), c.Verdict.MaxDiffRate, c.Verdict.MaxErrorRate}
	want := []float64{0.2, 0.03, 10, 5, 500, 20, 0.01, 0.01}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("default %d = %v, want %v", i, got[i], want[i])
		}
	}
	if c := (Config{Exemplars: -1}).withDefaults(); c.Exemplars != 0 {
		t.Errorf("Exemplars -1 → %d, want 0 (none)", c.Exemplars)
	}
}
