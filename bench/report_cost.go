package bench

import (
	"fmt"
	"math"
	"strings"
)

// costNotes says what each cost target is.
var costNotes = map[string]string{
	targetDirect:          "no proxy: the upstream's own CPU per request, the floor any HTTP/1.1 hop pays",
	targetPlain:           "plain `httputil.ReverseProxy` (bench/cmd/plainproxy), no mirroring",
	targetPlainAgain:      "the same as `plain`, measured again right after it: how far the two differ is the CPU noise floor",
	targetShadowOff:       "`shadow run` with mirroring off (`mirror.routes: [{disabled: true}]`): the proxy alone",
	targetShadowFast:      "`shadow run`, one candidate, judging and metrics",
	targetShadowSecondary: "`shadow run`, candidate and secondary (two copies per request)",
	targetShadowCapture:   "`shadow run`, one candidate, `--capture` on (records written)",
	targetShadowTwo:       "`shadow run`, two candidates (`candidates:`)",
	targetShadowTransport: "`shadow run`, one candidate, its copies through http.Transport (`mirror.copy_client: transport`) instead of the copy client",
	targetNginxFast:       "nginx `mirror` module (master and 2 workers), one mirror",
	targetNginxPlain:      "the same nginx without a mirror (`proxy_pass` alone): beside `nginx-fast`, what nginx's own mirror costs it",
	targetPlainOneP:       "`plain` with GOMAXPROCS=1: one P, so no idle P is woken to spin at each hand-off between goroutines",
	targetShadowOneP:      "`shadow-fast` with GOMAXPROCS=1 (one P; its judges then share the one P with serving)",
}

// writeLatencyCPU writes one latency group's CPU per request.
func writeLatencyCPU(p *printer, recs []LatencyRecord, grp string) {
	rows := CPUTable(recs, grp, Baseline, targetPlain, targetNginxFast)
	measured := false
	for _, r := range rows {
		measured = measured || !math.IsNaN(r.PerReq)
	}
	if !measured {
		return
	}
	p.f("CPU per proxied request over the same cells (the target's processes from /proc, from the start of each window until they were idle again after its last answer; for `direct` the upstream's own; medians over rounds, ratios against the same round's):\n\n")
	p.f("| target | CPU µs/request | × direct | × plain | × nginx-fast |\n|---|--:|--:|--:|--:|\n")
	for _, r := range rows {
		p.f("| %s | %s | %s | %s | %s |\n", r.Target, us1(r.PerReq), times(r.Ratio[Baseline]), times(r.Ratio[targetPlain]), times(r.Ratio[targetNginxFast]))
	}
	if noise, ok := CPUNoise(recs, grp, Baseline, Again); ok {
		p.f("\nCPU noise floor: `direct-again` differed from `direct` by %.0f%% (median over rounds).\n", 100*noise)
	}
	p.f("\n")
}

func writeCost(p *printer, r *Run) {
	if len(r.Cost) == 0 {
		if hasWholePath(r) {
			p.f("\n## 3. Cost: allocations per request\n")
			writeWholePath(p, r)
		}
		return
	}
	first := r.Cost[0]
	p.f("\n## 3. Cost: CPU per request\n\n")
	p.f("%s req/s (open model) for %gs per cell after a warm-up, 0 ms upstream, small JSON answers, targets interleaved in every round. ", thousands(first.Rate), first.DurationS)
	p.f("CPU is the target's processes' user + system time from /proc (%s), from the start of each window until they were idle again after its last answer (queued copies and judging included), over the requests answered. ", cpuSources(r.Cost))
	p.f("Medians over rounds; ratios and differences are taken against the same round's baseline, then the median. \"judged\" is copies compared over copies mirrored: below %.0f%%, judging was skipped under load and the figure understates it.\n\n", 100*minJudgedShare)
	rows := CPUTable(r.Cost, groupCost, targetDirect, targetPlain, targetNginxFast, targetShadowOff, targetShadowTransport, targetShadowFast, targetNginxPlain)
	p.f("| target | rounds | CPU µs/request | × direct | over plain | × plain | × nginx mirror | p50 µs | judged | errors |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range rows {
		p.f("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %d |\n", row.Target, row.Rounds, us1(row.PerReq), times(row.Ratio[targetDirect]),
			addedUs(row.Added[targetPlain]), times(row.Ratio[targetPlain]), times(row.Ratio[targetNginxFast]), thousands(row.P50), judged(row.Mirror), row.Errors)
	}
	p.f("\n")
	for _, row := range rows {
		if n, ok := costNotes[row.Target]; ok {
			p.f("- `%s`: %s\n", row.Target, n)
		}
	}
	if noise, ok := CPUNoise(r.Cost, groupCost, targetPlain, targetPlainAgain); ok {
		p.f("\nCPU noise floor: `plain-again` differed from `plain` by %.0f%% (median over rounds); ratios closer to each other than that cannot be told apart.\n", 100*noise)
	}
	writeSkipped(p, r, "cost")
	if parts := costParts(rows); len(parts) > 0 {
		p.f("\nWhat each part costs, per request (differences paired by round, medians): %s.\n", strings.Join(parts, "; "))
	}
	writeWholePath(p, r)
}

// costParts names what each feature adds, from pairs of cost rows.
func costParts(rows []CPURow) []string {
	var parts []string
	add := func(label, target, ref string) {
		row, ok := cpuRow(rows, target)
		if !ok || math.IsNaN(row.Added[ref]) {
			return
		}
		parts = append(parts, fmt.Sprintf("%s %s", label, addedUs(row.Added[ref])))
	}
	add("shadow's proxy over a plain ReverseProxy (mirroring off)", targetShadowOff, targetPlain)
	add("one mirrored, judged copy (over mirroring off)", targetShadowFast, targetShadowOff)
	add("candidate + secondary (over mirroring off)", targetShadowSecondary, targetShadowOff)
	add("capture on (over mirroring off)", targetShadowCapture, targetShadowOff)
	add("two candidates (over mirroring off)", targetShadowTwo, targetShadowOff)
	add("the copy client beside http.Transport (one judged copy)", targetShadowFast, targetShadowTransport)
	add("nginx's own mirror (over nginx without it)", targetNginxFast, targetNginxPlain)
	add("one P instead of one per core, plain proxy", targetPlainOneP, targetPlain)
	add("one P instead of one per core, shadow", targetShadowOneP, targetShadowFast)
	return parts
}

// isWholePath says whether b is a case of BenchmarkWholePath.
func isWholePath(b GoBench) bool { return strings.HasPrefix(b.Name, "BenchmarkWholePath/") }

func hasWholePath(r *Run) bool {
	for _, b := range r.GoBench {
		if isWholePath(b) {
			return true
		}
	}
	return false
}

// writeWholePath writes the allocations per request of BenchmarkWholePath.
func writeWholePath(p *printer, r *Run) {
	var cases []GoBench
	var direct *GoBench
	for i, b := range r.GoBench {
		if isWholePath(b) {
			cases = append(cases, b)
			if b.Name == "BenchmarkWholePath/direct" {
				direct = &r.GoBench[i]
			}
		}
	}
	if len(cases) == 0 {
		return
	}
	p.f("\n### Allocations per request, the whole path in one process\n\n")
	p.f("`go test -run '^$' -bench BenchmarkWholePath ./bench/`: one small GET after another through shadow's path wired as `shadow run` wires it (mirror.Proxy → observe.Pipeline: redact, compare.Engine, capture.Writer), the copies of the last requests waited for. ")
	p.f("Client and upstreams run in the same process, so \"added\" subtracts `direct`; `cpu-µs/op` is the process's getrusage time per request. The Prometheus metrics `shadow run` feeds are not in it (cmd/internal, which bench cannot import).\n\n")
	p.f("| case | ns/op | cpu-µs/op | allocs/op | B/op | allocs added | B added |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, b := range cases {
		ns, _ := b.Metric("ns/op")
		cpu, _ := b.Metric("cpu-µs/op")
		al, _ := b.Metric("allocs/op")
		by, _ := b.Metric("B/op")
		addA, addB := "—", "—"
		if direct != nil && b.Name != direct.Name {
			da, _ := direct.Metric("allocs/op")
			db, _ := direct.Metric("B/op")
			addA, addB = fmt.Sprintf("%+.0f", al-da), fmt.Sprintf("%+.0f", by-db)
		}
		p.f("| %s | %s | %s | %s | %s | %s | %s |\n", strings.TrimPrefix(b.Name, "BenchmarkWholePath/"), thousands(ns), us1(cpu), thousands(al), thousands(by), addA, addB)
	}
	writeInstructions(p, r)
}

func judged(m *MirrorDelta) string {
	if m == nil || m.Mirrored == 0 {
		return "—"
	}
	// Copies queued just before a window can be judged in it: at most 100%.
	return fmt.Sprintf("%.0f%%", min(100, 100*float64(m.Compared)/float64(m.Mirrored)))
}

// cpuSources says how the CPU figures were read.
func cpuSources(recs []LatencyRecord) string {
	seen := map[string]bool{}
	for _, r := range recs {
		if r.CPUSource != "" {
			seen[r.CPUSource] = true
		}
	}
	switch {
	case seen["schedstat"] && !seen["stat"]:
		return "the threads' run time in /proc/PID/task/*/schedstat, to the ns"
	case seen["stat"] && !seen["schedstat"]:
		return "utime + stime in /proc/PID/stat, in 10 ms ticks"
	}
	return "the threads' schedstat run time, or utime + stime from /proc/PID/stat where threads had ended"
}

// writeSkipped lists the section's variants not measured.
func writeSkipped(p *printer, r *Run, section string) {
	for _, s := range r.Skipped {
		if s.Section == section {
			p.f("- **skipped** %s: %s.\n", s.What, s.Why)
		}
	}
}

func writeStages(p *printer, r *Run) {
	s := r.Stages
	if s == nil || len(s.Samples) == 0 {
		return
	}
	stages, total, loopsAreCopies := StageBreakdown(s.Samples)
	p.f("\n## 4. Where shadow's CPU goes, by stage\n\n")
	p.f("A CPU profile from shadow's admin endpoint (`/debug/pprof/profile`, %ss) while loadgen drove it at %s req/s (%s); ", lookup(s.Meta, "seconds"), lookup(s.Meta, "rate"), lookup(s.Meta, "target"))
	p.f("each sample is filed under the stage of its innermost frame that names one (bench/stages.go: function-name patterns; a package's helpers count for the stage that called them), %.2f s of samples in all.", total/1e6)
	perReq := math.NaN()
	if s.Load != nil {
		perReq = s.Load.CPUPerRequest()
		p.f(" Over the same load shadow used %s µs of CPU per request (%s answered, p50 %s µs, %s judged), which the µs column divides by share.",
			us1(perReq), thousands(float64(s.Load.OK)), thousands(s.Load.P50us), judged(s.Load.Mirror))
	}
	if loopsAreCopies {
		p.f(" The primary has a transport of its own in this build (mirror's h1Transport), so http.Transport's connection loops are the copies' and count as the candidate round trip.")
	}
	p.f("\n\n| stage | share | µs/request | spent most in (own time) | what |\n|---|--:|--:|---|---|\n")
	for _, st := range stages {
		if st.Us == 0 {
			continue
		}
		p.f("| %s | %.1f%% | %s | %s | %s |\n", st.Name, 100*st.Share, us1(st.Share*perReq), mdCell(strings.Join(st.Top, ", ")), st.What)
	}
	if next := nextStep(stages); next != "" {
		p.f("\n%s\n", next)
	}
}

// nextStep names the largest stage, and the largest of the stages only
// shadow has (beyond what a plain proxy does).
func nextStep(stages []StageCost) string {
	plainToo := map[string]bool{"serve": true, "primary round trip": true, "upstream I/O loops": true, "gc": true, "scheduler": true, "other": true, "admin": true}
	var top, own StageCost
	for _, st := range stages {
		if st.Us > top.Us {
			top = st
		}
		if !plainToo[st.Name] && st.Us > own.Us {
			own = st
		}
	}
	if top.Us == 0 {
		return ""
	}
	out := fmt.Sprintf("Largest stage: **%s** (%.0f%%).", top.Name, 100*top.Share)
	if own.Us > 0 {
		out += fmt.Sprintf(" Largest of the stages a plain proxy does not have: **%s** (%.0f%%): the first place to look for what shadow adds.", own.Name, 100*own.Share)
	}
	return out
}
