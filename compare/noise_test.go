package compare

import (
	"fmt"
	"testing"
)

// order renders an order body; ts varies per call, price per version.
func order(ts int, price string) string {
	return fmt.Sprintf(`{"id":"ord-1","generated_at":"2024-05-01T12:00:%02dZ","price":%s}`, ts%60, price)
}

// TestNoiseLearnedFromSecondary: a timestamp that differs between the
// two primaries on every request is noise; a price that only the
// candidate changes is a real difference.
func TestNoiseLearnedFromSecondary(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{Seed: 1})
	const n = 40
	for i := range n {
		price := "10.00"
		if i%4 == 0 {
			price = "10.50" // the candidate gets every fourth price wrong
		}
		e.Observe(tripleOf("GET", "/orders/ord-1",
			answer(200, order(3*i, "10.00")),
			answer(200, order(3*i+1, "10.00")),
			answer(200, order(3*i+2, price))))
	}
	r := e.Report()
	if len(r.Endpoints) != 1 {
		t.Fatalf("got %d endpoints, want 1", len(r.Endpoints))
	}
	ep := r.Endpoints[0]
	fields := map[string]FieldReport{}
	for _, f := range ep.Fields {
		fields[f.Path] = f
	}
	ts, price := fields["$.generated_at"], fields["$.price"]
	if !ts.Noisy || ts.Diffs != n || ts.Noise != n {
		t.Errorf("generated_at = %+v, want noisy with %d diffs and %d noise", ts, n, n)
	}
	if price.Noisy || price.Diffs != n/4 || price.Noise != 0 {
		t.Errorf("price = %+v, want not noisy with %d diffs and no noise", price, n/4)
	}
	if ep.Diffs != n/4 || ep.NoiseOnly != n-n/4 {
		t.Errorf("diffs = %d, noise only = %d; want %d and %d", ep.Diffs, ep.NoiseOnly, n/4, n-n/4)
	}
	if ep.Verdict != Fail || r.Verdict != Fail {
		t.Errorf("verdicts = %s/%s, want fail", ep.Verdict, r.Verdict)
	}

	// Compare uses what was learned: an exchange without a secondary
	// whose only difference is the timestamp does not differ.
	res := e.Compare(pairOf("GET", "/orders/ord-1", answer(200, order(1, "10.00")), answer(200, order(2, "10.00"))))
	if res.Differs || len(res.Body) != 1 || !res.Body[0].Noise {
		t.Errorf("Compare = %+v, want one noise difference and Differs false", res)
	}
	res = e.Compare(pairOf("GET", "/orders/ord-1", answer(200, order(1, "10.00")), answer(200, order(2, "11.00"))))
	if !res.Differs {
		t.Errorf("Compare with a price change: Differs = false, want true")
	}
}

// TestNoiseIsRetroactive: exchanges seen before the noise was learned
// are counted with what is known at report time.
func TestNoiseIsRetroactive(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{Noise: NoiseConfig{MinSamples: 5}})
	for i := range 10 { // candidate only, no secondary yet
		e.Observe(pairOf("GET", "/o", answer(200, order(2*i, "1")), answer(200, order(2*i+1, "1"))))
	}
	if got := e.Report().Endpoints[0].Diffs; got != 10 {
		t.Fatalf("diffs before learning = %d, want 10", got)
	}
	for i := range 5 {
		e.Observe(tripleOf("GET", "/o", answer(200, order(3*i, "1")), answer(200, order(3*i+1, "1")), answer(200, order(3*i+2, "1"))))
	}
	ep := e.Report().Endpoints[0]
	if ep.Diffs != 0 || ep.NoiseOnly != 15 {
		t.Errorf("diffs = %d, noise only = %d; want 0 and 15", ep.Diffs, ep.NoiseOnly)
	}
}

func TestSecondaryMarksNoiseInOneExchange(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{})
	res := e.Compare(tripleOf("GET", "/o", answer(200, order(1, "1")), answer(200, order(2, "1")), answer(200, order(3, "2"))))
	if len(res.Noise) != 1 || res.Noise[0].Path != "$.generated_at" {
		t.Errorf("Noise = %+v, want $.generated_at", res.Noise)
	}
	var noisy []string
	for _, d := range res.Body {
		noisy = append(noisy, fmt.Sprintf("%s=%v", d.Path, d.Noise))
	}
	if fmt.Sprint(noisy) != "[$.generated_at=true $.price=false]" || !res.Differs {
		t.Errorf("body = %v, Differs = %v; want generated_at noise, price real, Differs true", noisy, res.Differs)
	}
}

func TestNoiseRule(t *testing.T) {
	t.Parallel()
	rule := newNoiseRule(Config{}.withDefaults().Noise)
	tests := []struct {
		name                         string
		raw, noise, pairs, secondary int64
		want                         bool
	}{
		{"always differs on both", 100, 100, 100, 100, true},
		{"never differs between primaries", 5, 0, 100, 100, false},
		{"candidate clearly worse", 100, 5, 100, 100, false},
		{"candidate a bit worse: excess within 20% of raw", 50, 45, 100, 100, true},
		{"candidate a bit worse: excess within 3 points", 10, 8, 100, 100, true},
		{"candidate much worse on a rare field", 10, 1, 100, 100, false},
		{"too few samples", 9, 9, 9, 9, false},
		{"differs only between primaries", 0, 10, 100, 100, true},
		{"noise rate from a smaller secondary sample", 50, 25, 100, 50, true},
	}
	for _, tt := range tests {
		if got := rule.isNoise(tt.raw, tt.noise, tt.pairs, tt.secondary); got != tt.want {
			t.Errorf("%s: isNoise(%d, %d, %d, %d) = %v, want %v", tt.name, tt.raw, tt.noise, tt.pairs, tt.secondary, got, tt.want)
		}
	}
}

func TestStatusAndHeadersAreNeverNoise(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{Noise: NoiseConfig{MinSamples: 1}})
	for range 5 {
		p := answer(200, "{}", "Etag", "a")
		s := answer(200, "{}", "Etag", "b")
		c := answer(200, "{}", "Etag", "c")
		e.Observe(tripleOf("GET", "/o", p, s, c))
	}
	ep := e.Report().Endpoints[0]
	if ep.Diffs != 5 || ep.HeaderDiffs != 5 {
		t.Errorf("diffs = %d, header diffs = %d; want 5 and 5", ep.Diffs, ep.HeaderDiffs)
	}
	if len(ep.Fields) != 1 || ep.Fields[0].Noisy || ep.Fields[0].Noise != 5 {
		t.Errorf("fields = %+v, want header.Etag with noise 5, not noisy", ep.Fields)
	}
}
