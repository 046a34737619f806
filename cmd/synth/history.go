package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/schedule"
)

func newHistoryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history (--config SCHEDULE.yaml | --file HISTORY.json)",
		Short: "Show the runs synth schedule recorded",
		Long: `History prints the runs a synth schedule daemon recorded in its history file,
oldest first and newest last: entry, start, duration, result (passed, failed,
aborted, stopped, error), attempts (more than one when a failed run was
retried), journeys started in the last attempt, their success rate and the
attempt's result file, plus a note when the scheduler stopped a run or an
attempt could not run. --config finds the file through the schedule's
history_file; --file names it directly. --format json prints the history in
the file's own format, filtered by --entry and --last.

A running daemon serves the same at its admin endpoint's /history.

Exit codes:
  0  the history was printed
  3  bad flags, schedule file, or a missing or unreadable history file`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			config, _ := f.GetString("config")
			file, _ := f.GetString("file")
			format, _ := f.GetString("format")
			last, _ := f.GetInt("last")
			entry, _ := f.GetString("entry")
			return showHistory(cmd.OutOrStdout(), config, file, format, entry, last)
		},
	}
	f := cmd.Flags()
	f.String("config", "", "the schedule file whose history_file to read")
	f.String("file", "", "the history file to read")
	f.String("format", "table", "table or json")
	f.Int("last", 0, "show only the last N runs (0 = all)")
	f.String("entry", "", "show only the runs of this schedule entry")
	return cmd
}

// showHistory reads the history file named directly or by the schedule
// file and prints it; its error carries the exit code.
func showHistory(w io.Writer, config, file, format, entry string, last int) error {
	var errs []error
	if (config == "") == (file == "") {
		errs = append(errs, errors.New("want exactly one of --config (the schedule file) and --file (its history file)"))
	}
	if format != "table" && format != "json" {
		errs = append(errs, fmt.Errorf("--format: %q: want table or json", format))
	}
	if last < 0 {
		errs = append(errs, fmt.Errorf("--last: %d: want 0 (all) or more", last))
	}
	if err := errors.Join(errs...); err != nil {
		return cli.ConfigError(err)
	}
	path := file
	if config != "" {
		cfg, err := schedule.LoadConfig(config)
		if err != nil {
			return cli.ConfigError(err)
		}
		if cfg.HistoryFile == "" {
			return cli.ConfigError(fmt.Errorf("schedule %q has no history_file: its history lives in the daemon's memory (admin endpoint /history)", config))
		}
		path = cfg.HistoryFile
	}
	h, err := schedule.ReadHistory(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return cli.ConfigError(fmt.Errorf("history file %q does not exist: synth schedule writes it after its first run", path))
	case err != nil:
		return cli.ConfigError(err)
	}
	runs := filterRuns(h.Runs, entry, last)
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(schedule.History{Schema: h.Schema, Updated: h.Updated, Runs: runs})
	} else {
		err = writeHistoryTable(w, path, entry, runs)
	}
	if err != nil {
		return cli.ConfigError(fmt.Errorf("write history: %w", err))
	}
	return nil
}

// filterRuns returns the runs of entry ("" for every entry), the last
// last of them (0 for all), oldest first.
func filterRuns(runs []schedule.RunRecord, entry string, last int) []schedule.RunRecord {
	out := []schedule.RunRecord{}
	for _, r := range runs {
		if entry == "" || r.Entry == entry {
			out = append(out, r)
		}
	}
	if last > 0 && len(out) > last {
		out = out[len(out)-last:]
	}
	return out
}

// maxNote bounds the note column, so one long error keeps the table
// readable; --format json has it whole.
const maxNote = 80

// writeHistoryTable prints runs as a table, oldest first.
func writeHistoryTable(w io.Writer, path, entry string, runs []schedule.RunRecord) error {
	if len(runs) == 0 {
		what := "no runs"
		if entry != "" {
			what += " of entry " + strconv.Quote(entry)
		}
		_, err := fmt.Fprintf(w, "%s in %s\n", what, path)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTRY\tSTARTED\tDURATION\tRESULT\tATTEMPTS\tJOURNEYS\tSUCCESS\tRESULT FILE\tNOTE")
	for _, r := range runs {
		a := schedule.Attempt{}
		if len(r.Attempts) > 0 {
			a = r.Attempts[len(r.Attempts)-1]
		}
		success := "-"
		if j := a.Journeys; j.Succeeded+j.Failed+j.Interrupted > 0 {
			success = fmt.Sprintf("%.1f%%", 100*a.SuccessRate)
		}
		note := r.Note
		if a.Error != "" {
			note = joinNote(note, a.Error)
		}
		if rs := []rune(note); len(rs) > maxNote {
			note = string(rs[:maxNote-3]) + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.Entry, r.Started.Format("2006-01-02 15:04:05Z07:00"),
			runDuration(r.Ended.Sub(r.Started)), r.Result, len(r.Attempts), a.Journeys.Started, success,
			dashIfEmpty(a.ResultFile), dashIfEmpty(note))
	}
	return tw.Flush()
}

// runDuration rounds d for the table: to the second from a second up.
func runDuration(d time.Duration) string {
	if d >= time.Second {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
