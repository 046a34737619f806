package main

import (
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strconv"
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
	speed             string
	loop              bool
	duration          time.Duration
	count             int64
	timeout           time.Duration
	unsafe, secondary bool
	headers           []string
}

func newReplayCmd() *cobra.Command {
	var rf replayFlags
	cmd := &cobra.Command{
		Use:   "replay --candidate URL [--rate N | --speed 2x] [--loop] [--secondary-from-capture] [--unsafe] FILE|DIR...",
		Short: "Re-send recorded requests to a new candidate and diff against the recorded answers",
		Long: `Replay sends the requests recorded by shadow run --capture to a candidate
(with the marker header, X-Shadow-Request: 1 unless mirror.marker_header
says otherwise), and diffs each new answer against the recorded primary
answer. Pacing: --speed keeps the recorded gaps between requests, scaled
(2x replays twice as fast, 0.5x at half speed; a record received before the
one before it, like the first of the next file, follows at once); --rate
sends a fixed number per second; with neither, as fast as --workers allow.
--loop replays the captures again and again until --duration has passed,
--count requests were sent, or Ctrl-C. With --secondary-from-capture the recorded secondary answers teach
the engine which fields are noise. The report, verdict and exit code are
those of shadow run (--report-out, --config's compare: section), and
--capture records the replay itself.

Only safe methods are replayed unless --unsafe: a candidate that writes to a
shared database would repeat real side effects. Recorded secrets are
redacted, so a replayed request carries "[REDACTED]" (or a keyed hash)
where the client sent a credential; give the candidate its own with
--header "Authorization: Bearer ...".`,
		Example: `  shadow replay --candidate http://127.0.0.1:9002 --secondary-from-capture captures/
  shadow replay --candidate http://staging:8080 --rate 50 --report-out replay.md captures/*.usc
  shadow replay --candidate http://staging:8080 --speed 2x --loop --duration 10m captures/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd, args, rf)
		},
	}
	f := cmd.Flags()
	f.String("config", "", "YAML config file: compare:, capture: and mirror.marker_header/value are used")
	f.String("candidate", "", "base URL of the version under test (required)")
	f.String("report-out", "", "write the diff report here (.json, .md, .html or JUnit .xml)")
	f.String("report-format", "", "report format: json, md, html or xml (JUnit) (default: by --report-out extension)")
	f.String("capture", "", "record the replayed exchanges, redacted, to capture files in this directory")
	f.IntVar(&rf.rate, "rate", 0, "requests started per second, a fixed rate (0 = as fast as --workers allow)")
	f.StringVar(&rf.speed, "speed", "", "keep the recorded timing, scaled: 1x, 2x (twice as fast), 0.5x")
	f.BoolVar(&rf.loop, "loop", false, "replay the captures again and again, until --duration, --count or Ctrl-C")
	f.DurationVar(&rf.duration, "duration", 0, "start no request after this long (0 = no limit)")
	f.Int64Var(&rf.count, "count", 0, "send at most this many requests (0 = no limit)")
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
	rp, pacing, err := newReplayer(cfg, rf)
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
	g, err := offlineGRPC(cfg, logger)
	if err != nil {
		return cli.ConfigError(err)
	}
	cfg.Compare.Schemas = g
	engine, err := compare.New(cfg.Compare)
	if err != nil {
		return cli.ConfigError(cfg.explain(cli.Under("compare", err)))
	}
	rec, err := newPipeline(engine, cfg.Capture, captureLabels("replay", map[string]string{"candidate": cfg.Mirror.Candidate}), logger, g)
	if err != nil {
		return cli.ConfigError(cfg.explain(cli.Under("capture", err)))
	}

	// With --loop the files are read once per pass; read says what the
	// first pass found, and a read error ends the loop.
	var (
		read    offlineStats
		readErr error
		passes  int
	)
	records := iter.Seq[*exchange.Exchange](func(yield func(*exchange.Exchange) bool) {
		if readErr != nil {
			return
		}
		passes++
		first := passes == 1
		rs, err := capture.ReadFiles(paths, func(r capture.Record) error {
			if r.Kind == capture.KindDescriptors {
				return learnDescriptors(g, r.Descriptors)
			}
			if r.Kind != capture.KindExchange {
				if first {
					read.Other++
				}
				return nil
			}
			if first {
				read.Exchanges++
			}
			if !yield(&r.Exchange.Exchange) {
				return errStopReading
			}
			return nil
		})
		if first {
			read.ReadStats = rs
		}
		if !errors.Is(err, errStopReading) {
			readErr = err
		}
	})
	// The recorded sides were redacted when written; the new answer is
	// brought to the same footing before the pipeline judges the whole.
	// The --header values (credentials, usually) were sent with every
	// request: an answer that echoes them is scrubbed of them too.
	red := &cfg.Capture.Redact
	sent, _ := parseHeaders(rf.headers) // validated by newReplayer
	observe := func(x *exchange.Exchange) {
		redactAnswer(red, sent, &x.Candidate)
		rec.Observe(x)
	}
	fmt.Fprintf(out, "shadow replay: sending recorded requests to %s, %s\n", cfg.Mirror.Candidate, pacing)
	st, runErr := rp.Run(cmd.Context(), records, observe)
	closeErr := rec.Close()

	fmt.Fprintln(out, "shadow replay: "+readSummary(read))
	loops := ""
	if rf.loop {
		loops = fmt.Sprintf(" in %d passes", st.Passes)
	}
	fmt.Fprintf(out, "shadow replay: %d replayed%s (%d without an answer), %d unsafe skipped (--unsafe to send them), %d abandoned\n",
		st.Sent, loops, st.Failed, st.Skipped, st.Abandoned)
	if c := rec.Summary(); c != "" {
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
	case read.Exchanges == 0:
		return cli.Inconclusive(fmt.Errorf("verdict inconclusive (exit %d): the capture input holds no exchange records, so nothing was replayed", cli.ExitInconclusive))
	}
	return verdictError(rep)
}

// newReplayer checks the settings replay uses and builds the replayer; pacing
// says in words how it sends.
func newReplayer(cfg config, rf replayFlags) (_ *replay.Replayer, pacing string, _ error) {
	var errs []error
	errs = append(errs, cli.Under("compare", cfg.Compare.Validate()), cfg.Capture.validate())
	if _, err := cfg.reportFormat(); err != nil {
		errs = append(errs, err)
	}
	set, err := parseHeaders(rf.headers)
	if err != nil {
		errs = append(errs, err)
	}
	speed, err := parseSpeed(rf.speed)
	if err != nil {
		errs = append(errs, err)
	}
	if speed > 0 && rf.rate > 0 {
		errs = append(errs, fmt.Errorf("--rate %d and --speed %s exclude each other: a fixed rate, or the recorded timing scaled", rf.rate, rf.speed))
	}
	timeout := rf.timeout
	if timeout == 0 {
		timeout = cfg.Mirror.CandidateTimeout
	}
	rcfg := replay.Config{
		Candidate: cfg.Mirror.Candidate, Rate: rf.rate, Speed: speed, Loop: rf.loop, Duration: rf.duration, Count: rf.count,
		Workers: rf.workers, Timeout: timeout,
		MaxResponseBytes: cfg.Mirror.MaxResponseBytes, Unsafe: rf.unsafe, KeepSecondary: rf.secondary,
		MarkerHeader: cfg.Mirror.MarkerHeader, MarkerValue: cfg.Mirror.MarkerValue, SetHeaders: set,
	}
	if cfg.Mirror.Candidate == "" {
		errs = append(errs, errors.New("candidate: required (--candidate URL)"))
	} else if err := rcfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, "", cfg.explain(err)
	}
	rp, err := replay.New(rcfg)
	return rp, describePacing(rcfg), err
}

// parseSpeed reads --speed: a multiplier like 2x, 0.5x or 2; "" is 0 (off).
func parseSpeed(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSuffix(s, "x"), "X"), 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("--speed %q: want a multiplier above 0, like 2x (twice as fast) or 0.5x", s)
	}
	return f, nil
}

// describePacing says how c sends, for the line replay starts with.
func describePacing(c replay.Config) string {
	var b strings.Builder
	switch {
	case c.Speed > 0:
		fmt.Fprintf(&b, "at the recorded timing ×%s", strconv.FormatFloat(c.Speed, 'g', -1, 64))
	case c.Rate > 0:
		fmt.Fprintf(&b, "at %d/s", c.Rate)
	default:
		b.WriteString("as fast as the workers allow")
	}
	var bounds []string
	if c.Duration > 0 {
		bounds = append(bounds, "for at most "+c.Duration.String())
	}
	if c.Count > 0 {
		bounds = append(bounds, fmt.Sprintf("%d requests at most", c.Count))
	}
	switch {
	case c.Loop && len(bounds) == 0:
		b.WriteString(", looping until Ctrl-C")
	case c.Loop:
		b.WriteString(", looping")
	}
	if len(bounds) > 0 {
		b.WriteString(", " + strings.Join(bounds, ", "))
	}
	return b.String()
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

// redactAnswer redacts one answer by the rules of red, and of the
// secrets among the headers sent with its request.
func redactAnswer(red *capture.Redactor, sent http.Header, r *exchange.Response) {
	x := exchange.Exchange{Request: exchange.Request{Header: sent}, Candidate: *r}
	red.Redact(&x)
	*r = x.Candidate
}
