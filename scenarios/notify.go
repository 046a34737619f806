package scenarios

import (
	"strings"

	"github.com/understudy-dev/understudy/notify"
)

// NotifyEvent says how a run ended as a notify.Target's on: list names it.
func NotifyEvent(s *Snapshot) notify.Event {
	switch {
	case s.Outcome == OutcomeAborted:
		return notify.Aborted
	case s.Outcome == OutcomeKilled:
		return notify.Killed
	case !s.Passed():
		return notify.Failed
	case s.Outcome == OutcomeStopped:
		return notify.Stopped
	}
	return notify.Passed
}

// Notification is what webhooks are told about a finished run: how it
// ended, why, its text summary (WriteText) and the paths of the reports
// and result files it wrote.
func Notification(res *Result, reports []string) notify.Summary {
	s := &res.Snapshot
	var text strings.Builder
	_ = WriteText(&text, s) // a strings.Builder does not fail
	sum := notify.Summary{
		Tool: "synth", Name: s.Scenario, RunID: s.RunID, Event: NotifyEvent(s), Verdict: verdict(s),
		Started: s.Started, Ended: s.Started.Add(s.Elapsed), Text: text.String(), Reports: reports,
	}
	if s.Outcome != OutcomeCompleted {
		sum.Reason = s.Reason
	}
	return sum
}
