package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/admin"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/cmd/internal/dash"
	"github.com/understudy-dev/understudy/cmd/internal/metrics"
	"github.com/understudy-dev/understudy/scenarios"
	"github.com/understudy-dev/understudy/schedule"
	"github.com/understudy-dev/understudy/tui"
)

// defaultScheduleAdmin is where `synth schedule` serves its admin
// endpoint unless told otherwise: loopback, the port synth uses in
// deploy/.
const defaultScheduleAdmin = "127.0.0.1:9091"

// scheduleSettings are the settings of `synth schedule`: defaults, then
// SYNTH_* env vars (SYNTH_ADMIN_TOKEN), then flags, each overriding the
// one before. Its --config file is the schedule itself (schedule.Config),
// not a settings file.
type scheduleSettings struct {
	// Admin is where the admin endpoint listens; "" means none.
	Admin string `mapstructure:"admin"`
	// AdminToken is the bearer token the admin endpoint requires; needed
	// off loopback.
	AdminToken string `mapstructure:"admin_token"`
	// Log says how the daemon logs (log.format, log.level).
	Log cli.Log `mapstructure:"log"`
}

// resolved is s with its defaults filled in: what --print-config shows.
func (s scheduleSettings) resolved() scheduleSettings {
	s.Log = s.Log.Resolved(slog.LevelInfo)
	return s
}

// scheduleFlagKeys maps each settings flag of `synth schedule` to its key.
var scheduleFlagKeys = map[string]string{
	"admin": "admin", "admin-token": "admin_token", "log-format": "log.format", "log-level": "log.level",
}

func newScheduleCmd(interrupts <-chan os.Signal) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule --config SCHEDULE.yaml",
		Short: "Run scenarios on cron schedules, as a daemon",
		Long: `Schedule runs scenarios on the cron specs of a schedule file until it is
stopped: never one scenario file twice at once (a start due while it runs is
skipped and counted), none in a blackout window, a failed run retried once
(by default), every run kept in a history file that synth history reads, and
each attempt's result written to result_dir. The scenario files are checked
first: a bad one is a configuration error (exit 3), every problem listed.

  timezone: Europe/Berlin
  history_file: history.json
  result_dir: results
  entries:
    - name: smoke
      scenario: scenarios/order-journey.yaml
      cron: "*/15 * * * *"
      duration: 1m
      blackouts: [{from: "11:30", to: "14:00"}]

An interrupt (Ctrl-C, SIGTERM) starts nothing new and stops the running
scenarios gracefully: journeys in flight finish and clean up, the runs are
recorded, then synth exits 0. A second interrupt kills them (exit 2).

The admin endpoint (default ` + defaultScheduleAdmin + `; "" turns it off) serves
/metrics (synth_schedule_*, and the synth_* figures of every run), /healthz,
/readyz, /schedule (every entry's status and next due time), /history (the
history as JSON; ?entry=NAME&last=N), and /snapshot (the running run, for
synth tui --attach). Flags override SYNTH_ADMIN, SYNTH_ADMIN_TOKEN,
SYNTH_LOG_FORMAT and SYNTH_LOG_LEVEL.

--check validates the schedule and its scenarios, prints each entry with its
next due time, and exits.

Exit codes:
  0  stopped by an interrupt, every running scenario finished gracefully
     (--check: the schedule and its scenarios are valid)
  2  killed by a second interrupt
  3  bad schedule file, scenario file or setting`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := loadScheduleSettings(cmd)
			if err != nil {
				return err
			}
			if printed, err := cli.PrintConfig(cmd, set.resolved()); printed {
				return err
			}
			path, _ := cmd.Flags().GetString("config")
			check, _ := cmd.Flags().GetBool("check")
			if path == "" {
				return cli.ConfigError(errors.New("--config: required: the schedule file (YAML)"))
			}
			return runSchedule(cmd.Context(), set, path, check, cmd.OutOrStdout(), cmd.ErrOrStderr(), interrupts)
		},
	}
	f := cmd.Flags()
	f.String("config", "", "the schedule file (YAML): entries with scenario, cron, rate, duration, blackouts, retry")
	f.String("admin", defaultScheduleAdmin, `admin endpoint (metrics, history, snapshot, pprof); "" = none; off loopback it needs --admin-token`)
	f.String("admin-token", "", "bearer token the admin endpoint requires (env SYNTH_ADMIN_TOKEN)")
	f.Bool("check", false, "validate the schedule and its scenarios, print the next due times, and exit")
	cli.AddLogFlags(f)
	cli.AddPrintConfigFlag(cmd)
	return cmd
}

// loadScheduleSettings reads the settings flags and SYNTH_* env through
// cli.Loader. The loader is shown the settings flags only: --config names
// the schedule, which is not a settings file.
func loadScheduleSettings(cmd *cobra.Command) (scheduleSettings, error) {
	settings := &cobra.Command{Use: cmd.Use}
	for name := range scheduleFlagKeys {
		settings.Flags().AddFlag(cmd.Flags().Lookup(name))
	}
	var set scheduleSettings
	o, err := (cli.Loader{Prefix: "SYNTH", Flags: scheduleFlagKeys}).Load(settings, &set)
	if err != nil {
		return scheduleSettings{}, cli.ConfigError(err)
	}
	var errs []error
	if set.Admin != "" {
		if err := (admin.Config{Addr: set.Admin, Token: set.AdminToken}).Validate(); err != nil {
			errs = append(errs, dash.AdminConfigError(err))
		}
	}
	if err := set.Log.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return scheduleSettings{}, cli.ConfigError(o.Explain(err))
	}
	return set, nil
}

// runSchedule loads the schedule and runs it until ctx ends or an
// interrupt arrives; with check it only prints the entries. Its error
// carries the exit code.
func runSchedule(ctx context.Context, set scheduleSettings, path string, check bool, stdout, stderr io.Writer, interrupts <-chan os.Signal) error {
	cfg, err := schedule.LoadConfig(path)
	if err != nil {
		return cli.ConfigError(err)
	}
	if err := schedule.CheckScenarios(*cfg); err != nil {
		return cli.ConfigError(fmt.Errorf("schedule %q: %w", path, err))
	}
	if check {
		if err := printSchedule(stdout, path, cfg, time.Now()); err != nil {
			return cli.ConfigError(fmt.Errorf("write schedule: %w", err))
		}
		return nil
	}
	logger, err := set.Log.Logger(stderr, slog.LevelInfo)
	if err != nil {
		return cli.ConfigError(err)
	}
	opts := schedule.Options{Logger: logger}
	var synthMetrics *metrics.SynthMetrics // set by the admin server's Metrics, before any run
	if set.Admin != "" {
		opts.Watch = func(snapshot func() scenarios.Snapshot) func() { return synthMetrics.Watch(snapshot) }
	}
	sched, err := schedule.New(*cfg, opts)
	if err != nil {
		return cli.ConfigError(err)
	}
	view := scheduleView{cfg: cfg, sched: sched}
	// The admin server outlives ctx, so it reports the graceful stop too;
	// it stops once the scheduler has returned.
	_, stopAdmin, err := dash.StartAdmin(context.WithoutCancel(ctx), dash.AdminConfig{
		Addr: set.Admin, Token: set.AdminToken, Logger: logger,
		Source:   tui.SourceFunc(view.snapshot),
		Handlers: map[string]http.Handler{"/history": http.HandlerFunc(view.serveHistory), "/schedule": http.HandlerFunc(view.serveStatus)},
		Metrics: func(reg prometheus.Registerer) error {
			sm, err := metrics.NewSynth(reg, metrics.SynthConfig{})
			if err != nil {
				return err
			}
			synthMetrics = sm
			return metrics.NewSchedule(reg, sched.Status)
		},
	})
	if err != nil {
		return cli.ConfigError(err)
	}
	defer stopAdmin()
	return serveSchedule(ctx, sched, stderr, interrupts)
}

// serveSchedule runs sched until ctx ends or an interrupt arrives, which
// stop it gracefully; a second interrupt kills the running scenarios.
func serveSchedule(ctx context.Context, sched *schedule.Scheduler, stderr io.Writer, interrupts <-chan os.Signal) error {
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- sched.Run(runCtx) }()
	killed := false
	for signals := 0; ; {
		select {
		case err := <-done:
			switch {
			case err != nil:
				return cli.Aborted(err)
			case killed:
				return cli.Aborted(errors.New("schedule killed: the running scenarios were cancelled"))
			}
			return nil
		case <-interrupts:
			signals++
			if signals == 1 {
				fmt.Fprintln(stderr, "synth: stopping: running scenarios finish their journeys in flight (interrupt again to kill)")
				stop()
			} else {
				fmt.Fprintln(stderr, "synth: killing: cancelling requests in flight")
				killed = true
				sched.Kill()
			}
		}
	}
}

// printSchedule writes the entries of a checked schedule with when each
// is next due after now.
func printSchedule(w io.Writer, path string, cfg *schedule.Config, now time.Time) error {
	fmt.Fprintf(w, "schedule %s: %d entries, scenarios valid\n", path, len(cfg.Entries))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTRY\tCRON\tNEXT DUE\tRATE\tDURATION\tBLACKOUTS\tSCENARIO")
	for _, e := range cfg.Entries {
		due := "disabled"
		if e.IsEnabled() {
			next, err := cfg.NextRun(e, now) // a due time in a blackout is still shown: the scheduler skips it
			if err != nil {
				return err
			}
			due = next.Format("2006-01-02 15:04:05 MST")
		}
		rate, duration := "scenario's", "scenario's"
		if e.Rate > 0 {
			rate = fmt.Sprintf("%g/s", e.Rate)
		}
		if e.Duration > 0 {
			duration = e.Duration.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.Name, e.Cron, due, rate, duration, len(e.Blackouts), e.Scenario)
	}
	return tw.Flush()
}

// scheduleView serves a scheduler on the admin endpoint: the dashboard's
// snapshot, /schedule and /history.
type scheduleView struct {
	cfg   *schedule.Config
	sched *schedule.Scheduler
}

// snapshot is the dashboard's view of the newest running run (no synth
// part between runs), so `synth tui --attach` shows it.
func (v scheduleView) snapshot(context.Context) (tui.Snapshot, error) {
	s := tui.Snapshot{Time: time.Now()}
	runs := v.sched.Snapshots()
	if len(runs) == 0 {
		return s, nil
	}
	newest := runs[0]
	for _, r := range runs[1:] {
		if r.Started.After(newest.Started) {
			newest = r
		}
	}
	var duration time.Duration // the scenario's own when the entry does not say
	for i, st := range v.sched.Status() {
		if st.RunID == newest.RunID {
			duration = v.cfg.Entries[i].Duration
		}
	}
	s.Synth = dash.Synth(newest, duration)
	return s, nil
}

// serveStatus answers GET /schedule with every entry's status, in
// configuration order.
func (v scheduleView) serveStatus(w http.ResponseWriter, r *http.Request) {
	if !getOnly(w, r) {
		return
	}
	writeJSON(w, r, struct {
		Entries []schedule.EntryStatus `json:"entries"`
	}{v.sched.Status()})
}

// serveHistory answers GET /history[?entry=NAME][&last=N] with the runs
// recorded so far, oldest first, in the history file's format.
func (v scheduleView) serveHistory(w http.ResponseWriter, r *http.Request) {
	if !getOnly(w, r) {
		return
	}
	q := r.URL.Query()
	last := 0
	if s := q.Get("last"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("last=%q: want a whole number, 0 for all", s))
			return
		}
		last = n
	}
	writeJSON(w, r, schedule.History{Schema: schedule.HistorySchema, Updated: time.Now(), Runs: filterRuns(v.sched.History(), q.Get("entry"), last)})
}

// getOnly answers a request that is not GET or HEAD with 405 and reports
// whether it was one.
func getOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeJSONError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: "+r.URL.Path+" takes GET")
	return false
}

func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "encode answer: "+err.Error())
		return
	}
	body = append(body, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// writeJSONError answers as the admin server's own endpoints do when they
// refuse: {"ok":false,"error":"..."}.
func writeJSONError(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}{false, msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
