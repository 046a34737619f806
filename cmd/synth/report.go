package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/internal/junit"
	"github.com/understudy-dev/understudy/scenarios"
)

func newReportCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "report [--format text|md|json|xml] FILE|DIR...",
		Short: "Merge the result files of many runners into one report",
		Long: `Report reads the result files written by synth run --out (a directory stands
for the files in it) and prints one report for all of them: per step, the
latency percentiles of one histogram holding every recorded request (never
an average of the runners' percentiles), status codes, error kinds, failed
checks and a few examples. Journeys count as failed when any of their
recorded steps failed; the strictest success threshold of the runs applies.

Damaged files still report: corrupt frames and truncated tails are counted
on stderr.

` + exitCodesHelp,
		Example: `  synth report runner-*.usc
  synth report --format xml results/ > junit.xml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := reportWriter(format) // a bad format is found before reading
			if err != nil {
				return cli.ConfigError(err)
			}
			results, st, other, err := mergeFiles(args)
			stderr := cmd.ErrOrStderr()
			fmt.Fprintf(stderr, "synth report: read %d files: %d records (%d other kinds), %d corrupt frames, %d truncated tails, %d unknown records, %d bytes skipped\n",
				st.Files, st.Records, other, st.CorruptFrames, st.TruncatedTails, st.UnknownRecords, st.SkippedBytes)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, capture.ErrNotCapture) || errors.Is(err, capture.ErrUnsupportedVersion) {
					return cli.ConfigError(err)
				}
				return cli.Aborted(err)
			}
			if len(results) > 1 {
				names := make([]string, len(results))
				for i, r := range results {
					names[i] = r.name
				}
				fmt.Fprintf(stderr, "synth report: warning: the files hold results of %d different scenarios (%s): each is reported on its own; their rates, ceilings and thresholds are not summed\n",
					len(results), strings.Join(names, ", "))
			}
			if err := writeReports(cmd.OutOrStdout(), format, results); err != nil {
				return cli.Aborted(fmt.Errorf("write report: %w", err))
			}
			steps := 0
			var failed []string
			for _, r := range results {
				steps += len(r.res.Steps)
				if !r.res.Passed() {
					failed = append(failed, r.name)
				}
			}
			switch {
			case steps == 0 || len(results) == 0:
				return cli.Inconclusive(fmt.Errorf("report inconclusive (exit %d): the result files hold no synthetic steps, so nothing was checked", cli.ExitInconclusive))
			case len(failed) > 0:
				return cli.Failed(fmt.Errorf("merged run failed (exit %d): assertion or threshold failures in %s (see the report)", cli.ExitFail, strings.Join(failed, ", ")))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text, md, json (with per-step histograms) or xml (JUnit)")
	return cmd
}

// reportWriter returns the scenarios writer for a format.
func reportWriter(format string) (func(io.Writer, *scenarios.Result) error, error) {
	switch format {
	case "text", "":
		return func(w io.Writer, r *scenarios.Result) error { return scenarios.WriteText(w, &r.Snapshot) }, nil
	case "md", "markdown":
		return scenarios.WriteMarkdown, nil
	case "json":
		return scenarios.WriteJSON, nil
	case "xml", "junit":
		return scenarios.WriteJUnit, nil
	}
	return nil, fmt.Errorf("format: %q is not text, md, json or xml", format)
}

// scenarioResult is the merged result of one scenario's runs.
type scenarioResult struct {
	name string
	res  *scenarios.Result
}

// mergeFiles reads every synth record of the files (a directory stands for
// the capture files in it) into one result per scenario, in the order the
// scenarios first appear: runs of different scenarios are not summed.
// Damage is counted in the stats, not returned.
func mergeFiles(paths []string) ([]scenarioResult, capture.ReadStats, int64, error) {
	var total capture.ReadStats
	var other int64
	files, err := expandCapturePaths(paths)
	if err != nil {
		return nil, total, 0, err
	}
	mergers := map[string]*scenarios.Merger{}
	var order []string
	merger := func(name string) *scenarios.Merger {
		m := mergers[name]
		if m == nil {
			m = scenarios.NewMerger()
			mergers[name] = m
			order = append(order, name)
		}
		return m
	}
	for _, path := range files {
		r, err := capture.Open(path)
		if err != nil {
			return nil, total, other, err
		}
		info := scenarios.RunInfoFromLabels(r.Header().Labels)
		merger(info.Scenario).AddRun(info)
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Close()
				return nil, total, other, err
			}
			if rec.Kind != capture.KindSynth {
				other++
				continue
			}
			name := rec.Synth.Scenario
			if name == "" {
				name = info.Scenario
			}
			merger(name).Add(stepResult(rec.Synth))
		}
		total.Add(r.Stats())
		r.Close()
	}
	var out []scenarioResult
	for _, name := range order {
		out = append(out, scenarioResult{name: name, res: mergers[name].Result()})
	}
	if len(out) > 1 {
		// A file's header names a scenario whose records may all be in
		// another's: drop the empty ones.
		out = slices.DeleteFunc(out, func(r scenarioResult) bool { return len(r.res.Steps) == 0 && r.res.Journeys.Started == 0 })
	}
	return out, total, other, nil
}

// writeReports writes one report per scenario: one after the other for
// text and Markdown, a JSON array (a single object for one scenario), or
// one JUnit document holding every scenario's suites.
func writeReports(w io.Writer, format string, results []scenarioResult) error {
	write, err := reportWriter(format)
	if err != nil {
		return err
	}
	if len(results) == 1 {
		return write(w, results[0].res)
	}
	switch format {
	case "json":
		if _, err := io.WriteString(w, "[\n"); err != nil {
			return err
		}
		for i, r := range results {
			if i > 0 {
				if _, err := io.WriteString(w, ",\n"); err != nil {
					return err
				}
			}
			if err := write(w, r.res); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, "]\n")
		return err
	case "xml", "junit":
		doc := junit.Suites{Name: "synth"}
		for _, r := range results {
			var b bytes.Buffer
			if err := write(&b, r.res); err != nil {
				return err
			}
			var one junit.Suites
			if err := xml.Unmarshal(b.Bytes(), &one); err != nil {
				return err
			}
			doc.Suites = append(doc.Suites, one.Suites...)
		}
		return junit.Write(w, doc)
	}
	for i, r := range results {
		sep := "== scenario %s ==\n\n"
		if format == "md" || format == "markdown" {
			sep = "<!-- scenario %s -->\n\n"
		}
		if i > 0 {
			sep = "\n" + sep
		}
		if _, err := fmt.Fprintf(w, sep, r.name); err != nil {
			return err
		}
		if err := write(w, r.res); err != nil {
			return err
		}
	}
	return nil
}

// expandCapturePaths replaces each directory by the capture files in it
// (finished and partial), by name.
func expandCapturePaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("open results %q: %w", p, err)
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		var names []string
		for _, pattern := range []string{"*" + capture.FileSuffix, "*" + capture.FileSuffix + capture.PartialSuffix} {
			found, err := filepath.Glob(filepath.Join(p, pattern))
			if err != nil {
				return nil, fmt.Errorf("list results in %q: %w", p, err)
			}
			names = append(names, found...)
		}
		slices.Sort(names)
		out = append(out, names...)
	}
	return out, nil
}
