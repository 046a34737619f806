package egress

import (
	"fmt"
	"strconv"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
)

// JudgeOutbound makes a Differ the compare engine's outbound judge
// (compare.Config.Outbound): it diffs the candidate's calls among calls
// with the primary's (Diff) and returns each way they differ as a
// compare.Difference, its path named by compare.OutboundPath after the
// dependency endpoint ("outbound POST payments /charges $.amount") and
// its Detail the sentence Findings says: a request that differs (noise
// from the secondary's calls marked), and a different number of calls
// (path "... calls", its values the two counts).
func (d *Differ) JudgeOutbound(calls []exchange.OutboundCall) []compare.Difference {
	var out []compare.Difference
	for _, ed := range d.Diff(calls, exchange.Candidate) {
		ep := ed.Endpoint.String()
		if ed.PrimaryCalls != ed.OtherCalls {
			kind := compare.Changed
			switch {
			case ed.OtherCalls == 0:
				kind = compare.Removed
			case ed.PrimaryCalls == 0:
				kind = compare.Added
			}
			df := compare.Difference{
				Path: compare.OutboundPath(ep, compare.OutboundCallsField), Kind: kind,
				Primary: strconv.Itoa(ed.PrimaryCalls), Candidate: strconv.Itoa(ed.OtherCalls),
			}
			if f := ed.Findings(); len(f) > 0 {
				df.Detail = f[0] // the count comes first
			}
			out = append(out, df)
		}
		for _, p := range ed.Pairs {
			for _, df := range p.Differences {
				o := df
				o.Path = compare.OutboundPath(ep, df.Path)
				if !df.Noise {
					o.Detail = ed.finding(p, df)
				} else {
					o.Detail = fmt.Sprintf("the secondary's call differs too (noise): %s", ed.finding(p, df))
				}
				out = append(out, o)
			}
		}
	}
	return out
}
