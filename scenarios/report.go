package scenarios

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/internal/atomicfile"
	"github.com/understudy-dev/understudy/internal/junit"
)

// WriteReportFile writes res to path in the format its extension names:
// .json (WriteJSON), .md (WriteMarkdown) or .xml (WriteJUnit). The file is
// written to a temporary file beside it and renamed into place, mode 0600,
// so a reader never sees half a report.
func WriteReportFile(path string, res *Result) error {
	var write func(io.Writer, *Result) error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		write = WriteJSON
	case ".md":
		write = WriteMarkdown
	case ".xml":
		write = WriteJUnit
	default:
		return fmt.Errorf("write report %q: unknown extension: want .json, .md or .xml", path)
	}
	if err := atomicfile.Write(path, 0o600, func(w io.Writer) error { return write(w, res) }); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// WriteJSON writes res as indented JSON, histograms included, for
// machines and for merging result files.
func WriteJSON(w io.Writer, res *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// verdict says in words how the run went.
func verdict(s *Snapshot) string {
	switch {
	case s.Outcome == OutcomeAborted || s.Outcome == OutcomeKilled:
		return strings.ToUpper(string(s.Outcome))
	case s.Passed():
		return "PASS"
	}
	return "FAIL"
}

// WriteText writes a short human summary of s: outcome, rates, journeys,
// cleanups and one line per step.
func WriteText(w io.Writer, s *Snapshot) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "synth %s (run %s) against %s: %s after %v\n", s.Scenario, s.RunID, s.Target,
		orState(s), s.Elapsed.Round(time.Millisecond))
	if s.Reason != "" && s.Outcome != OutcomeStopped {
		fmt.Fprintf(b, "  reason: %s\n", s.Reason)
	}
	fmt.Fprintf(b, "  rate: target %.1f/s, achieved %.1f/s, ceiling %.1f/s; dropped %d starts (max_in_flight %d)\n",
		s.TargetRate, s.AchievedRate, s.Ceiling, s.Journeys.Dropped, s.MaxInFlight)
	j := s.Journeys
	fmt.Fprintf(b, "  journeys: %d started, %d succeeded, %d failed, %d interrupted; success %.2f%% (threshold %.2f%%)\n",
		j.Started, j.Succeeded, j.Failed, j.Interrupted, 100*s.SuccessRate(), 100*s.MinSuccessRate)
	c := s.Cleanups
	fmt.Fprintf(b, "  cleanups: %d ran, %d failed, %d skipped\n", c.Ran, c.Failed, c.Skipped)
	for _, l := range s.Live {
		fmt.Fprintf(b, "  %s\n", liveLine(l))
	}
	for _, st := range s.Steps {
		l := st.Latency
		fmt.Fprintf(b, "  %-28s %6d req %5d failed  p50 %-8v p99 %-8v max %-8v %s\n", st.Name(),
			st.Requests, st.Failures, l.P50, l.P99, l.Max, statusLine(st))
		for _, e := range st.Exemplars {
			fmt.Fprintf(b, "      %s: %s (journey %s)\n", e.Check, e.Msg, e.JourneyID)
		}
	}
	fmt.Fprintf(b, "verdict: %s\n", verdict(s))
	_, err := io.WriteString(w, b.String())
	return err
}

// liveLine says what a production query last read.
func liveLine(l LiveStatus) string {
	what := "guardrail " + l.Name
	if l.Name == "rate" {
		what = "relative rate"
	}
	line := fmt.Sprintf("%s: %s = %g (%s)", what, l.Query, l.Value, l.Limit)
	if l.Name == "rate" {
		line += fmt.Sprintf(" -> %.1f/s", l.Rate)
	}
	line += fmt.Sprintf("; %d evaluations, %d failed", l.Evaluations, l.Failures)
	if l.Error != "" {
		line += "; failing since " + l.LostSince.Format(time.RFC3339) + ": " + l.Error
	}
	return line
}

func orState(s *Snapshot) string {
	if s.Outcome != "" {
		return string(s.Outcome)
	}
	return string(s.State)
}

// statusLine lists status codes, error kinds and failed checks by count.
func statusLine(st StepStats) string {
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(st.Status)) {
		parts = append(parts, fmt.Sprintf("%d×%d", code, st.Status[code]))
	}
	for _, k := range slices.Sorted(maps.Keys(st.Errors)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, st.Errors[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(st.Checks)) {
		parts = append(parts, fmt.Sprintf("!%s×%d", k, st.Checks[k]))
	}
	return strings.Join(parts, " ")
}

// WriteMarkdown writes res as a Markdown report for pull requests and
// run logs.
func WriteMarkdown(w io.Writer, res *Result) error {
	s := &res.Snapshot
	b := &strings.Builder{}
	fmt.Fprintf(b, "# synth: %s — %s\n\n", s.Scenario, verdict(s))
	fmt.Fprintf(b, "Run `%s` against `%s`: %s after %v.\n\n", s.RunID, s.Target, orState(s), s.Elapsed.Round(time.Millisecond))
	if s.Reason != "" && s.Outcome != OutcomeStopped {
		fmt.Fprintf(b, "**Reason:** %s\n\n", s.Reason)
	}
	j, c := s.Journeys, s.Cleanups
	b.WriteString("| | |\n|---|---|\n")
	fmt.Fprintf(b, "| Rate (target / achieved / ceiling) | %.1f / %.1f / %.1f per s |\n", s.TargetRate, s.AchievedRate, s.Ceiling)
	fmt.Fprintf(b, "| Journeys (started / succeeded / failed / interrupted) | %d / %d / %d / %d |\n", j.Started, j.Succeeded, j.Failed, j.Interrupted)
	fmt.Fprintf(b, "| Success rate (threshold) | %.2f%% (%.2f%%) |\n", 100*s.SuccessRate(), 100*s.MinSuccessRate)
	fmt.Fprintf(b, "| Dropped starts (max in flight) | %d (%d) |\n", j.Dropped, s.MaxInFlight)
	fmt.Fprintf(b, "| Cleanups (ran / failed / skipped) | %d / %d / %d |\n", c.Ran, c.Failed, c.Skipped)
	for _, l := range s.Live {
		fmt.Fprintf(b, "| Production | %s |\n", mdEscape(liveLine(l)))
	}
	b.WriteString("\n")
	b.WriteString("## Steps\n\n| Step | Requests | Failed | p50 | p99 | Max | Answers |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, st := range s.Steps {
		l := st.Latency
		fmt.Fprintf(b, "| %s | %d | %d | %v | %v | %v | %s |\n", mdEscape(st.Name()), st.Requests, st.Failures,
			l.P50, l.P99, l.Max, mdEscape(statusLine(st)))
	}
	var ex []string
	for _, st := range s.Steps {
		for _, e := range st.Exemplars {
			ex = append(ex, fmt.Sprintf("- `%s` %s: %s (journey `%s`)", st.Name(), e.Check, mdEscape(e.Msg), e.JourneyID))
		}
	}
	if len(ex) > 0 {
		b.WriteString("\n## Failures (first few per step)\n\n" + strings.Join(ex, "\n") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// WriteJUnit writes res as JUnit XML for CI: one test suite per journey,
// one test case per step (failed when any of its requests failed or could
// not be sent), and a
// "run" case that fails when the run was aborted, killed or missed its
// thresholds.
func WriteJUnit(w io.Writer, res *Result) error {
	s := &res.Snapshot
	out := junit.Suites{Name: s.Scenario, Time: secs(s.Elapsed)}
	suites := map[string]int{}
	for _, st := range s.Steps {
		i, ok := suites[st.Journey]
		if !ok {
			i = len(out.Suites)
			suites[st.Journey] = i
			out.Suites = append(out.Suites, junit.Suite{Name: s.Scenario + "/" + st.Journey})
		}
		tc := junit.Case{Class: s.Scenario + "." + st.Journey, Name: st.Step, Time: secs(st.Latency.Mean),
			Out: fmt.Sprintf("%d requests, p50 %v, p99 %v; %s", st.Requests, st.Latency.P50, st.Latency.P99, statusLine(st))}
		// A skipped cleanup had nothing to clean (its journey failed
		// before capturing): the journey's step case already fails.
		if st.Failures > 0 || (st.Skipped > 0 && !st.Cleanup) {
			var lines []string
			for _, e := range st.Exemplars {
				lines = append(lines, fmt.Sprintf("%s: %s (journey %s)", e.Check, e.Msg, e.JourneyID))
			}
			tc.Failure = &junit.Failure{
				Message: fmt.Sprintf("%d of %d requests failed, %d not sent", st.Failures, st.Requests, st.Skipped),
				Text:    strings.Join(lines, "\n"),
			}
		}
		out.Suites[i].Cases = append(out.Suites[i].Cases, tc)
	}
	run := junit.Case{Class: s.Scenario, Name: "run", Time: secs(s.Elapsed)}
	if !s.Passed() {
		msg := fmt.Sprintf("%s: success %.2f%% (threshold %.2f%%), %d cleanups failed",
			verdict(s), 100*s.SuccessRate(), 100*s.MinSuccessRate, s.Cleanups.Failed)
		run.Failure = &junit.Failure{Message: msg, Text: s.Reason}
	}
	out.Suites = append(out.Suites, junit.Suite{Name: s.Scenario, Cases: []junit.Case{run}})
	return junit.Write(w, out)
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
