package main

import (
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/replay"
)

// replayFlags are the options of `shadow replay` that are not config keys.
type replayFlags struct {
	rate, workers     int
	timeout           time.Duration
	unsafe, secondary bool
	headers           []string
}

func newReplayCmd() *cobra.Command {
	var rf replayFlags
	cmd := &cobra.Command{
		Use:   "replay --candidate URL [--rate N] [--secondary-from-capture] [--unsafe] FILE|DIR...",
		Short: "Re-send recorded requests to a new candidate and diff against the recorded answers",
		Long: `Replay sends the requests recorded by shadow run --capture to a candidate
(with the marker header, X-Shadow-Request: 1 unless mirror.marker_header
says otherwise), at --rate requests per second or, with 0, as fast as
--workers allow, and diffs each new answer against the recorded primary
answer. With --secondary-from-capture the recorded secondary answers teach
the engine which fields are noise. The report, verdict and exit code are
those of shadow run (--report-out, --config's compare: section), and
--capture records the replay itself.

Only safe methods are replayed unless --unsafe: a candidate that writes to a
shared database would repeat real side effects. Recorded secrets are
redacted, so a replayed request carries "[REDACTED]" (or a keyed hash)
where the client sent a credential; give the candidate its own with
--header "Authorization: Bearer ...".`,
		Example: `  shadow replay --candidate http://127.0.0.1:9002 --secondary-from-capture captures/
  shadow replay --candidate http://staging:8080 --rate 50 --report-out replay.md captures/*.usc`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd, args, rf)
		},
	}
	f := cmd.Flags()
	f.String("config", "", "YAML config file: compare:, capture: and mirror.marker_header/value are used")
	f.String("candidate", "", "base URL of the version under test (required)")
	f.String("report-out", "", "write the diff report here (.json or .md)")
	f.String("report-format", "", "report format: json or md (default: by --report-out extension)")
	f.String("capture", "", "record the replayed exchanges, redacted, to capture files in this directory")
	f.IntVar(&rf.rate, "rate", 0, "requests started per second (0 = as fast as --workers allow)")
	f.IntVar(&rf.workers, "workers", replay.DefaultWorkers, "requests in flight at most")
	f.DurationVar(&rf.timeout, "timeout", 0, "per request (0 = mirror.candidate_timeout, or 5s)")
	f.BoolVar(&rf.unsafe, "unsafe", false, "replay POST, PUT, PATCH and DELETE too (side effects!)")
	f.BoolVar(&rf.secondary, "secondary-from-capture", false, "learn noise from the recorded secondary answers")
	f.StringArrayVar(&rf.headers, "header", nil, `set on every replayed request, "Name: value" (repeatable)`)
	return cmd
}

// errStopReading ends a capture read early, when the replay stops.
var errStopReading = errors.New("replay stopped")

func runReplay(cmd *cobra.Command, paths []string, rf replayFlags) error {
	cfg, err := decodeConfig(cmd)
	if err != nil {
		return err
	}
	rp, err := newReplayer(cfg, rf)
	if err != nil {
		return cli.ConfigError(err)
	}
	defer rp.Close()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return cli.ConfigError(fmt.Errorf("open capture %q: %w", p, err))
		}
	}
	out := cmd.OutOrStdout()
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	engine, err := compare.New(cfg.Compare)
	if err != nil {
		return cli.ConfigError(fmt.Errorf("compare: %w", err))
	}
	rec, err := newRecorder(engine, cfg.Capture, captureLabels("replay", map[string]string{"candidate": cfg.Candidate}), logger)
	if err != nil {
		return cli.ConfigError(fmt.Errorf("capture: %w", err))
	}

	var (
		read    offlineStats
		readErr error
	)
	records := iter.Seq[*exchange.Exchange](func(yield func(*exchange.Exchange) bool) {
		read.ReadStats, readErr = capture.ReadFiles(paths, func(r capture.Record) error {
			if r.Kind != capture.KindExchange {
				read.Other++
				return nil
			}
			read.Exchanges++
			if !yield(&r.Exchange.Exchange) {
				return errStopReading
			}
			return nil
		})
		if errors.Is(readErr, errStopReading) {
			readErr = nil
		}
	})
	// The recorded sides were redacted when written; the new answer is
	// brought to the same footing before the recorder judges the whole.
	observe := func(x *exchange.Exchange) {
		redactAnswer(rec.redactor, &x.Candidate)
		rec.Observe(x)
	}
	fmt.Fprintf(out, "shadow replay: sending recorded requests to %s\n", cfg.Candidate)
	st, runErr := rp.Run(cmd.Context(), records, observe)
	closeErr := rec.Close()

	fmt.Fprintln(out, "shadow replay: "+readSummary(read))
	fmt.Fprintf(out, "shadow replay: %d replayed (%d without an answer), %d unsafe skipped (--unsafe to send them), %d abandoned\n",
		st.Sent, st.Failed, st.Skipped, st.Abandoned)
	if c := rec.summary(); c != "" {
		fmt.Fprintln(out, "shadow replay: "+c)
	}
	if readErr != nil {
		return readError(readErr)
	}
	rep, err := finishReport(cfg, engine.Report(), out)
	switch {
	case err != nil:
		return err
	case runErr != nil:
		return cli.Aborted(fmt.Errorf("replay interrupted: %w", runErr))
	case closeErr != nil:
		return cli.Aborted(closeErr)
	case rep.Verdict == compare.Fail:
		return cli.Failed(errors.New("verdict fail: the candidate differs beyond the configured rule"))
	}
	return nil
}

// newReplayer checks the settings replay uses and builds the replayer.
func newReplayer(cfg config, rf replayFlags) (*replay.Replayer, error) {
	var errs []error
	if err := cfg.Compare.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("compare: %w", err))
	}
	if err := cfg.Capture.validate(); err != nil {
		errs = append(errs, err)
	}
	if _, err := cfg.reportFormat(); err != nil {
		errs = append(errs, err)
	}
	set, err := parseHeaders(rf.headers)
	if err != nil {
		errs = append(errs, err)
	}
	timeout := rf.timeout
	if timeout == 0 {
		timeout = cfg.Mirror.CandidateTimeout
	}
	rcfg := replay.Config{
		Candidate: cfg.Candidate, Rate: rf.rate, Workers: rf.workers, Timeout: timeout,
		MaxResponseBytes: cfg.Mirror.MaxResponseBytes, Unsafe: rf.unsafe, KeepSecondary: rf.secondary,
		MarkerHeader: cfg.Mirror.MarkerHeader, MarkerValue: cfg.Mirror.MarkerValue, SetHeaders: set,
	}
	if cfg.Candidate == "" {
		errs = append(errs, errors.New("candidate: required (--candidate URL)"))
	} else if err := rcfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return replay.New(rcfg)
}

// parseHeaders reads "Name: value" flags.
func parseHeaders(hs []string) (http.Header, error) {
	set := http.Header{}
	for _, h := range hs {
		name, value, ok := strings.Cut(h, ":")
		if name = strings.TrimSpace(name); !ok || name == "" {
			return nil, fmt.Errorf(`header: %q is not "Name: value"`, h)
		}
		set.Add(name, strings.TrimSpace(value))
	}
	return set, nil
}

// redactAnswer redacts one answer by the rules of red.
func redactAnswer(red *capture.Redactor, r *exchange.Response) {
	x := exchange.Exchange{Candidate: *r}
	red.Redact(&x)
	*r = x.Candidate
}
