package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/internal/numfmt"
	"github.com/understudy-dev/understudy/notify"
)

// notifyTime bounds telling the webhooks, all of them, at the end of a run.
const notifyTime = 30 * time.Second

// tell posts how the run ended to the webhooks of the config's notify:
// list that want it: the verdict and its reasons, or why the run could
// not complete (runErr), and the report's path. A webhook that fails is
// logged; it never changes the exit code.
func tell(ctx context.Context, cfg config, started time.Time, rep *compare.Report, runErr error, logger *slog.Logger) {
	if len(cfg.Notify) == 0 {
		return
	}
	sum := notify.Summary{Tool: "shadow", Name: targetName(cfg.Mirror.Candidate), Started: started, Ended: time.Now()}
	switch {
	case runErr != nil:
		sum.Event, sum.Verdict, sum.Reason = notify.Aborted, "ABORTED", runErr.Error()
	case rep.Verdict == compare.Fail:
		sum.Event, sum.Verdict = notify.Failed, "FAIL"
	case rep.Verdict == compare.Inconclusive:
		sum.Event, sum.Verdict = notify.Inconclusive, "INCONCLUSIVE"
	default:
		sum.Event, sum.Verdict = notify.Passed, "PASS"
	}
	if rep != nil {
		sum.Text = verdictText(rep, "")
		if cfg.ReportOut != "" {
			sum.Reports = []string{cfg.ReportOut}
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTime)
	defer cancel()
	n := notify.Notifier{Targets: cfg.Notify, Logger: logger}
	n.Notify(ctx, sum)
}

// targetName names a run by its candidate's host: a base URL may carry
// credentials in its user part, and its path says little.
func targetName(base string) string {
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		return "candidate " + u.Host
	}
	return "candidate"
}

// verdictText is the verdict line shadow prints at the end of a run, the
// headline and the verdict's reasons, one per line; prefix starts the
// verdict and headline lines.
func verdictText(rep *compare.Report, prefix string) string {
	var b strings.Builder
	t := rep.Totals
	if !candidatesVerdict(&b, rep, prefix) { // several candidates: a line each
		fmt.Fprintf(&b, "%sverdict %s: %s pairs compared, %s differ (%s), %s candidate errors\n", prefix,
			rep.Verdict, numfmt.Count(t.Pairs), numfmt.Count(t.Diffs), numfmt.Pct(t.DiffRate), numfmt.Count(t.CandidateErrors))
	}
	if rep.Headline != "" {
		fmt.Fprintf(&b, "%s%s\n", prefix, rep.Headline)
	}
	for _, r := range rep.Reasons {
		fmt.Fprintf(&b, "  - %s\n", r)
	}
	return b.String()
}
