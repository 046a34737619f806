package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
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
			write, err := reportWriter(format)
			if err != nil {
				return cli.ConfigError(err)
			}
			res, st, other, err := mergeFiles(args)
			fmt.Fprintf(cmd.ErrOrStderr(), "synth report: read %d files: %d records (%d other kinds), %d corrupt frames, %d truncated tails, %d unknown records, %d bytes skipped\n",
				st.Files, st.Records, other, st.CorruptFrames, st.TruncatedTails, st.UnknownRecords, st.SkippedBytes)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, capture.ErrNotCapture) || errors.Is(err, capture.ErrUnsupportedVersion) {
					return cli.ConfigError(err)
				}
				return cli.Aborted(err)
			}
			if err := write(cmd.OutOrStdout(), res); err != nil {
				return cli.Aborted(fmt.Errorf("write report: %w", err))
			}
			if !res.Passed() {
				return cli.Failed(errors.New("merged run failed: assertion or threshold failures (see the report)"))
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

// mergeFiles reads every synth record of the files (a directory stands for
// the capture files in it) into one result. Damage is counted in the
// stats, not returned.
func mergeFiles(paths []string) (*scenarios.Result, capture.ReadStats, int64, error) {
	var total capture.ReadStats
	var other int64
	files, err := expandCapturePaths(paths)
	if err != nil {
		return nil, total, 0, err
	}
	m := scenarios.NewMerger()
	for _, path := range files {
		r, err := capture.Open(path)
		if err != nil {
			return nil, total, other, err
		}
		m.AddRun(scenarios.RunInfoFromLabels(r.Header().Labels))
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
			m.Add(stepResult(rec.Synth))
		}
		total.Add(r.Stats())
		r.Close()
	}
	return m.Result(), total, other, nil
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
