package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/internal/atomicfile"
	"github.com/understudy-dev/understudy/scenarios"
)

// config is the effective configuration of `synth run`: defaults, then
// the YAML file (--config), then SYNTH_* env vars (SYNTH_REPORT_OUT for
// report_out), then flags, each overriding the one before.
type config struct {
	// RunnerOptions holds the keys that override the scenario: rate,
	// duration, target, run_id and no_preflight.
	scenarios.RunnerOptions `mapstructure:",squash"`
	// ReportOut is a report file: .json, .md or .xml (JUnit).
	ReportOut string `mapstructure:"report_out"`
	// Out records every request to a result file (.usc), or to files in a
	// directory, for synth report to merge; "" records nothing.
	Out string `mapstructure:"out"`
	// NoTUI asks for plain progress lines instead of the dashboard.
	NoTUI bool `mapstructure:"no_tui"`
	// ProgressInterval is how often a progress line is printed.
	ProgressInterval time.Duration `mapstructure:"progress_interval"`
	// Admin is where the admin endpoint listens; "" means none.
	Admin string `mapstructure:"admin"`
	// AdminToken is the bearer token the admin endpoint requires.
	AdminToken string `mapstructure:"admin_token"`
	// Runners, above 1, makes this one of that many runners sharing the
	// load: it runs 1/Runners of every rate and takes its share of every
	// feeder's rows; 0 and 1 mean it runs alone. RunnerIndex says which
	// (0 to Runners-1); -1 means $JOB_COMPLETION_INDEX, as a Kubernetes
	// Indexed Job sets it.
	Runners     int `mapstructure:"runners"`
	RunnerIndex int `mapstructure:"runner_index"`
	// Log says how the run logs (log.format, log.level).
	Log cli.Log `mapstructure:"log"`

	// origins says where each value came from, for errors.
	origins *cli.Origins
}

// flagKeys maps each flag to the config key it overrides.
var flagKeys = map[string]string{
	"rate":              "rate",
	"duration":          "duration",
	"target":            "target",
	"run-id":            "run_id",
	"report-out":        "report_out",
	"out":               "out",
	"no-tui":            "no_tui",
	"progress-interval": "progress_interval",
	"admin":             "admin",
	"admin-token":       "admin_token",
	"no-preflight":      "no_preflight",
	"runners":           "runners",
	"runner-index":      "runner_index",
	"log-format":        "log.format",
	"log-level":         "log.level",
}

func addConfigFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String("config", "", "YAML config file with any of: rate, duration, target, run_id, report_out, out, no_tui, progress_interval, admin, admin_token, no_preflight, runners, runner_index, log.format, log.level (see README: Configuration)")
	f.Float64("rate", 0, "journeys per second, replacing the scenario's rate (clamped to its ceiling)")
	f.Duration("duration", 0, "how long to start journeys for, replacing the scenario's duration")
	f.String("target", "", "base URL to send to, replacing the scenario's target")
	f.String("run-id", "", "run id to tag requests with (default: random)")
	f.String("report-out", "", "write a report here at the end: .json, .md or .xml (JUnit)")
	f.String("out", "", "record every request to this result file (.usc) or directory, for synth report to merge")
	f.Bool("no-tui", false, "print plain progress lines instead of the dashboard")
	f.Duration("progress-interval", 2*time.Second, "how often to print a progress line")
	f.String("admin", "", `admin endpoint (snapshot, control, metrics, pprof), like 127.0.0.1:9091; "" = none; off loopback it needs --admin-token`)
	f.String("admin-token", "", "bearer token the admin endpoint requires (env SYNTH_ADMIN_TOKEN)")
	f.Bool("no-preflight", false, "skip the request that checks the target answers before the first journey")
	f.Int("runners", 1, "how many runners share the load: each runs rate/N and its share of feeder rows")
	f.Int("runner-index", -1, "this runner's index, 0 to runners-1 (default: $JOB_COMPLETION_INDEX)")
	cli.AddLogFlags(f)
	cli.AddPrintConfigFlag(cmd)
}

// loader loads config.
var loader = cli.Loader{Prefix: "SYNTH", Flags: flagKeys}

// loadConfig builds the effective config for cmd and validates it, each
// error naming its key and where its value came from.
func loadConfig(cmd *cobra.Command) (config, error) {
	var cfg config
	o, err := loader.Load(cmd, &cfg)
	if err != nil {
		return config{}, cli.ConfigError(err)
	}
	cfg.origins = o
	if err := cfg.validate(); err != nil {
		return config{}, cli.ConfigError(o.Explain(err))
	}
	return cfg, nil
}

// validate reports every bad field at once.
func (c config) validate() error {
	var errs []error
	if math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate: want 0 (the scenario's) or a positive rate, got %v", c.Rate))
	}
	if c.Duration < 0 {
		errs = append(errs, fmt.Errorf("duration: must not be negative, got %v", c.Duration))
	}
	if c.ProgressInterval <= 0 {
		errs = append(errs, fmt.Errorf("progress_interval: must be positive, got %v", c.ProgressInterval))
	}
	if c.ReportOut != "" {
		switch strings.ToLower(filepath.Ext(c.ReportOut)) {
		case ".json", ".md", ".xml":
			// Found now, not after the run with the report lost.
			if err := atomicfile.CheckWritable(c.ReportOut); err != nil {
				errs = append(errs, fmt.Errorf("report_out: the report could not be written: %w", err))
			}
		default:
			errs = append(errs, fmt.Errorf("report_out: %q: want a .json, .md or .xml file", c.ReportOut))
		}
	}
	if c.Out != "" && !strings.HasSuffix(c.Out, capture.FileSuffix) && !isDirPath(c.Out) {
		errs = append(errs, fmt.Errorf("out: %q: want a %s file or a directory", c.Out, capture.FileSuffix))
	}
	if c.Runners < 0 {
		errs = append(errs, fmt.Errorf("runners: want 1 or more, got %d", c.Runners))
	} else if _, err := c.share(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Log.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// resolved is c with its defaults filled in: what --print-config shows.
func (c config) resolved() config {
	c.Log = c.Log.Resolved(slog.LevelInfo)
	return c
}

// scenarioSettings is what --print-config shows of the scenario a run is
// given: its settings, defaults resolved; its journeys, feeders and
// webhooks are left out.
type scenarioSettings struct {
	File        string               `mapstructure:"file"`
	Name        string               `mapstructure:"name"`
	Target      string               `mapstructure:"target"`
	Rate        *scenarios.Rate      `mapstructure:"rate"`
	Stages      []scenarios.Stage    `mapstructure:"stages"`
	Duration    time.Duration        `mapstructure:"duration"`
	MaxInFlight int                  `mapstructure:"max_in_flight"`
	Ceiling     float64              `mapstructure:"ceiling"`
	Timeout     time.Duration        `mapstructure:"timeout"`
	Guardrails  scenarios.Guardrails `mapstructure:"guardrails"`
	Thresholds  scenarios.Thresholds `mapstructure:"thresholds"`
}

// printRunConfig writes the effective configuration of synth run and, when
// args names a scenario, that scenario's settings as a second YAML
// document, so the first still loads as a --config file.
func printRunConfig(w io.Writer, cfg config, args []string) error {
	if err := loader.WriteConfig(w, cfg.resolved()); err != nil {
		return err
	}
	if len(args) == 0 {
		return nil
	}
	sc, err := scenarios.Load(args[0])
	if err != nil {
		return cli.ConfigError(err)
	}
	d := sc.WithDefaults()
	fmt.Fprintf(w, "---\n# %s, defaults resolved; rate, duration and target above, when set, replace its own\n", args[0])
	return loader.WriteConfig(w, struct {
		Scenario scenarioSettings `mapstructure:"scenario"`
	}{scenarioSettings{
		File: args[0], Name: d.Name, Target: d.Target, Rate: d.Rate, Stages: d.Stages, Duration: d.Duration,
		MaxInFlight: d.MaxInFlight, Ceiling: d.Ceiling, Timeout: d.Timeout, Guardrails: d.Guardrails, Thresholds: d.Thresholds,
	}})
}

// jobIndexEnv is where a Kubernetes Indexed Job tells each pod its index.
const jobIndexEnv = "JOB_COMPLETION_INDEX"

// share returns this runner's share of the load.
func (c config) share() (scenarios.Share, error) {
	if c.Runners <= 1 {
		if c.RunnerIndex > 0 {
			return scenarios.Share{}, fmt.Errorf("runner_index: %d without runners: set runners too", c.RunnerIndex)
		}
		return scenarios.Share{}, nil
	}
	index := c.RunnerIndex
	if index < 0 {
		env, ok := os.LookupEnv(jobIndexEnv)
		if !ok {
			return scenarios.Share{}, fmt.Errorf("runner_index: required with runners %d (or $%s)", c.Runners, jobIndexEnv)
		}
		n, err := strconv.Atoi(env)
		if err != nil {
			return scenarios.Share{}, fmt.Errorf("$%s: want a number, got %q", jobIndexEnv, env)
		}
		index = n
	}
	if index >= c.Runners || index < 0 {
		return scenarios.Share{}, fmt.Errorf("runner_index: %d is not one of the %d runners (0 to %d)", index, c.Runners, c.Runners-1)
	}
	return scenarios.Share{Index: index, Count: c.Runners}, nil
}

// isDirPath reports whether p names a directory: an existing one, or a
// path ending in a separator.
func isDirPath(p string) bool {
	if strings.HasSuffix(p, string(filepath.Separator)) {
		return true
	}
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
