package bench

import (
	"fmt"
	"math"
	"strings"
)

// tlsNotes says what each target of the tls section is.
var tlsNotes = map[string]string{
	Baseline:         "load generator → TLS upstream, no proxy (the baseline), in the group's protocol",
	Again:            "the same as `direct`, measured again right after it: the noise floor",
	targetPlain:      "plain `httputil.ReverseProxy` listening HTTPS, https upstream (h2 by ALPN where the upstream offers it, as mirror's transport)",
	targetShadowFast: "`shadow run --tls-cert --tls-key`, https primary and candidate trusting the private CA (`tls.ca_file`), protocol `auto` (the client's where the upstream can)",
	targetNginxFast:  "nginx `listen ... ssl http2` with `mirror`, `proxy_pass https://` (nginx speaks HTTP/1.1 to upstreams, also for an h2 client) with keep-alive and session reuse, one mirror",
}

// writeTLS writes the tls section: added latency over a direct HTTPS
// connection, per protocol, and CPU per request, as writeLatency does.
func writeTLS(p *printer, r *Run) {
	if len(r.TLS) == 0 {
		return
	}
	first := r.TLS[0]
	p.f("\n## TLS and HTTP/2: added latency and CPU over a direct HTTPS connection\n\n")
	p.f("The client speaks HTTPS/1.1 (h2 not offered in ALPN) or h2 (ALPN) to each target, every upstream is HTTPS with a certificate from a private CA; ")
	p.f("%s req/s for %gs per cell, open model, targets interleaved in every round, as section 1: figures are medians over rounds, added µs taken against `direct` (the same protocol, straight to the upstream) in the same round. ",
		thousands(first.Rate), first.DurationS)
	p.f("Goal (issue 15): shadow's added latency within %.1f× nginx's, or within the noise floor of it.\n\n", addedLatencyLimit)
	for _, grp := range Groups(r.TLS) {
		rows := LatencyTable(r.TLS, grp)
		p.f("### %s\n\n", grp)
		p.f("| target | rounds | p50 µs | p99 µs | added p50 | added p99 | added p50 × nginx | added p99 × nginx | errors |\n")
		p.f("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		ng, haveNg := row(rows, targetNginxFast)
		for _, row := range rows {
			r50, r99 := math.NaN(), math.NaN()
			if haveNg && row.Target != Baseline && row.Target != Again {
				r50, r99 = addedRatio(row.Added[0], ng.Added[0]), addedRatio(row.Added[2], ng.Added[2])
			}
			p.f("| %s | %d | %s | %s | %s | %s | %s | %s | %d |\n", row.Target, row.Rounds, thousands(row.Us[0]), thousands(row.Us[2]),
				addedUs(row.Added[0]), addedUs(row.Added[2]), times(r50), times(r99), row.Errors+row.Skipped)
		}
		if floor, ok := NoiseFloor(r.TLS, grp); ok {
			p.f("\nNoise floor (`direct-again` against `direct`): p50 %s µs, p99 %s µs.\n", thousands(floor[0]), thousands(floor[2]))
		}
		p.f("\n")
		writeLatencyCPU(p, r.TLS, grp)
	}
	writeSkipped(p, r, "tls")
	p.f("Targets:\n\n")
	seen := map[string]bool{}
	for _, rec := range r.TLS {
		if n, ok := tlsNotes[rec.Target]; ok && !seen[rec.Target] {
			seen[rec.Target] = true
			p.f("- `%s`: %s\n", rec.Target, n)
		}
	}
}

// addedRatio is a target's added latency over nginx's; NaN when nginx
// adds nothing (a ratio to zero or less means nothing).
func addedRatio(v, ref float64) float64 {
	if math.IsNaN(v) || math.IsNaN(ref) || ref <= 0 {
		return math.NaN()
	}
	return v / ref
}

// tlsGoals judges, per protocol group of the tls section, shadow's added
// latency over direct against nginx's at p50 and p99: within
// addedLatencyLimit× of it, or within the group's noise floor of it.
func (r *Run) tlsGoals() []Goal {
	var gs []Goal
	for _, grp := range Groups(r.TLS) {
		rows := LatencyTable(r.TLS, grp)
		floor, ok := NoiseFloor(r.TLS, grp)
		if !ok {
			floor = [4]float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
		}
		g := Goal{Name: fmt.Sprintf("added latency over %s, shadow vs nginx mirror (`listen ssl http2`)", grp),
			Target: fmt.Sprintf("≤ %.1f× nginx's, or within noise of it", addedLatencyLimit)}
		sh, ok1 := row(rows, targetShadowFast)
		ng, ok2 := row(rows, targetNginxFast)
		if !ok1 || !ok2 {
			g.Figure, g.Verdict = "not measured", Unknown
			gs = append(gs, g)
			continue
		}
		var figs []string
		v := Met
		for _, i := range []int{0, 2} {
			fig, vi := vsRef(Quantiles[i], "nginx", sh.Added[i], ng.Added[i], floor[i])
			figs = append(figs, fig)
			v = worse(v, vi)
		}
		cpu := CPUTable(r.TLS, grp, targetNginxFast)
		if c, ok := cpuRow(cpu, targetShadowFast); ok && !math.IsNaN(c.Ratio[targetNginxFast]) {
			figs = append(figs, fmt.Sprintf("CPU %s µs/request, %s nginx's", us1(c.PerReq), times(c.Ratio[targetNginxFast])))
		}
		g.Figure, g.Verdict = strings.Join(figs, "; ")+floorNote(floor), v
		gs = append(gs, g)
	}
	return gs
}
