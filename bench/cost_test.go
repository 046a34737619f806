package bench

import (
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseTraces(t *testing.T) {
	t.Parallel()
	in := `File: shadow
Type: cpu
Duration: 3s, Total samples = 1.70s (56.65%)
-----------+-------------------------------------------------------
      10ms   runtime.nanotime (inline)
             runtime.schedule
             runtime.mcall
-----------+-------------------------------------------------------
     1.20s   internal/runtime/syscall/linux.Syscall6
             syscall.write
             net.(*conn).Write
             net/http.(*persistConn).writeLoop
                 bytes:[1024]
-----------+-------------------------------------------------------
`
	got, err := ParseTraces([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("samples = %d, want 2: %+v", len(got), got)
	}
	if got[0].Us != 10e3 || strings.Join(got[0].Frames, " ") != "runtime.nanotime runtime.schedule runtime.mcall" {
		t.Errorf("first = %+v, want 10 ms and three frames without (inline)", got[0])
	}
	if got[1].Us != 1.2e6 || len(got[1].Frames) != 4 {
		t.Errorf("second = %+v, want 1.2 s and four frames (the label line skipped)", got[1])
	}
	if _, err := ParseTraces([]byte("-----------+---\n      lots   main.f\n")); err == nil {
		t.Error("a bad value: want an error")
	}
}

func TestStageOf(t *testing.T) {
	t.Parallel()
	const m, c = understudy + "mirror.", understudy + "capture."
	tests := []struct {
		name   string
		frames []string
		h1     bool
		want   string
	}{
		{"client write inside ReverseProxy", []string{"syscall.write", "net/http.checkConnErrorWriter.Write", "bufio.(*Writer).Flush",
			"net/http.(*response).Write", "net/http/httputil.(*ReverseProxy).copyResponse", "net/http/httputil.(*ReverseProxy).ServeHTTP",
			m + "(*Proxy).ServeHTTP", "net/http.(*conn).serve"}, false, "serve"},
		{"primary body read through the tee", []string{"syscall.read", "net/http.(*body).Read", m + "(*tee).Read",
			"net/http/httputil.(*ReverseProxy).copyBuffer", "net/http/httputil.(*ReverseProxy).ServeHTTP", m + "(*Proxy).ServeHTTP"}, false, "primary round trip"},
		{"the tee's copy", []string{"runtime.memmove", m + "appendBounded", m + "(*tee).Read", "net/http/httputil.(*ReverseProxy).copyBuffer"}, false, "tee"},
		{"candidate body read", []string{"syscall.read", "net/http.(*body).Read", m + "readBounded", m + "(*Proxy).send", m + "(*Proxy).runCopy"}, false, "candidate round trip"},
		{"transport loop, shared", []string{"syscall.write", "net/http.(*persistConn).writeLoop"}, false, "upstream I/O loops"},
		{"transport loop, copies only", []string{"syscall.write", "net/http.(*persistConn).writeLoop"}, true, "candidate round trip"},
		{"redaction's JSON scanner inside judging", []string{c + "skipJSONValue", c + "(*jsonRedaction).hunt", c + "(*Redactor).Redact",
			understudy + "observe.(*Pipeline).Observe", m + "(*Proxy).observe"}, false, "redact"},
		{"compare helper", []string{"runtime.mallocgc", understudy + "compare.diffJSON", understudy + "compare.(*Engine).Record",
			understudy + "observe.(*Pipeline).Observe"}, false, "judge"},
		{"metrics", []string{"github.com/prometheus/client_golang/prometheus.(*counter).Add", understudy + "cmd/internal/metrics.(*ShadowMetrics).Record",
			understudy + "observe.(*Pipeline).Observe"}, false, "metrics"},
		{"capture encoding", []string{"github.com/vmihailenco/msgpack/v5.(*Encoder).EncodeString", c + "(*Writer).WriteExchange",
			understudy + "observe.(*Pipeline).loop"}, false, "capture"},
		{"a package's helper alone", []string{c + "skipJSONString"}, false, "capture"},
		{"gc", []string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"}, false, "gc"},
		{"scheduler", []string{"runtime.futex", "runtime.findRunnable", "runtime.schedule", "runtime.park_m", "runtime.mcall"}, false, "scheduler"},
		{"unknown", []string{"main.main"}, false, "other"},
	}
	for _, tc := range tests {
		if got := stageOf(tc.frames, tc.h1); got != tc.want {
			t.Errorf("%s: stage = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestStageBreakdown(t *testing.T) {
	t.Parallel()
	samples := []Sample{
		{Us: 300, Frames: []string{"syscall.write", "net/http.(*persistConn).writeLoop"}},
		{Us: 100, Frames: []string{"runtime.memmove", understudy + "mirror.appendBounded"}},
		{Us: 100, Frames: []string{understudy + "mirror.(*h1Transport).RoundTrip"}},
	}
	stages, total, copies := StageBreakdown(samples)
	if total != 500 || !copies {
		t.Fatalf("total %v, loops are copies %v; want 500, true (h1Transport seen)", total, copies)
	}
	share := map[string]float64{}
	for _, s := range stages {
		share[s.Name] = s.Share
	}
	if share["candidate round trip"] != 0.6 || share["tee"] != 0.2 || share["primary round trip"] != 0.2 {
		t.Errorf("shares = %v, want candidate 0.6, tee 0.2, primary 0.2", share)
	}
	for _, s := range stages {
		if s.Name == "candidate round trip" && (len(s.Top) != 1 || !strings.HasPrefix(s.Top[0], "write ← http.(*persistConn).writeLoop")) {
			t.Errorf("top of the candidate round trip = %q, want the write under writeLoop", s.Top)
		}
	}
}

// growthRecs makes a growth table: at each x, plain costs 100 µs per
// request and shadow cost(x), one round.
func growthRecs(xs []float64, cost func(float64) float64) []LatencyRecord {
	var recs []LatencyRecord
	for _, x := range xs {
		g := strconv.FormatFloat(x, 'f', -1, 64)
		recs = append(recs,
			LatencyRecord{Group: g, Target: "plain", Round: 1, Sent: 100, OK: 100, CPUus: 100 * 100, P50us: 500},
			LatencyRecord{Group: g, Target: "shadow", Round: 1, Sent: 100, OK: 100, CPUus: 100 * cost(x), P50us: 800})
	}
	return recs
}

func TestGrowthTable(t *testing.T) {
	t.Parallel()
	xs := []float64{1024, 16384, 262144, 1048576}
	tests := []struct {
		name      string
		cost      func(float64) float64
		wantAbove bool
	}{
		{"fixed plus linear", func(x float64) float64 { return 300 + x/100 }, false},
		{"flat", func(float64) float64 { return 300 }, false},
		{"quadratic", func(x float64) float64 { return 300 + x*x/1e8 }, true},
	}
	for _, tc := range tests {
		g := GrowthTable(growthRecs(xs, tc.cost), "shadow", "plain", false)
		if len(g.Points) != 4 || g.Superlinear() != tc.wantAbove {
			t.Errorf("%s: %d points, slope %.2f, superlinear %v; want 4 points, superlinear %v", tc.name, len(g.Points), g.Slope, g.Superlinear(), tc.wantAbove)
		}
		if a := g.Points[0].Added; math.Abs(a-(tc.cost(1024)-100)) > 1e-6 {
			t.Errorf("%s: added at 1 KiB = %v, want %v", tc.name, a, tc.cost(1024)-100)
		}
	}
	// In a rate table a point whose p50 is past the bound is saturated and
	// left out: the slope is taken below it.
	recs := growthRecs([]float64{500, 1000, 2000}, func(float64) float64 { return 300 })
	recs[5].P50us = 2 * sustainedP50us
	g := GrowthTable(recs, "shadow", "plain", true)
	if !g.Points[2].Saturated || math.Abs(g.Slope-1) > 1e-9 {
		t.Errorf("rate table: saturated %v, slope %v; want the top point saturated and slope 1 (CPU per second of a flat cost)", g.Points[2].Saturated, g.Slope)
	}
	// Elsewhere a high p50 is the machine's doing: the point counts.
	g = GrowthTable(recs, "shadow", "plain", false)
	if g.Points[2].Saturated {
		t.Error("bytes table: a high p50 alone marked the point saturated")
	}
	recs[5].Errors = 50
	if g = GrowthTable(recs, "shadow", "plain", false); !g.Points[2].Saturated {
		t.Error("half the sends failed: want the point saturated")
	}
}

func TestCPUTable(t *testing.T) {
	t.Parallel()
	rec := func(target string, round int, cpuPerReq float64) LatencyRecord {
		return LatencyRecord{Group: "cost", Target: target, Round: round, OK: 1000, Sent: 1000, CPUus: 1000 * cpuPerReq, CPUSource: "schedstat"}
	}
	recs := []LatencyRecord{
		rec("plain", 1, 300), rec("shadow-fast", 1, 330),
		rec("plain", 2, 200), rec("shadow-fast", 2, 260),
		rec("plain", 3, 400), rec("shadow-fast", 3, 420),
		{Group: "cost", Target: "nginx-fast", Round: 1}, // no CPU measured
	}
	rows := CPUTable(recs, "cost", "plain")
	sh, _ := cpuRow(rows, "shadow-fast")
	tests := []struct {
		name      string
		got, want float64
	}{
		{"median CPU per request", sh.PerReq, 330},
		{"paired ratio (1.1, 1.3, 1.05)", sh.Ratio["plain"], 1.1},
		{"paired difference (30, 60, 20)", sh.Added["plain"], 30},
	}
	for _, tc := range tests {
		if math.Abs(tc.got-tc.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if ng, _ := cpuRow(rows, "nginx-fast"); !math.IsNaN(ng.PerReq) {
		t.Errorf("a target without CPU figures: %v, want NaN", ng.PerReq)
	}
	beside := LatencyRecord{OK: 90, CPUus: 1000, Beside: &BesideLoad{OK: 10}}
	if got := beside.CPUPerRequest(); got != 10 {
		t.Errorf("CPU per request with a beside load = %v, want 10 (its answers count)", got)
	}
}

func TestKeptUp(t *testing.T) {
	t.Parallel()
	recs := []LatencyRecord{
		{Target: "shadow", Group: "1000", Sent: 1000, P50us: 900},
		{Target: "shadow", Group: "2000", Sent: 2000, P50us: 900, Skipped: 100},
		{Target: "shadow", Group: "4000", Sent: 4000, P50us: 2 * sustainedP50us},
	}
	for _, tc := range []struct {
		group string
		want  bool
	}{{"1000", true}, {"2000", false}, {"4000", false}, {"8000", false}} {
		if got, why := KeptUp(recs, "shadow", tc.group); got != tc.want {
			t.Errorf("group %s: kept up %v (%s), want %v", tc.group, got, why, tc.want)
		}
	}
}

func TestReadCPUAndRSS(t *testing.T) {
	t.Parallel()
	pid := os.Getpid()
	before, err := ReadCPU(pid)
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	// Burn CPU until both counters have moved: the tick count needs 10 ms.
	var after ProcessCPU
	x := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		for i := 0; i < 1e6; i++ {
			x += i
		}
		if after, err = ReadCPU(pid); err != nil {
			t.Fatal(err)
		}
		if after.Stat > before.Stat && after.Sched > before.Sched {
			break
		}
	}
	_ = x
	if after.Stat <= before.Stat || after.Sched <= before.Sched {
		t.Fatalf("CPU did not move: before %+v, after %+v", before, after)
	}
	if used := before.Used(after, 1); used != after.Sched-before.Sched {
		t.Errorf("Used = %v, want the schedstat difference %v", used, after.Sched-before.Sched)
	}
	// A schedstat sum that lags the ticks by more than two (threads ended)
	// gives way to the ticks.
	lagging := ProcessCPU{Stat: after.Stat + time.Second, Sched: after.Sched}
	if used := before.Used(lagging, 1); used != lagging.Stat-before.Stat {
		t.Errorf("Used with ended threads = %v, want the tick difference %v", used, lagging.Stat-before.Stat)
	}
	rss, hwm, err := ReadRSS(pid)
	if err != nil || rss <= 0 || hwm < rss {
		t.Errorf("ReadRSS = %d, %d, %v; want VmRSS > 0 and VmHWM ≥ it", rss, hwm, err)
	}
	if _, err := ReadCPU(1 << 30); err == nil {
		t.Error("a pid that does not exist: want an error")
	}
}
