package dash

import (
	"time"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/tui"
)

// MaxExemplars bounds the exemplars shown per endpoint, so a snapshot stays
// small however many fields differ.
const MaxExemplars = 12

// Upstreams names where a parallel run sends traffic, for display, and
// where and since when it serves.
type Upstreams struct {
	Primary, Candidate, Secondary string
	// Candidates maps each candidate's name to its address when the run
	// compares several; nil with one (Candidate).
	Candidates map[string]string
	// Listen is the address the proxy serves clients on; Started when it
	// started.
	Listen  string
	Started time.Time
}

// Shadow builds the dashboard's view of a parallel run.
func Shadow(u Upstreams, st mirror.Stats, paused bool, rep *compare.Report) *tui.ShadowSnapshot {
	var skipped uint64
	for _, n := range st.Skipped {
		skipped += n
	}
	s := &tui.ShadowSnapshot{
		Primary:           u.Primary,
		Candidate:         u.Candidate,
		Secondary:         u.Secondary,
		Listen:            u.Listen,
		Started:           u.Started,
		Received:          st.Received,
		Mirrored:          st.Mirrored,
		Compared:          uint64(rep.Totals.Pairs),
		Dropped:           st.Dropped + st.Stale,
		Skipped:           skipped,
		CandidateErrors:   st.CandidateErrors,
		CandidateTimeouts: st.CandidateTimeouts,
		QueueDepth:        st.QueueDepth,
		QueueSize:         st.QueueSize,
		Paused:            paused,
		PrimaryP99:        millis(rep.Totals.PrimaryP99Ms),
		CandidateP99:      millis(rep.Totals.CandidateP99Ms),
		Endpoints:         make([]tui.Endpoint, 0, len(rep.Endpoints)),
	}
	for _, f := range st.Failures {
		s.Failures = append(s.Failures, tui.UpstreamFailure{Upstream: failureUpstream(f), Kind: f.Kind, Count: f.Count, Reason: f.Reason})
	}
	judged := false
	for _, ep := range rep.Endpoints {
		judged = judged || ep.Verdict != compare.NotJudged
		s.Endpoints = append(s.Endpoints, endpoint(ep))
	}
	s.CandidateUnreachable = rep.Totals.CandidateUnreachable()
	candidates(s, u.Candidates, st, rep)
	for _, c := range s.Candidates {
		judged = judged || c.Verdict != ""
	}
	if judged || s.CandidateUnreachable {
		s.Verdict, s.Reasons = rep.Verdict, rep.Reasons
		if rep.Headline != "" && rep.Verdict != compare.Pass {
			s.Reasons = append([]string{rep.Headline}, rep.Reasons...)
		}
	}
	return s
}

func endpoint(ep compare.EndpointReport) tui.Endpoint {
	e := tui.Endpoint{
		Method:          ep.Method,
		Route:           ep.Route,
		Pairs:           uint64(ep.Pairs),
		Diffs:           uint64(ep.Diffs),
		DiffRate:        ep.DiffRate,
		PrimaryP99:      millis(ep.PrimaryP99Ms),
		CandidateP99:    millis(ep.CandidateP99Ms),
		CandidateErrors: uint64(ep.CandidateErrors),
		Fields:          make([]tui.Field, 0, len(ep.Fields)),
	}
	for _, f := range ep.Fields {
		if f.Noisy {
			e.NoisyFields++
		}
		e.Fields = append(e.Fields, tui.Field{
			Path: f.Path, Diffs: uint64(f.Diffs), Noise: uint64(f.Noise), IsNoise: f.Noisy,
		})
	}
	// Exemplars of real differences first, then of noise, up to the bound.
	for _, noisy := range []bool{false, true} {
		for _, f := range ep.Fields {
			if f.Noisy != noisy {
				continue
			}
			for _, x := range f.Exemplars {
				if len(e.Exemplars) == MaxExemplars {
					return e
				}
				e.Exemplars = append(e.Exemplars, exemplar(x))
			}
		}
	}
	return e
}

func exemplar(x compare.Exemplar) tui.Exemplar {
	ex := tui.Exemplar{
		Method:          x.Method,
		URL:             x.URL,
		RequestBody:     x.RequestBody,
		PrimaryStatus:   x.PrimaryStatus,
		CandidateStatus: x.CandidateStatus,
		PrimaryBody:     x.PrimaryBody,
		CandidateBody:   x.CandidateBody,
		Differences: []tui.Difference{{
			Path:      x.Difference.Path,
			Kind:      string(x.Difference.Kind),
			Primary:   x.Difference.Primary,
			Candidate: x.Difference.Candidate,
			Detail:    x.Difference.Detail,
		}},
	}
	for _, d := range x.Differences { // the pair's others, after its own
		if d.Path != x.Difference.Path {
			ex.Differences = append(ex.Differences, tui.Difference{Path: d.Path, Kind: string(d.Kind), Primary: d.Primary, Candidate: d.Candidate})
		}
	}
	return ex
}

func millis(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
