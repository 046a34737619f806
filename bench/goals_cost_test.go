package bench

import (
	"math"
	"strings"
	"testing"
)

func TestAddedCPUGoal(t *testing.T) {
	t.Parallel()
	rec := func(target string, round int, perReq float64) LatencyRecord {
		return LatencyRecord{Group: groupCost, Target: target, Round: round, OK: 100, Sent: 100, CPUus: 100 * perReq,
			Mirror: &MirrorDelta{Mirrored: 100, Compared: 100}}
	}
	tests := []struct {
		name        string
		shadow      float64
		noise       float64
		want, fHint string
	}{
		{"within the share", 110, math.NaN(), Met, "+10%"},
		{"over it", 150, math.NaN(), Missed, "+50%"},
		{"over it, within noise", 120, 0.1, Missed, "within noise of the goal"},
	}
	for _, tc := range tests {
		rows := CPUTable([]LatencyRecord{rec(targetPlain, 1, 100), rec(targetShadowFast, 1, tc.shadow)}, groupCost, targetPlain)
		g := addedCPUGoal(rows, tc.noise)
		if g.Verdict != tc.want || !strings.Contains(g.Figure, tc.fHint) {
			t.Errorf("%s: got %s %q; want %s and %q", tc.name, g.Verdict, g.Figure, tc.want, tc.fHint)
		}
	}
	half := rec(targetShadowFast, 1, 110)
	half.Mirror.Compared = 50
	g := addedCPUGoal(CPUTable([]LatencyRecord{rec(targetPlain, 1, 100), half}, groupCost, targetPlain), math.NaN())
	if !strings.Contains(g.Figure, "understates judging") {
		t.Errorf("half the copies judged: figure %q, want it to say the figure understates judging", g.Figure)
	}
	if g := addedCPUGoal(nil, math.NaN()); g.Verdict != Unknown {
		t.Errorf("no cost records: got %s, want %s", g.Verdict, Unknown)
	}
}

func TestCPUNoise(t *testing.T) {
	t.Parallel()
	rec := func(target string, round int, perReq float64) LatencyRecord {
		return LatencyRecord{Group: "g", Target: target, Round: round, OK: 10, CPUus: 10 * perReq}
	}
	recs := []LatencyRecord{rec("a", 1, 100), rec("b", 1, 110), rec("a", 2, 100), rec("b", 2, 80), rec("a", 3, 100), rec("b", 3, 105)}
	if got, ok := CPUNoise(recs, "g", "a", "b"); !ok || math.Abs(got-0.1) > 1e-9 {
		t.Errorf("noise = %v, %v; want 0.1 (median of 0.1, 0.2, 0.05)", got, ok)
	}
	if _, ok := CPUNoise(recs, "g", "a", "c"); ok {
		t.Error("no second measurement: want no noise floor")
	}
}

func TestUploadGoal(t *testing.T) {
	t.Parallel()
	up := func(target, mode string, growthMiB, heapMiB int64) UploadRecord {
		return UploadRecord{Target: target, Mode: mode, Conns: 800, BodyBytes: 1 << 20, IdleKB: 10 << 10,
			PeakKB: (10 + growthMiB) << 10, PeakHeapKB: heapMiB << 10}
	}
	tests := []struct {
		name string
		recs []UploadRecord
		want string
	}{
		{"bounded", []UploadRecord{up("shadow", "body", 120, 90), up("plain", "body", 70, 0)}, Met},
		{"by the uploaders", []UploadRecord{up("shadow", "body", 960, 900), up("plain", "body", 70, 0)}, Missed},
		{"heap held, RSS not (buffers allocated, never written)", []UploadRecord{up("shadow", "hold", 20, 815), up("plain", "hold", 37, 0)}, Missed},
		{"no plain proxy", []UploadRecord{up("shadow", "body", 960, 900)}, Unknown},
	}
	for _, tc := range tests {
		if g := uploadGoal(tc.recs); g.Verdict != tc.want {
			t.Errorf("%s: got %s %q, want %s", tc.name, g.Verdict, g.Figure, tc.want)
		}
	}
}

func TestWideGoal(t *testing.T) {
	t.Parallel()
	rec := func(target string, p50 float64) LatencyRecord {
		return LatencyRecord{Group: "wide", Target: target, Round: 1, P50us: p50}
	}
	for _, tc := range []struct {
		shadow float64
		want   string
	}{{1100, Met}, {5000, Missed}} {
		r := &Run{Wide: []LatencyRecord{rec("shadow", tc.shadow), rec(targetPlain, 1000)}}
		if g := r.wideGoal(); g.Verdict != tc.want {
			t.Errorf("p50 %v vs 1000: got %s %q, want %s", tc.shadow, g.Verdict, g.Figure, tc.want)
		}
	}
}

func TestSynthCPUGoal(t *testing.T) {
	t.Parallel()
	run := func(tool string, round int, cpuUs float64) SynthCostRun {
		return SynthCostRun{Tool: tool, Round: round, Requests: 1000, Usage: Usage{UserUs: cpuUs}}
	}
	runs := []SynthCostRun{run("synth", 1, 80e3), run("vegeta", 1, 100e3), run("synth", 2, 90e3), run("vegeta", 2, 100e3)}
	g := synthCPUGoal(runs)
	if g.Verdict != Missed || !strings.Contains(g.Figure, "0.85×") {
		t.Errorf("got %s %q; want missed at 0.85× (the median of 0.8 and 0.9, paired by round)", g.Verdict, g.Figure)
	}
	runs[2].Usage.UserUs = 60e3
	if g := synthCPUGoal(runs); g.Verdict != Met {
		t.Errorf("0.65×: got %s %q, want met", g.Verdict, g.Figure)
	}
}

func TestGrowthGoalFlags(t *testing.T) {
	t.Parallel()
	xs := []float64{10, 100, 1000, 10000}
	r := &Run{Growth: map[string][]LatencyRecord{
		"fields": growthRecs(xs, func(x float64) float64 { return 300 + x*x/1e3 }),
		"bytes":  growthRecs(xs, func(x float64) float64 { return 300 + x }),
	}}
	g, ok := r.growthGoal()
	if !ok || g.Verdict != Missed || !strings.Contains(g.Figure, "**fields") || strings.Contains(g.Figure, "**bytes") {
		t.Errorf("got %s %q; want missed with fields flagged, bytes not", g.Verdict, g.Figure)
	}
}
