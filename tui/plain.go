package tui

import (
	"strconv"
	"strings"
)

// Plain renders s as one plain line per kind present (shadow first), with
// no colour or cursor movement, for logs, pipes and --no-tui. It returns ""
// when s holds neither kind; the result has no trailing newline.
func Plain(s Snapshot) string {
	var lines []string
	if s.Shadow != nil {
		lines = append(lines, plainShadow(s, s.Shadow))
	}
	if s.Synth != nil {
		lines = append(lines, plainSynth(s.Synth))
	}
	return strings.Join(lines, "\n")
}

// plainShadow renders the proxy's progress line.
func plainShadow(s Snapshot, sh *ShadowSnapshot) string {
	var diffs, pairs uint64
	differing := 0
	for _, e := range sh.Endpoints {
		diffs += e.Diffs
		pairs += e.Pairs
		if e.Diffs > 0 {
			differing++
		}
	}
	verdict := sh.Verdict
	if verdict == "" {
		verdict = "pending"
	}
	parts := []string{"shadow"}
	if !sh.Started.IsZero() && !s.Time.IsZero() {
		parts = append(parts, "up "+fmtSpan(s.Time.Sub(sh.Started)))
	}
	parts = append(parts,
		"received "+fmtCount(sh.Received),
		"mirrored "+fmtCount(sh.Mirrored),
	)
	// The sample and route switches only when they leave requests out.
	if t := sh.Tuning; t != nil {
		if t.SamplePercent < 100 {
			parts = append(parts, "sample "+fmtPercent(t.SamplePercent))
		}
		if off := t.off(); len(off) > 0 {
			parts = append(parts, "routes off "+strings.Join(off, ","))
		}
	}
	parts = append(parts,
		"compared "+fmtCount(sh.Compared),
		"dropped "+fmtCount(sh.Dropped),
		"candidate errors "+fmtCount(sh.CandidateErrors),
		"diffs "+fmtCount(diffs)+"/"+fmtCount(pairs)+" in "+
			strconv.Itoa(differing)+"/"+strconv.Itoa(len(sh.Endpoints))+" endpoints",
		"verdict "+verdict,
	)
	if sh.CandidateUnreachable {
		parts = append(parts, "CANDIDATE UNREACHABLE for most copies")
	}
	for _, c := range sh.Candidates { // several candidates: each one's own
		parts = append(parts, plainCandidate(c))
	}
	if sh.Paused {
		parts = append(parts, "paused")
	}
	if f := failureText(sh.Failures); f != "" {
		parts = append(parts, f)
	}
	return oneLine(strings.Join(parts, " · "))
}

// plainSynth renders the runner's progress line.
func plainSynth(sy *SynthSnapshot) string {
	parts := []string{"synth " + sy.Scenario}
	prog := strconv.Itoa(int(sy.Progress*100+0.5)) + "%"
	if sy.Stage != "" {
		prog += " " + sy.Stage
	}
	elapsed := fmtSpan(sy.Elapsed)
	if sy.Duration > 0 {
		elapsed += "/" + fmtSpan(sy.Duration)
	}
	parts = append(parts, prog, elapsed,
		"rate "+fmtRate(sy.AchievedRate)+"/"+fmtRate(sy.TargetRate)+"/s",
		"in-flight "+strconv.Itoa(sy.InFlight),
		"started "+fmtCount(sy.JourneysStarted),
		"done "+fmtCount(sy.JourneysCompleted),
		"dropped "+fmtCount(sy.JourneysDropped),
	)
	var fails uint64
	for _, f := range sy.AssertionFailures {
		fails += f.Count
	}
	if fails > 0 {
		parts = append(parts, "assertion failures "+fmtCount(fails))
	}
	guard := sy.Guardrail.State
	if guard == "" {
		guard = GuardrailOff
	}
	if sy.Guardrail.State == GuardrailTripped && sy.Guardrail.Reason != "" {
		guard += " (" + sy.Guardrail.Reason + ")"
	}
	parts = append(parts, "guardrail "+guard)
	switch {
	case sy.Result != "":
		parts = append(parts, sy.Result)
	case sy.Paused:
		parts = append(parts, "paused")
	}
	return oneLine(strings.Join(parts, " · "))
}
