package tui

import (
	"strconv"
	"strings"
	"time"
)

// CandidateSummary is one candidate's state when a parallel run compares
// several candidates with the primary at once.
type CandidateSummary struct {
	// Name is the candidate's name; URL its address, for display.
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
	// Verdict is the candidate's own judgement so far: "pass", "fail", or
	// "" when there is not enough traffic yet.
	Verdict string `json:"verdict,omitempty"`
	// Pairs counts its compared pairs; Diffs those that differed beyond
	// noise; DiffRate is Diffs/Pairs (0..1).
	Pairs    uint64  `json:"pairs"`
	Diffs    uint64  `json:"diffs"`
	DiffRate float64 `json:"diff_rate"`
	// Errors counts its requests that got no answer; Timeouts the subset
	// that hit its timeout.
	Errors   uint64 `json:"errors"`
	Timeouts uint64 `json:"timeouts"`
	// Dropped counts its copies lost to its own full or slow queue; Down
	// those skipped while it refused connections.
	Dropped uint64 `json:"dropped"`
	Down    uint64 `json:"down"`
	// QueueDepth is how many of its copies wait, out of QueueSize.
	QueueDepth int `json:"queue_depth"`
	QueueSize  int `json:"queue_size"`
	// P99 is its 99th percentile latency over all endpoints.
	P99 time.Duration `json:"p99"`
	// Unreachable reports that it failed most of its copies: down or
	// failing TLS, rather than answering differently.
	Unreachable bool `json:"unreachable,omitempty"`
}

// EndpointCandidate is one candidate's result on one endpoint, when
// several candidates are compared.
type EndpointCandidate struct {
	// Name is the candidate's name.
	Name string `json:"name"`
	// Pairs, Diffs and DiffRate are as in Endpoint, for this candidate.
	Pairs    uint64  `json:"pairs"`
	Diffs    uint64  `json:"diffs"`
	DiffRate float64 `json:"diff_rate"`
	// Errors counts its requests of this endpoint that got no answer.
	Errors uint64 `json:"errors"`
}

// maxCandidateLines bounds the lines the overview gives to candidates;
// the others are counted on the last one.
const maxCandidateLines = 4

// candidateLines renders a line per candidate: verdict, pairs, diff rate,
// errors, drops and queue, p99. On a narrow terminal the p99 and the
// pairs give way first; errors and the queue stay in sight.
func (v ShadowView) candidateLines() []string {
	st, cs := v.styles, v.snap.Candidates
	width := 0
	for _, c := range cs {
		width = max(width, len(oneLine(c.Name)))
	}
	width = min(width, 12)
	var lines []string
	for i, c := range cs {
		if i == maxCandidateLines-1 && len(cs) > maxCandidateLines {
			lines = append(lines, st.Muted.Render("+"+strconv.Itoa(len(cs)-i)+" more candidates"))
			break
		}
		verdict := st.Muted.Render("----")
		switch c.Verdict {
		case "pass":
			verdict = st.Good.Render("PASS")
		case "fail":
			verdict = st.Bad.Render("FAIL")
		case "":
		default:
			verdict = st.Warn.Render(strings.ToUpper(truncate(c.Verdict, 4)))
		}
		if c.Unreachable {
			verdict += " " + st.Bad.Render("unreachable")
		}
		kv := func(label, value string) string { return st.Label.Render(label+" ") + value }
		rate := fmtPct(c.DiffRate)
		switch {
		case c.DiffRate >= 0.05:
			rate = st.Bad.Render(rate)
		case c.DiffRate > 0:
			rate = st.Warn.Render(rate)
		}
		errs := kv("err", "0")
		if c.Errors > 0 {
			errs = st.Bad.Render("err " + fmtCount(c.Errors))
		}
		lost := kv("dropped", "0")
		if c.Dropped+c.Down > 0 {
			lost = st.Warn.Render("dropped " + fmtCount(c.Dropped))
			if c.Down > 0 {
				lost += st.Bad.Render(" down " + fmtCount(c.Down))
			}
		}
		name := truncate(oneLine(c.Name), width)
		parts := [][]string{
			{st.Label.Render(name+strings.Repeat(" ", width-len(name))) + " " + verdict},
			{kv("pairs", fmtCount(c.Pairs)), ""},
			{kv("diff", rate)},
			{errs},
			{lost},
			{kv("queue", strconv.Itoa(c.QueueDepth)+"/"+strconv.Itoa(c.QueueSize))},
			{kv("p99", fmtDur(c.P99)), ""},
		}
		lines = append(lines, shrinkLine(parts, []int{6, 1}, st.Muted.Render(" · "), v.width))
	}
	return lines
}

// candidateColumns returns a diff-rate column per candidate, for the
// endpoint table of a run comparing several.
func candidateColumns(names []string) []column {
	cols := make([]column, len(names))
	for i, n := range names {
		title := truncate(oneLine(n), 10) + "%"
		cols[i] = column{title: title, width: max(7, len(title)), right: true}
	}
	return cols
}

// candidateCells returns e's diff rate for each of names; "-" where the
// candidate has none of it.
func (t *EndpointTable) candidateCells(e *Endpoint) []cell {
	out := make([]cell, len(t.names))
	for i, n := range t.names {
		out[i] = plainCell("-")
		for _, c := range e.Candidates {
			if c.Name != n {
				continue
			}
			out[i] = t.rateCell(c.DiffRate)
		}
	}
	return out
}

// candidateNames returns the candidates' names of eps, in order; nil when
// they compare one.
func candidateNames(eps []Endpoint) []string {
	for _, e := range eps {
		if len(e.Candidates) > 0 {
			names := make([]string, len(e.Candidates))
			for i, c := range e.Candidates {
				names[i] = c.Name
			}
			return names
		}
	}
	return nil
}

// candidateList names the candidates for the state line.
func candidateList(cs []CandidateSummary) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// plainCandidate renders one candidate's part of the plain summary line.
func plainCandidate(c CandidateSummary) string {
	v := c.Verdict
	if v == "" {
		v = "pending"
	}
	s := c.Name + " " + v + ": diffs " + fmtCount(c.Diffs) + "/" + fmtCount(c.Pairs) + ", errors " + fmtCount(c.Errors) +
		", dropped " + fmtCount(c.Dropped)
	if c.Down > 0 {
		s += ", down " + fmtCount(c.Down)
	}
	if c.Unreachable {
		s += ", UNREACHABLE for most copies"
	}
	return s
}
