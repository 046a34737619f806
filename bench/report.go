package bench

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// machineRows are the machine.txt keys shown, with their labels.
var machineRows = []KV{
	{"cpu", "CPU"}, {"cores", "cores"}, {"memory", "memory"}, {"kernel", "kernel"},
	{"go", "Go"}, {"nginx", "nginx"}, {"wrk", "wrk"}, {"vegeta", "vegeta CLI"},
	{"commit", "commit"}, {"uptime_before", "uptime before"}, {"uptime_after", "uptime after"},
}

// targetNotes says what each latency target is.
var targetNotes = map[string]string{
	"direct":       "load generator → upstream, no proxy (the baseline)",
	"direct-again": "the same as `direct`, measured again right after it: how far it differs from `direct` is the noise floor",
	"plain":        "plain `httputil.ReverseProxy`, no mirroring",
	"shadow-fast":  "`shadow run`, candidate answers in 0 ms",
	"shadow-slow":  "`shadow run`, candidate answers in 2 s",
	"shadow-dead":  "`shadow run`, nothing listens at the candidate's address",
	"nginx-fast":   "nginx `mirror` module, mirror answers in 0 ms",
	"nginx-slow":   "nginx `mirror` module, mirror answers in 2 s",
	"nginx-dead":   "nginx `mirror` module, nothing listens at the mirror's address",
}

// WriteResults writes the full results file of one run.
func WriteResults(w io.Writer, r *Run) error {
	p := &printer{w: w}
	m := r.Machine
	p.f("# understudy benchmarks: %s, %s\n\n", lookup(m, "date"), lookup(m, "mode"))
	p.f("Produced by `bench/run.sh%s` (%s). Every figure was measured side by side in this one run on this machine;\n",
		runFlags(m), lookup(m, "source"))
	p.f("ratios compare with a baseline measured in the same rounds, and latencies are medians over interleaved rounds.\n\n")
	p.f("## Machine\n\n| | |\n|---|---|\n")
	for _, kv := range machineRows {
		if v := lookup(m, kv.Key); v != "" {
			p.f("| %s | %s |\n", kv.Value, mdCell(v))
		}
	}
	if v := lookup(m, "notes"); v != "" {
		p.f("\n%s\n", v)
	}
	p.f("\n## Goals\n\n")
	writeGoals(p, r.Goals())
	writeLatency(p, r)
	writeTLS(p, r)
	writeThroughput(p, r)
	writeCost(p, r)
	writeStages(p, r)
	writeGrowth(p, r)
	writeHostile(p, r)
	writeSynth(p, r)
	writeGoBench(p, r)
	writeSoak(p, r)
	if r.PprofTop != "" {
		p.f("\n## shadow's CPU profile, by function\n\n")
		p.f("`go tool pprof -top` (by own time, then by cumulative time) of the profile section 4 folds into stages:\n\n")
		p.f("```text\n%s```\n", strings.TrimLeft(r.PprofTop, "\n"))
	}
	return p.err
}

// WriteBenchmarks writes BENCHMARKS.md: how to run the harness and the
// latest run's goals table; resultsPath is the full results file, relative
// to the repository root.
func WriteBenchmarks(w io.Writer, r *Run, resultsPath string) error {
	p := &printer{w: w}
	m := r.Machine
	p.f("# Benchmarks\n\n")
	p.f("`bench/run.sh` measures understudy side by side with what it replaces or competes with, on one machine in one run:\n")
	p.f("`shadow` against a direct connection, a plain `httputil.ReverseProxy` and nginx's `mirror` module, in latency, CPU per\n")
	p.f("request, cost per stage and how the cost grows; `synth` against the vegeta CLI; the compare engine, capture writer and\n")
	p.f("whole path through Go benchmarks. Figures are ratios against a baseline from the same rounds (interleaved A B A B,\n")
	p.f("medians reported), never absolute times checked against a threshold, so they stay meaningful on a busy shared machine.\n")
	p.f("All traffic stays on 127.0.0.1; every load is bounded in count and time; every process the script starts is stopped\n")
	p.f("when it exits. It is not part of CI.\n\n")
	p.f("```sh\nbench/run.sh --quick   # about 5 minutes: short rounds, soak of 2 minutes beside the other sections\n")
	p.f("bench/run.sh           # about 30 minutes: longer rounds, soak of 10 minutes on its own\n")
	p.f("bench/run.sh --worktree   # measure the working tree instead of the last commit\n")
	p.f("bench/run.sh --quick --only cost,stages   # some sections (comma-separated), see below\n```\n\n")
	p.f("Sections: `latency` (added latency and CPU per request at a fixed rate), `tls` (the same over HTTPS/1.1 and h2, beside\n")
	p.f("nginx `listen ssl http2` with `mirror`), `throughput` (wrk), `cost` (CPU per request:\n")
	p.f("mirroring off, one candidate, candidate + secondary, capture, two candidates, nginx), `stages` (a CPU profile folded\n")
	p.f("into serve, primary, tee, queue, candidate, judge, metrics, capture...), `growth` (body size, fields, endpoints, rate:\n")
	p.f("slopes), `uploads` (RSS under 800 slow uploaders), `wide` (unrelated clients beside wide JSON answers), `stream` (the\n")
	p.f("cost of flushing every write), `synth` (accuracy, CPU per request and maximum rate against vegeta), `gobench`, `soak`.\n\n")
	p.f("It installs what it lacks (nginx, wrk and curl with apt-get, the vegeta CLI with go install), writes\n")
	p.f("`bench/results/DATE-MODE.md` and rewrites this file; a run with --only writes `bench/results/DATE-MODE-only-SECTIONS.md`\n")
	p.f("and leaves this file alone.\n\n")
	p.f("## Latest run: %s, %s\n\n", lookup(m, "date"), lookup(m, "mode"))
	p.f("%s; %s cores, %s; kernel %s; %s; nginx %s. Commit %s (%s).\n\n",
		lookup(m, "cpu"), lookup(m, "cores"), lookup(m, "memory"), lookup(m, "kernel"), lookup(m, "go"), lookup(m, "nginx"),
		lookup(m, "commit"), lookup(m, "source"))
	p.f("Machine load (shared with other work): before `%s`; after `%s`.\n\n", lookup(m, "uptime_before"), lookup(m, "uptime_after"))
	if v := lookup(m, "notes"); v != "" {
		p.f("%s\n\n", v)
	}
	writeGoals(p, r.Goals())
	p.f("\nFull tables (CPU per request, cost per stage, growth slopes, hostile traffic) and shadow's CPU profile under load: [%s](%s).\n", resultsPath, resultsPath)
	return p.err
}

// runFlags returns the flags of bench/run.sh that select what a run
// measured: --quick and --only.
func runFlags(m []KV) string {
	var f string
	if lookup(m, "mode") == "quick" {
		f = " --quick"
	}
	if only := lookup(m, "only"); only != "" {
		f += " --only " + only
	}
	return f
}

func writeGoals(p *printer, gs []Goal) {
	p.f("| what | figure | goal | met |\n|---|---|---|---|\n")
	for _, g := range gs {
		p.f("| %s | %s | %s | %s |\n", mdCell(g.Name), mdCell(g.Figure), mdCell(g.Target), g.Verdict)
	}
}

func writeLatency(p *printer, r *Run) {
	if len(r.Latency) == 0 {
		return
	}
	first := r.Latency[0]
	p.f("\n## 1. Added latency at a fixed open-model rate\n\n")
	p.f("%s req/s for %gs per cell (after a warm-up), latency measured from each request's intended send time (no coordinated omission), ",
		thousands(first.Rate), first.DurationS)
	p.f("targets interleaved in every round; each figure is the median over rounds, ratios and added µs are taken against `direct` in the same round, then the median.\n\n")
	for _, grp := range Groups(r.Latency) {
		rows := LatencyTable(r.Latency, grp)
		p.f("### Upstream answering in %s\n\n", grp)
		p.f("| target | rounds | p50 µs | p90 µs | p99 µs | max µs | p50 × | p90 × | p99 × | max × | added p50 | added p99 | errors | copies dropped |\n")
		p.f("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, row := range rows {
			dropped := "—"
			if row.Mirror != nil {
				dropped = fmt.Sprintf("%d of %d", row.Mirror.Dropped, row.Mirror.Dropped+row.Mirror.Mirrored)
			}
			p.f("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |  %s |\n", row.Target, row.Rounds,
				thousands(row.Us[0]), thousands(row.Us[1]), thousands(row.Us[2]), thousands(row.Us[3]),
				times(row.Ratio[0]), times(row.Ratio[1]), times(row.Ratio[2]), times(row.Ratio[3]),
				addedUs(row.Added[0]), addedUs(row.Added[2]), row.Errors+row.Skipped, dropped)
		}
		if floor, ok := NoiseFloor(r.Latency, grp); ok {
			p.f("\nNoise floor (how far `direct-again` differed from `direct`, median over rounds): p50 %s µs, p90 %s µs, p99 %s µs, max %s µs. ",
				thousands(floor[0]), thousands(floor[1]), thousands(floor[2]), thousands(floor[3]))
			p.f("A difference between two targets no larger than this cannot be told from noise.\n")
		}
		p.f("\n")
		writeLatencyCPU(p, r.Latency, grp)
	}
	p.f("Targets:\n\n")
	seen := map[string]bool{}
	for _, rec := range r.Latency {
		if n, ok := targetNotes[rec.Target]; ok && !seen[rec.Target] {
			seen[rec.Target] = true
			p.f("- `%s`: %s\n", rec.Target, n)
		}
	}
}

func writeThroughput(p *printer, r *Run) {
	if len(r.Throughput) == 0 {
		return
	}
	p.f("\n## 2. Maximum throughput\n\n")
	p.f("wrk (closed loop, keep-alive) against each target in turn, 0 ms upstream, fast mirror; median over rounds. ")
	p.f("\"mirror delivered\" is answers the mirror upstream gave over answers the primary gave; \"deepest queue\" is shadow's queue depth polled from its admin endpoint.\n\n")
	p.f("| target | rounds | req/s | × nginx mirror | errors | mirror delivered | shadow dropped | deepest queue |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range ThroughputTable(r.Throughput, targetNginxFast) {
		delivered, dropped, depth := "—", "—", "—"
		if !math.IsNaN(row.Delivered) {
			delivered = fmt.Sprintf("%.1f%%", 100*row.Delivered)
		}
		if row.Shadow != nil {
			dropped = fmt.Sprintf("%.2f%% (%d)", 100*row.Shadow.DropRatio(), row.Shadow.Dropped)
			depth = fmt.Sprintf("%d/%d", row.Shadow.MaxQueueDepth, row.Shadow.QueueSize)
		}
		p.f("| %s | %d | %s | %s | %d | %s | %s | %s |\n", row.Target, row.Rounds, thousands(row.RPS), times(row.VsRef),
			row.Errors, delivered, dropped, depth)
	}
}

func writeSynth(p *printer, r *Run) {
	if len(r.Accuracy)+len(r.SynthCost)+len(r.Ladder) > 0 {
		p.f("\n## 7. synth\n")
	}
	if len(r.Accuracy) > 0 {
		p.f("\n### Rate accuracy\n\n")
		p.f("A one-step journey (GET) against a 0 ms loopback server; achieved is starts over the run's active time.\n\n")
		p.f("| rate/s | achieved/s | ratio | started | dropped | failed | p50 | p99 |\n|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, s := range r.Accuracy {
			rep := s.Report
			var p50, p99 string
			if len(rep.Steps) > 0 {
				p50, p99 = usString(rep.Steps[0].Latency.P50), usString(rep.Steps[0].Latency.P99)
			}
			p.f("| %s | %.1f | %.4f | %d | %d | %d | %s | %s |\n", thousands(s.Rate), rep.AchievedRate, rep.AchievedRate/s.Rate,
				rep.Journeys.Started, rep.Journeys.Dropped, rep.Journeys.Failed, p50, p99)
		}
	}
	writeSynthCost(p, r)
	if len(r.Ladder) > 0 {
		p.f("\n### Maximum sustained rate, synth vs vegeta CLI\n\n")
		p.f("Rising constant rates against the same server; vegeta sends the same four tag headers synth adds, so the server does the same work for both. ")
		p.f("A step is kept up when the achieved rate is ≥ %.0f%% of the rate, ≥ %.0f%% of answers are good (a dropped start counts as not good) and the median latency is at most %s µs (above that, requests wait in a queue that grows for as long as the step lasts: the tool or the server beside it is saturated, even if the tool still sends on time). ",
			100*sustainedShare, 100*sustainedShare, thousands(sustainedP50us))
		p.f("At each rate the tools take turns, the one going first changing from step to step; a missed step is tried once more after the other tool's try, and each tool stops at its first step missed twice (the table shows the last try).\n\n")
		p.f("| rate/s | synth achieved/s | synth good | synth p50 | vegeta achieved/s | vegeta good | vegeta p50 |\n|--:|--:|--:|--:|--:|--:|--:|\n")
		var rates []float64
		by := map[string]map[float64]LadderStep{"synth": {}, "vegeta": {}}
		for _, s := range r.Ladder {
			if _, ok := by["synth"][s.Rate]; !ok {
				if _, ok := by["vegeta"][s.Rate]; !ok {
					rates = append(rates, s.Rate)
				}
			}
			by[s.Tool][s.Rate] = s
		}
		sort.Float64s(rates)
		cell := func(tool string, rate float64) string {
			s, ok := by[tool][rate]
			if !ok {
				return "— | — | —"
			}
			mark := ""
			if !s.Sustained {
				mark = " ✗"
			}
			return fmt.Sprintf("%.0f%s | %.2f%% | %s", s.Achieved, mark, 100*s.Success, usString(int64(s.P50us*1e3)))
		}
		for _, rate := range rates {
			p.f("| %s | %s | %s |\n", thousands(rate), cell("synth", rate), cell("vegeta", rate))
		}
	}
}

func writeGoBench(p *printer, r *Run) {
	if len(r.GoBench) == 0 {
		return
	}
	p.f("\n## 8. Go benchmarks\n\n")
	p.f("`go test -run '^$' -bench BenchmarkCompareJSON ./compare/` and `-bench BenchmarkWrite ./capture/` (one goroutine unless Parallel); `-bench BenchmarkWholePath ./bench/` is in section 3.\n\n")
	p.f("| benchmark | procs | ns/op | rate | B/op | allocs/op |\n|---|--:|--:|--:|--:|--:|\n")
	for _, b := range r.GoBench {
		if isWholePath(b) || isInstructions(b) {
			continue
		}
		ns, _ := b.Metric("ns/op")
		bop, _ := b.Metric("B/op")
		allocs, _ := b.Metric("allocs/op")
		var rates []string
		for _, unit := range []string{"pairs/s", "records/s", "records/cpu-s"} {
			if v, ok := b.Metric(unit); ok {
				rates = append(rates, thousands(v)+" "+unit)
			}
		}
		p.f("| %s | %d | %s | %s | %s | %s |\n", shortName(b.Name), b.Procs, thousands(ns), strings.Join(rates, ", "), thousands(bop), thousands(allocs))
	}
}

func writeSoak(p *printer, r *Run) {
	s := r.Soak
	if s == nil {
		return
	}
	f := s.Figures()
	p.f("\n## 9. shadow memory over a soak\n\n")
	p.f("%s at %s req/s through shadow (1 ms primary, fast candidate)%s. ",
		lookup(s.Meta, "duration"), lookup(s.Meta, "rate"), soakConcurrent(lookup(s.Meta, "concurrent")))
	p.f("Measured: shadow's resident set (VmRSS from /proc, every second) and, where sampled, its Go heap in use (`go_memstats_heap_inuse_bytes` from its admin /metrics, every 5 s). ")
	p.f("The first %ss are a warm-up (pools, caches and the heap reach their working size) and are left out; over the rest, start and end are the medians of the first and last tenth of the samples, peak the largest, trend the least-squares slope. ", lookup(s.Meta, "warmup_s"))
	p.f("What is judged is growth: a leak raises the end and the trend; a resident size that falls is memory the runtime handed back to the system.\n\n")
	p.f("| memory | idle | start | peak | end | change | trend | samples |\n|---|--:|--:|--:|--:|--:|--:|--:|\n")
	if f.Samples > 0 {
		p.f("| VmRSS | %s | %s | %s | %s | %+.1f%% | %+.2f MiB/min (%+.1f%%) | %d |\n",
			mib(f.Idle), mib(f.Start), mib(f.Peak), mib(f.End), 100*f.Growth(), f.SlopeKBPerMin/1024, 100*f.TrendGrowth(), f.Samples)
	}
	if f.HeapSamples > 0 {
		p.f("| Go heap in use | — | %s | — | %s | %+.1f%% | — | %d |\n",
			mib(f.HeapStart), mib(f.HeapEnd), 100*float64(f.HeapEnd-f.HeapStart)/float64(max(f.HeapStart, 1)), f.HeapSamples)
	}
	if s.Load != nil {
		p.f("\nLoad: %d sent, %d errors, p50 %s µs, p99 %s µs", s.Load.Sent, s.Load.Errors+s.Load.Skipped, thousands(s.Load.P50us), thousands(s.Load.P99us))
		if s.Shadow != nil {
			p.f("; %d copies mirrored, %d dropped", s.Shadow.Mirrored, s.Shadow.Dropped)
		}
		p.f(".\n")
	}
	if len(s.Samples) > 0 {
		step := max(1, len(s.Samples)/12)
		var parts []string
		for i := 0; i < len(s.Samples); i += step {
			x := s.Samples[i]
			parts = append(parts, fmt.Sprintf("%.0fs %s", x.Seconds, mib(x.KB)))
		}
		p.f("\nVmRSS samples: %s.\n", strings.Join(parts, ", "))
	}
}

func soakConcurrent(v string) string {
	if v == "yes" {
		return ", run beside the other sections to keep --quick short"
	}
	return ", on its own"
}

// times formats a ratio: 1.23×.
func times(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", v)
}

// usString formats nanoseconds as µs or ms.
func usString(ns int64) string {
	if ns >= 10_000_000 {
		return fmt.Sprintf("%.1f ms", float64(ns)/1e6)
	}
	return fmt.Sprintf("%s µs", thousands(float64(ns)/1e3))
}

// mdCell keeps a value on one table row.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// printer writes formatted text and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
