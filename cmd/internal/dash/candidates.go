package dash

import (
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/tui"
)

// candidates fills in s what a run comparing several candidates shows: a
// summary per candidate (its verdict and numbers from rep, its queue and
// drops from st, its address from urls) and each endpoint's results per
// candidate. It does nothing for a run of one candidate.
func candidates(s *tui.ShadowSnapshot, urls map[string]string, st mirror.Stats, rep *compare.Report) {
	if len(rep.Candidates) == 0 {
		return
	}
	byName := map[string]mirror.CandidateStats{}
	for _, c := range st.Candidates {
		byName[c.Name] = c
	}
	index := map[string]int{}
	for i := range s.Endpoints {
		index[s.Endpoints[i].Method+" "+s.Endpoints[i].Route] = i
	}
	for _, c := range rep.Candidates {
		ms := byName[c.Name]
		sum := tui.CandidateSummary{
			Name: c.Name, URL: urls[c.Name], Pairs: uint64(c.Totals.Pairs), Diffs: uint64(c.Totals.Diffs),
			DiffRate: c.Totals.DiffRate, Errors: uint64(c.Totals.CandidateErrors), Timeouts: uint64(c.Totals.CandidateTimeouts),
			Dropped: ms.Dropped + ms.Stale, Down: ms.Down, QueueDepth: ms.QueueDepth, QueueSize: ms.QueueSize,
			P99: millis(c.Totals.CandidateP99Ms), Unreachable: c.Totals.CandidateUnreachable(),
		}
		judged := false
		for _, ep := range c.Endpoints {
			judged = judged || ep.Verdict != compare.NotJudged
			i, ok := index[ep.Method+" "+ep.Route]
			if !ok { // an endpoint the first candidate never saw
				i = len(s.Endpoints)
				index[ep.Method+" "+ep.Route] = i
				s.Endpoints = append(s.Endpoints, tui.Endpoint{Method: ep.Method, Route: ep.Route})
			}
			e := &s.Endpoints[i]
			e.Candidates = append(e.Candidates, tui.EndpointCandidate{
				Name: c.Name, Pairs: uint64(ep.Pairs), Diffs: uint64(ep.Diffs), DiffRate: ep.DiffRate, Errors: uint64(ep.CandidateErrors),
			})
			e.DiffRate = max(e.DiffRate, ep.DiffRate) // the table sorts by the worst candidate
		}
		if judged {
			sum.Verdict = c.Verdict
		}
		s.Candidates = append(s.Candidates, sum)
	}
	// Every endpoint lists every candidate, in order, so its columns line up.
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		if len(e.Candidates) == len(rep.Candidates) {
			continue
		}
		full := make([]tui.EndpointCandidate, 0, len(rep.Candidates))
		for _, c := range rep.Candidates {
			ec := tui.EndpointCandidate{Name: c.Name}
			for _, have := range e.Candidates {
				if have.Name == c.Name {
					ec = have
				}
			}
			full = append(full, ec)
		}
		e.Candidates = full
	}
}

// failureUpstream names the upstream of a failure for the status line:
// "candidate v3" for a named candidate.
func failureUpstream(f mirror.Failure) string {
	if f.Candidate != "" {
		return f.Upstream + " " + f.Candidate
	}
	return f.Upstream
}
