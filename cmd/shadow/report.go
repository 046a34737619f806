package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/internal/atomicfile"
)

func newReportCmd() *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "report [--format md|json|html|xml] [--out FILE] [--config FILE] FILE|DIR...",
		Short: "Build the diff report offline from capture files",
		Long: `Report re-judges every exchange recorded by shadow run --capture (or
replay --capture) with the compare settings of --config (the compare:
section; SHADOW_COMPARE_* env too), so normalizers and noise settings can
be changed after the fact, and prints the report (Markdown unless --format
says json, html or xml for JUnit) or writes it to --out. A directory
stands for the capture files in it; files from many replicas merge into
one report.

Damaged files still report: what was read, corrupt frames and truncated
tails are counted on stderr. It exits 1 when the verdict is fail.`,
		Example: `  shadow report captures/
  shadow report --config shadow.yaml --format json --out report.json pod-a/ pod-b/
  shadow report --out report.html captures/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := decodeConfig(cmd)
			if err != nil {
				return err
			}
			if err := cfg.Compare.Validate(); err != nil {
				return cli.ConfigError(cfg.explain(cli.Under("compare", err)))
			}
			switch format {
			case "", "md", "markdown", "json", "html", "xml", "junit":
			default:
				return cli.ConfigError(fmt.Errorf("format: %q is not md, json, html or xml (JUnit)", format))
			}
			if out != "" {
				if err := atomicfile.CheckWritable(out); err != nil {
					return cli.ConfigError(fmt.Errorf("out: the report could not be written: %w", err))
				}
			}
			g, err := offlineGRPC(cfg, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn})))
			if err != nil {
				return cli.ConfigError(err)
			}
			cfg.Compare.Schemas = g
			rep, stats, err := offlineReport(cmd.Context(), cfg.Compare, args)
			stderr := cmd.ErrOrStderr()
			fmt.Fprintln(stderr, "shadow report: "+readSummary(stats))
			if err != nil {
				return err
			}
			if err := emitReport(cmd.OutOrStdout(), out, format, rep); err != nil {
				return err
			}
			if out != "" {
				fmt.Fprintf(stderr, "shadow report: written to %s\n", out)
			}
			fmt.Fprintf(stderr, "shadow report: verdict %s: %d pairs compared, %d differ\n", rep.Verdict, rep.Totals.Pairs, rep.Totals.Diffs)
			if stats.Exchanges == 0 {
				return cli.Inconclusive(fmt.Errorf("verdict inconclusive (exit %d): the capture input holds no exchange records, so nothing was judged", cli.ExitInconclusive))
			}
			return verdictError(rep)
		},
	}
	f := cmd.Flags()
	f.String("config", "", "YAML config file; its compare: section judges the records")
	f.StringVar(&format, "format", "", "md (default), json, html or xml (JUnit); with --out, default by extension")
	f.StringVar(&out, "out", "", "write the report to this file (0600, atomically) instead of stdout")
	return cmd
}

// offlineStats is what reading capture files for a report found.
type offlineStats struct {
	capture.ReadStats
	// Exchanges were judged; Other records (synthetic steps) were not.
	Exchanges, Other int64
}

// offlineReport judges every exchange record of the files with a fresh
// engine, until ctx ends (SIGTERM): judging one record is bounded by the
// compare budget, so it stops within one. A path that is not a readable
// capture file is bad input; damage inside a file is counted, not an error.
// When cfg.Schemas is a *grpcSchemas, it learns the descriptor records of
// the files as they come, so gRPC answers are read by field name.
func offlineReport(ctx context.Context, cfg compare.Config, paths []string) (*compare.Report, offlineStats, error) {
	var st offlineStats
	if err := withOutboundJudge(&cfg); err != nil {
		return nil, st, cli.ConfigError(cli.Under("compare", err))
	}
	engine, err := compare.New(cfg)
	if err != nil {
		return nil, st, cli.ConfigError(cli.Under("compare", err))
	}
	st.ReadStats, err = capture.ReadFiles(paths, func(r capture.Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.Kind == capture.KindDescriptors {
			g, _ := cfg.Schemas.(*grpcSchemas)
			return learnDescriptors(g, r.Descriptors)
		}
		if r.Kind != capture.KindExchange {
			st.Other++
			return nil
		}
		st.Exchanges++
		engine.Observe(&r.Exchange.Exchange)
		return nil
	})
	if ctx.Err() != nil {
		return nil, st, cli.Aborted(fmt.Errorf("report interrupted: %w", ctx.Err()))
	}
	if err != nil {
		return nil, st, readError(err)
	}
	return engine.Report(), st, nil
}

// readError sorts a capture read error into bad input (exit 3: a missing
// file, not a capture file, a future format) and a failed read (exit 2).
func readError(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, capture.ErrNotCapture) || errors.Is(err, capture.ErrUnsupportedVersion) {
		return cli.ConfigError(err)
	}
	return cli.Aborted(err)
}

// readSummary says what reading found, damage included.
func readSummary(s offlineStats) string {
	line := fmt.Sprintf("read %d files: %d records (%d exchanges, %d other), %d corrupt frames, %d truncated tails, %d unknown records, %d refused records, %d bytes skipped",
		s.Files, s.Records, s.Exchanges, s.Other, s.CorruptFrames, s.TruncatedTails, s.UnknownRecords, s.RefusedRecords, s.SkippedBytes)
	for _, n := range s.Notes {
		line += "\n  - " + n
	}
	return line
}

// emitReport writes rep to path (format by extension unless given) or,
// with no path, to w (Markdown unless format says otherwise).
func emitReport(w io.Writer, path, format string, rep *compare.Report) error {
	if path != "" {
		if err := compare.WriteReportFile(path, format, rep); err != nil {
			return cli.Aborted(err)
		}
		return nil
	}
	var err error
	switch format {
	case "json":
		err = rep.WriteJSON(w)
	case "html":
		err = rep.WriteHTML(w)
	case "xml", "junit":
		err = rep.WriteJUnit(w)
	default:
		err = rep.WriteMarkdown(w)
	}
	if err != nil {
		return cli.Aborted(fmt.Errorf("write report: %w", err))
	}
	return nil
}
