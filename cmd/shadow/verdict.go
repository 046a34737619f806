package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/compare"
)

// verdictError is the exit a report's verdict calls for: nil on pass,
// exit 1 naming what failed, exit 4 saying why nothing was decided. Each
// message names its exit code; "the candidate differs beyond the
// configured rule" is said only when its diffs are what failed.
func verdictError(rep *compare.Report) error {
	why := rep.Headline
	if why == "" && len(rep.Reasons) > 0 {
		why = rep.Reasons[0]
	}
	why = strings.TrimPrefix(strings.TrimPrefix(why, rep.Verdict+": "), "fail: ")
	switch rep.Verdict {
	case compare.Fail:
		var what []string
		for _, c := range failingCandidates(rep) { // "the candidate" with one
			for _, f := range c.failedOn {
				switch f {
				case compare.FailDiffs:
					what = append(what, c.who+" differs beyond the configured rule")
				case compare.FailErrors:
					what = append(what, c.who+" failed more requests than the configured rule allows")
				case compare.FailLatency:
					what = append(what, c.who+" is slower than the latency rule allows (verdict.max_latency_regression)")
				}
			}
		}
		if len(what) == 0 {
			what = append(what, "the candidate broke the configured rule")
		}
		return cli.Failed(fmt.Errorf("verdict fail (exit %d): %s: %s", cli.ExitFail, strings.Join(what, "; "), why))
	case compare.Inconclusive:
		return cli.Inconclusive(fmt.Errorf("verdict inconclusive (exit %d): %s", cli.ExitInconclusive, why))
	case compare.Pass:
		return nil
	}
	return cli.Aborted(errors.New("verdict unknown: " + rep.Verdict))
}
