package bench

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden renders the fixed raw directory in testdata/raw (the trimmed
// output of real --quick runs, the newer sections from a later one than
// the rest) and compares with the golden reports.
func TestGolden(t *testing.T) {
	t.Parallel()
	run, err := Load(filepath.Join("testdata", "raw"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		golden string
		write  func(*bytes.Buffer) error
	}{
		{"results.golden.md", func(b *bytes.Buffer) error { return WriteResults(b, run) }},
		{"benchmarks.golden.md", func(b *bytes.Buffer) error { return WriteBenchmarks(b, run, "bench/results/x-quick.md") }},
	}
	for _, tc := range cases {
		var got bytes.Buffer
		if err := tc.write(&got); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", tc.golden)
		if *update {
			if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./bench -update to create it)", err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s differs from the rendering; run go test ./bench -update and review the diff\ngot:\n%s", tc.golden, got.String())
		}
	}
}

// TestLoadFigures checks figures the golden file only shows rounded.
func TestLoadFigures(t *testing.T) {
	t.Parallel()
	run, err := Load(filepath.Join("testdata", "raw"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(run.Latency), 36; got != want {
		t.Errorf("latency records = %d, want %d", got, want)
	}
	rows := ThroughputTable(run.Throughput, "nginx-fast")
	var got []string
	for _, r := range rows {
		got = append(got, r.Target)
	}
	if want := "direct plain shadow-fast nginx-fast"; strings.Join(got, " ") != want {
		t.Errorf("throughput rows = %q, want %q", strings.Join(got, " "), want)
	}
	sh := rows[2].Shadow
	if sh == nil || sh.QueueSize != 1024 || sh.MaxQueueDepth == 0 {
		t.Errorf("shadow throughput delta = %+v, want queue size 1024 and a polled depth (the cut-off poll line skipped)", sh)
	}
	if rate, top := MaxSustained(run.Ladder, "synth"); rate != 20000 || top {
		t.Errorf("synth max = %v (at top %v), want 20000, false", rate, top)
	}
	if _, ok := NoiseFloor(run.Latency, "0 ms"); !ok {
		t.Error("no noise floor for the 0 ms group, want one from direct-again")
	}
	if f := run.Soak.Figures(); f.HeapSamples == 0 || f.Samples < minSoakSamples {
		t.Errorf("soak figures = %+v, want VmRSS and heap samples after the warm-up", f)
	}
}

func TestLatencyTable(t *testing.T) {
	t.Parallel()
	rec := func(target string, round int, p50, p99 float64) LatencyRecord {
		return LatencyRecord{Group: "g", Target: target, Round: round, P50us: p50, P90us: p50, P99us: p99, MaxUs: p99}
	}
	recs := []LatencyRecord{
		rec("direct", 1, 100, 1000), rec("proxy", 1, 150, 1500),
		rec("direct", 2, 200, 1000), rec("proxy", 2, 260, 1100),
		rec("direct", 3, 100, 2000), rec("proxy", 3, 400, 2200),
		rec("other", 1, 1, 1), // another group's rows are left out below
	}
	recs[len(recs)-1].Group = "h"
	rows := LatencyTable(recs, "g")
	if len(rows) != 2 {
		t.Fatalf("rows = %d, want 2", len(rows))
	}
	p := rows[1]
	tests := []struct {
		name      string
		got, want float64
	}{
		{"median p50", p.Us[0], 260},
		{"median p99", p.Us[2], 1500},
		{"paired added p50 (50, 60, 300)", p.Added[0], 60},
		{"paired ratio p50 (1.5, 1.3, 4)", p.Ratio[0], 1.5},
		{"paired added p99 (500, 100, 200)", p.Added[2], 200},
	}
	for _, tc := range tests {
		if math.Abs(tc.got-tc.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of an even count = %v, want 2.5", got)
	}
}

func TestParseWrk(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    WrkResult
		wantErr string
	}{
		{
			name: "errors and non-2xx",
			in: `Running 3s test @ http://127.0.0.1:1/orders/42
  2 threads and 64 connections
  35121 requests in 3.00s, 6.23MB read
  Socket errors: connect 1, read 2, write 0, timeout 4
  Non-2xx or 3xx responses: 12
Requests/sec:  11705.37
Transfer/sec:      2.08MB
`,
			want: WrkResult{Requests: 35121, Seconds: 3, RPS: 11705.37, SocketErrors: 7, Non2xx: 12},
		},
		{name: "milliseconds", in: "  10 requests in 950.00ms, 1KB read\nRequests/sec: 10.52\n",
			want: WrkResult{Requests: 10, Seconds: 0.95, RPS: 10.52}},
		{name: "no summary", in: "unable to connect to 127.0.0.1:1 Connection refused\n", wantErr: "no \"Requests/sec:\""},
		{name: "bad rate", in: "  1 requests in 1.00s, 1KB read\nRequests/sec: lots\n", wantErr: "line 2"},
	}
	for _, tc := range tests {
		got, err := ParseWrk([]byte(tc.in))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestParseGoBench(t *testing.T) {
	t.Parallel()
	in := `goos: linux
BenchmarkWrite-2   	   93112	     16093 ns/op	     62140 records/s	     65995 records/cpu-s	    1633 B/op	      27 allocs/op
BenchmarkWrite-2 logged a line of its own
BenchmarkCompareJSON/with-secondary   	 6193	 56879 ns/op	 17581 pairs/s
PASS
`
	got, err := ParseGoBench([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d results, want 2: %+v", len(got), got)
	}
	if got[0].Name != "BenchmarkWrite" || got[0].Procs != 2 || got[0].N != 93112 {
		t.Errorf("first = %+v, want BenchmarkWrite, 2 procs, N 93112", got[0])
	}
	if v, ok := got[0].Metric("records/cpu-s"); !ok || v != 65995 {
		t.Errorf("records/cpu-s = %v, %v; want 65995", v, ok)
	}
	if got[1].Procs != 1 || got[1].Name != "BenchmarkCompareJSON/with-secondary" {
		t.Errorf("second = %+v, want 1 proc and the full sub-benchmark name", got[1])
	}
	if _, err := ParseGoBench([]byte("BenchmarkX-2 10 abc ns/op\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad value: err = %v, want one naming line 1", err)
	}
}

func TestParseStep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tool string
		rate       float64
		in         string
		want       bool
	}{
		{"vegeta kept up", "vegeta", 1000, `{"requests":2000,"rate":999.5,"success":1}`, true},
		{"vegeta behind", "vegeta", 1000, `{"requests":1900,"rate":950,"success":1}`, false},
		{"vegeta failing", "vegeta", 1000, `{"requests":2000,"rate":1000,"success":0.9}`, false},
		{"synth kept up", "synth", 1000, `{"target_rate":1000,"achieved_rate":999.9,"journeys":{"started":2000,"succeeded":2000}}`, true},
		{"synth dropping", "synth", 1000, `{"target_rate":1000,"achieved_rate":995,"journeys":{"started":1990,"dropped":50,"succeeded":1990}}`, false},
		{"vegeta queueing", "vegeta", 1000, `{"requests":2000,"rate":1000,"success":1,"latencies":{"50th":150000000}}`, false},
		{"synth queueing", "synth", 1000, `{"target_rate":1000,"achieved_rate":999.9,"journeys":{"started":2000,"succeeded":2000},"steps":[{"latency":{"p50":150000000}}]}`, false},
		{"synth at the latency bound", "synth", 1000, `{"target_rate":1000,"achieved_rate":999.9,"journeys":{"started":2000,"succeeded":2000},"steps":[{"latency":{"p50":10000000}}]}`, true},
	}
	for _, tc := range tests {
		s, err := ParseStep(tc.tool, tc.rate, []byte(tc.in))
		if err != nil || s.Sustained != tc.want {
			t.Errorf("%s: sustained = %v, %v; want %v", tc.name, s.Sustained, err, tc.want)
		}
	}
	if _, err := ParseStep("ab", 1, []byte("{}")); err == nil {
		t.Error("unknown tool: want an error")
	}
}

func TestParseKVNamesLine(t *testing.T) {
	t.Parallel()
	_, err := ParseKV([]byte("mode: quick\n# comment\nno colon here\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("err = %v, want one naming line 3", err)
	}
}

func TestSoakFigures(t *testing.T) {
	t.Parallel()
	s := &Soak{
		Meta:    []KV{{"warmup_s", "10"}, {"idle_rss_kb", "900"}},
		Samples: []RSSSample{{0, 900}, {5, 1500}, {10, 1000}, {70, 1100}, {130, 1200}},
	}
	f := s.Figures()
	// Fewer than ten samples: start and end are single samples.
	want := SoakFigures{Idle: 900, Start: 1000, Peak: 1200, End: 1200, Samples: 3, Minutes: 2, SlopeKBPerMin: 100}
	if math.Abs(f.SlopeKBPerMin-want.SlopeKBPerMin) > 1e-6 {
		t.Errorf("slope = %v, want %v", f.SlopeKBPerMin, want.SlopeKBPerMin)
	}
	f.SlopeKBPerMin = want.SlopeKBPerMin
	if f != want {
		t.Errorf("figures = %+v, want %+v", f, want)
	}

	// Twenty samples: start and end are medians of two, so one swing
	// (the 5000 at the end) does not decide them.
	s.Samples = nil
	for i := 0; i < 20; i++ {
		s.Samples = append(s.Samples, RSSSample{Seconds: float64(10 + i), KB: 1000})
	}
	s.Samples[19].KB = 5000
	f = s.Figures()
	if f.Start != 1000 || f.End != 3000 || f.Peak != 5000 {
		t.Errorf("start, end, peak = %d, %d, %d; want 1000, 3000 (median of 1000 and 5000), 5000", f.Start, f.End, f.Peak)
	}
}

func FuzzParseWrk(f *testing.F) {
	f.Add([]byte("  1 requests in 1.00s, 1KB read\nSocket errors: connect 1, read 2\nRequests/sec: 1.0\n"))
	f.Add([]byte("Non-2xx or 3xx responses: x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParseWrk(data); err == nil && !bytes.Contains(data, []byte("Requests/sec:")) {
			t.Errorf("parsed %q without a Requests/sec line", data)
		}
	})
}

func FuzzParseGoBench(f *testing.F) {
	f.Add([]byte("BenchmarkA-2 10 5 ns/op 3 pairs/s\n"))
	f.Add([]byte("BenchmarkA 1 x y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		bs, err := ParseGoBench(data)
		if err != nil {
			return
		}
		for _, b := range bs {
			if !strings.HasPrefix(b.Name, "Benchmark") || b.Procs < 1 {
				t.Errorf("parsed %+v from %q", b, data)
			}
		}
	})
}

func TestNoiseFloor(t *testing.T) {
	t.Parallel()
	rec := func(target string, round int, p50, p99 float64) LatencyRecord {
		return LatencyRecord{Group: "g", Target: target, Round: round, P50us: p50, P90us: p50, P99us: p99, MaxUs: p99}
	}
	recs := []LatencyRecord{
		rec(Baseline, 1, 100, 1000), rec(Again, 1, 130, 900),
		rec(Baseline, 2, 200, 1000), rec(Again, 2, 190, 1500),
		rec(Baseline, 3, 100, 2000), rec(Again, 3, 160, 2050),
		rec(Again, 4, 999, 9999), // no baseline in round 4: left out
	}
	floor, ok := NoiseFloor(recs, "g")
	if !ok || floor[0] != 30 || floor[2] != 100 {
		t.Errorf("floor = %v, %v; want p50 30 (of 30, 10, 60) and p99 100 (of 100, 500, 50)", floor, ok)
	}
	if _, ok := NoiseFloor(recs[:1], "g"); ok {
		t.Error("no direct-again: want no floor")
	}
}

func TestVsPlain(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tests := []struct {
		name             string
		sh, pl, floor    float64
		want, figureHint string
	}{
		{"within the ratio", 110, 100, 20, Met, "(1.10×)"},
		{"over the ratio, beyond noise", 200, 100, 20, Missed, "(2.00×)"},
		{"over the ratio, within noise", 130, 100, 40, Met, "30 µs more, within the noise floor of 40 µs"},
		{"plain adds nothing, shadow within noise of it", -50, -80, 300, Met, "plain adds nothing beyond the noise floor of 300 µs"},
		{"plain adds less than the floor, shadow beyond it", 900, 100, 300, Missed, "shadow adds 800 µs more, beyond it"},
		{"plain adds nothing, no floor", 50, -10, nan, Unknown, "no noise floor measured"},
		{"plain adds something, no floor", 110, 100, nan, Met, "(1.10×)"},
		{"not measured", nan, 100, 20, Unknown, ""},
	}
	for _, tc := range tests {
		fig, got := vsPlain("p50", tc.sh, tc.pl, tc.floor)
		if got != tc.want || !strings.Contains(fig, tc.figureHint) {
			t.Errorf("%s: got %s %q; want %s and a figure containing %q", tc.name, got, fig, tc.want, tc.figureHint)
		}
	}
}

func TestCandidateGoalWithinNoise(t *testing.T) {
	t.Parallel()
	rec := func(target string, round int, p99 float64) LatencyRecord {
		return LatencyRecord{Group: "1 ms", Target: target, Round: round, P50us: 1, P90us: 1, P99us: p99, MaxUs: p99}
	}
	recs := []LatencyRecord{
		rec(Baseline, 1, 1000), rec(Again, 1, 1600), rec(targetShadowFast, 1, 1000), rec(targetShadowSlow, 1, 1500),
	}
	if g := candidateGoal(recs, targetShadowSlow, "2 s candidate"); g.Verdict != Met || !strings.Contains(g.Figure, "within the noise floor of 600") {
		t.Errorf("1.5× but 500 µs more with a 600 µs floor: got %s %q, want met within noise", g.Verdict, g.Figure)
	}
	recs[1].P99us = 1100
	if g := candidateGoal(recs, targetShadowSlow, "2 s candidate"); g.Verdict != Missed {
		t.Errorf("1.5× and 500 µs more with a 100 µs floor: got %s %q, want missed", g.Verdict, g.Figure)
	}
}

func TestRSSGoal(t *testing.T) {
	t.Parallel()
	// samples makes one sample a second from 0 to 120 s, at kb(t).
	samples := func(kb func(sec float64) int64) []RSSSample {
		var out []RSSSample
		for sec := 0.0; sec <= 120; sec++ {
			out = append(out, RSSSample{Seconds: sec, KB: kb(sec)})
		}
		return out
	}
	meta := []KV{{"warmup_s", "20"}, {"duration", "120s"}, {"rate", "300"}}
	tests := []struct {
		name       string
		kb         func(float64) int64
		want, hint string
	}{
		{"flat", func(float64) int64 { return 40000 }, Met, "end 39.1 MiB (+0.0%)"},
		{"falling after the warm-up", func(s float64) int64 { return 44000 - int64(100*s) }, Met, "it fell"},
		{"growing", func(s float64) int64 { return 30000 + int64(100*s) }, Missed, "trend +5.86 MiB/min"},
		{"a spike that comes back", func(s float64) int64 {
			if s > 60 && s < 65 {
				return 80000
			}
			return 40000
		}, Met, "peak 78.1 MiB"},
	}
	for _, tc := range tests {
		g := rssGoal(&Soak{Meta: meta, Samples: samples(tc.kb)})
		if g.Verdict != tc.want || !strings.Contains(g.Figure, tc.hint) {
			t.Errorf("%s: got %s %q; want %s and a figure containing %q", tc.name, g.Verdict, g.Figure, tc.want, tc.hint)
		}
	}
	if g := rssGoal(&Soak{Meta: meta, Samples: samples(func(float64) int64 { return 1 })[:25]}); g.Verdict != Unknown {
		t.Errorf("5 samples after the warm-up: got %s %q, want %s", g.Verdict, g.Figure, Unknown)
	}
	heap := []RSSSample{{10, 9000}, {30, 8000}, {60, 8100}, {110, 8200}}
	if g := rssGoal(&Soak{Meta: meta, Samples: samples(func(float64) int64 { return 40000 }), Heap: heap}); !strings.Contains(g.Figure, "Go heap in use 7.8 MiB → 8.0 MiB") {
		t.Errorf("with heap samples: figure %q, want the heap after the warm-up", g.Figure)
	}
}

func TestLadderFigure(t *testing.T) {
	t.Parallel()
	steps := []LadderStep{
		{Tool: "synth", Rate: 5000, Sustained: true}, {Tool: "synth", Rate: 10000, Sustained: true},
		{Tool: "synth", Rate: 12500}, {Tool: "synth", Rate: 11000},
		{Tool: "vegeta", Rate: 5000}, {Tool: "vegeta", Rate: 10000},
	}
	g := maxRateGoal(steps)
	if want := "synth 10,000/s (missed 11,000) vs vegeta 0/s (missed even 5,000/s)"; !strings.HasPrefix(g.Figure, want) || g.Verdict != Unknown {
		t.Errorf("got %s %q; want %s and a figure starting %q", g.Verdict, g.Figure, Unknown, want)
	}
}
