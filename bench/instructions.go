package bench

import (
	"fmt"
	"math"
	"strings"
)

// Instructions per request of BenchmarkWholePath's cases, counted by
// callgrind (bench/run.sh's gobench section, when valgrind is installed).
// Unlike CPU time, an instruction count hardly moves with what else runs
// on the machine: on a shared machine it is the figure to compare
// commits by. run.sh runs each case twice under callgrind (GOMAXPROCS=1,
// asynchronous preemption off, which callgrind's signal handling needs),
// at two iteration counts, and writes the slope: the instructions of one
// more request, start-up and warm-up left out. It writes them as go test
// bench lines, "BenchmarkWholePathInstructions/CASE N VALUE instr/op", so
// ParseGoBench reads them.

// instrPrefix names the instruction counts among the Go benchmarks.
const instrPrefix = "BenchmarkWholePathInstructions/"

// isInstructions says whether b is an instruction count (see above).
func isInstructions(b GoBench) bool { return strings.HasPrefix(b.Name, instrPrefix) }

// instructions returns the instruction counts by case, in the order run.
func (r *Run) instructions() (cases []string, per map[string]float64) {
	per = map[string]float64{}
	for _, b := range r.GoBench {
		if !isInstructions(b) {
			continue
		}
		if v, ok := b.Metric("instr/op"); ok {
			c := strings.TrimPrefix(b.Name, instrPrefix)
			cases = append(cases, c)
			per[c] = v
		}
	}
	return cases, per
}

// instrStep is one stage of shadow's path as the difference of two cases.
type instrStep struct {
	name, of, over string
}

// instrSteps are the stages the cases tell apart, each beside the case
// before it.
var instrSteps = []instrStep{
	{"a plain ReverseProxy's hop (serve + primary round trip)", "reverseproxy", "direct"},
	{"shadow's proxy, mirroring off", "shadow-off", "reverseproxy"},
	{"a copy, unjudged (tee, queue, candidate round trip, and the candidate's server, in the same process)", "shadow-unjudged", "shadow-off"},
	{"the copy's client (mirror's copyClient), beside http.Transport for the same copy", "shadow-unjudged", "shadow-unjudged-transport"},
	{"judging (redaction, compare engine)", "shadow", "shadow-unjudged"},
	{"a secondary (its copy and its judging)", "shadow-secondary", "shadow"},
	{"capture (records built, encoded, written)", "shadow-capture", "shadow"},
}

// step returns what s adds, and whether both its cases were counted.
func (s instrStep) step(per map[string]float64) (float64, bool) {
	a, ok1 := per[s.of]
	b, ok2 := per[s.over]
	return a - b, ok1 && ok2
}

// hop is the plain proxy's hop, the yardstick of every step; NaN when not
// counted.
func hop(per map[string]float64) float64 {
	if v, ok := instrSteps[0].step(per); ok && v > 0 {
		return v
	}
	return math.NaN()
}

// kInstr formats an instruction count in thousands: 142k.
func kInstr(v float64) string { return fmt.Sprintf("%.0fk", v/1000) }

// instructionsGoal is a row with no goal: what each stage costs in
// instructions, as a share of the plain proxy's hop.
func (r *Run) instructionsGoal() (Goal, bool) {
	_, per := r.instructions()
	h := hop(per)
	if math.IsNaN(h) {
		return Goal{}, false
	}
	parts := []string{"a plain ReverseProxy's hop " + kInstr(h)}
	for _, s := range instrSteps[1:] {
		if v, ok := s.step(per); ok {
			parts = append(parts, fmt.Sprintf("%s %+.1fk (%+.0f%% of the hop)", shortStep(s.name), v/1000, 100*v/h))
		}
	}
	return Goal{
		Name:    "instructions per request by stage, the whole path in one process (callgrind: does not move with the machine's load)",
		Figure:  strings.Join(parts, "; "),
		Target:  "(no goal; recorded: the stage breakdown to compare commits by)",
		Verdict: Unknown,
	}, true
}

// shortStep is a step's name without its parenthesis.
func shortStep(name string) string {
	if i := strings.Index(name, " ("); i > 0 {
		return name[:i]
	}
	return name
}

// writeInstructions writes the instruction counts and the steps between
// them.
func writeInstructions(p *printer, r *Run) {
	cases, per := r.instructions()
	if len(cases) == 0 {
		return
	}
	p.f("\n### Instructions per request, the whole path in one process\n\n")
	p.f("BenchmarkWholePath's cases under callgrind (valgrind), GOMAXPROCS=1: the instructions of one more request (the slope between two iteration counts, so start-up and warm-up are left out). ")
	p.f("A count of instructions hardly moves with what else runs on the machine, where CPU time does; it leaves out what the kernel does for syscalls, which CPU time includes. Client, upstreams and the candidate's server run in the same process.\n\n")
	h := hop(per)
	p.f("| case | instructions/request | × reverseproxy |\n|---|--:|--:|\n")
	rp, okRP := per["reverseproxy"]
	for _, c := range cases {
		ratio := "—"
		if okRP && rp > 0 {
			ratio = fmt.Sprintf("%.2f×", per[c]/rp)
		}
		p.f("| %s | %s | %s |\n", c, thousands(per[c]), ratio)
	}
	p.f("\n| stage | cases | instructions/request | share of a plain proxy's hop |\n|---|---|--:|--:|\n")
	for _, s := range instrSteps {
		v, ok := s.step(per)
		if !ok {
			continue
		}
		share := "—"
		if !math.IsNaN(h) {
			share = fmt.Sprintf("%.0f%%", 100*v/h)
		}
		p.f("| %s | %s − %s | %s | %s |\n", s.name, s.of, s.over, thousands(v), share)
	}
}
