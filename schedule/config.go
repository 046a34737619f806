package schedule

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"time"
	_ "time/tzdata" // time zones resolve in minimal containers without /usr/share/zoneinfo

	"go.yaml.in/yaml/v3"

	"github.com/understudy-dev/understudy/notify"
	"github.com/understudy-dev/understudy/scenarios"
)

// Defaults and limits applied to a Config.
const (
	// DefaultHistorySize is how many runs the history keeps when
	// HistorySize is 0.
	DefaultHistorySize = 100
	// MaxHistorySize bounds HistorySize.
	MaxHistorySize = 10000
	// DefaultRetryDelay is the wait before a retry when RetryDelay is 0.
	DefaultRetryDelay = 30 * time.Second
	// MaxRetry bounds Entry.Retry.
	MaxRetry = 5
)

// Config is a schedule of synthetic load: which scenarios run when, and
// where the scheduler keeps its history and results. Its fields mirror the
// YAML file; zero values take the defaults documented on each field.
type Config struct {
	// Entries are the scheduled scenarios. At least one.
	Entries []Entry `yaml:"entries"`
	// Timezone is the default IANA time zone ("Europe/Berlin") of every
	// entry's cron spec and blackouts. Empty means the local time zone
	// ($TZ, else the system's).
	Timezone string `yaml:"timezone"`
	// HistoryFile is the JSON file the history is kept in, read at start
	// and rewritten (atomically, mode 0600) after every run. Empty means
	// the history lives in memory only.
	HistoryFile string `yaml:"history_file"`
	// HistorySize is how many runs the history keeps, newest last. Zero
	// means DefaultHistorySize; at most MaxHistorySize.
	HistorySize int `yaml:"history_size"`
	// ResultDir is the directory each attempt's result is written to as
	// JSON (scenarios.WriteReportFile), named after its run id; New creates
	// it (mode 0700) if need be. Empty means results are not written.
	ResultDir string `yaml:"result_dir"`
	// Notify posts each run's summary to webhooks once it has ended (its
	// retries included), besides those its scenario file names.
	Notify []notify.Target `yaml:"notify"`
}

// Entry is one scenario on one schedule.
type Entry struct {
	// Name identifies the entry in logs, metrics, history and result file
	// names: letters, digits, '.', '_' and '-'. Required, unique.
	Name string `yaml:"name"`
	// Scenario is the scenario file (YAML), loaded afresh for every run so
	// edits take effect at the next one. Required. Two entries may share a
	// file; the scheduler never runs one file twice at once.
	Scenario string `yaml:"scenario"`
	// Cron says when the scenario starts: five fields ("30 9 * * mon-fri"),
	// six with a leading seconds field, a descriptor ("@hourly",
	// "@every 15m"), optionally prefixed with "CRON_TZ=Europe/Berlin ".
	// Required.
	Cron string `yaml:"cron"`
	// Timezone is the IANA time zone of Cron and of blackouts without
	// their own. Empty means Config.Timezone. A CRON_TZ prefix in Cron
	// must agree with it.
	Timezone string `yaml:"timezone"`
	// Rate, when above 0, replaces the scenario's rate with this constant
	// rate (journeys per second), clamped to the scenario's ceiling.
	Rate float64 `yaml:"rate"`
	// Duration, when above 0, replaces the scenario's duration.
	Duration time.Duration `yaml:"duration"`
	// Blackouts are windows in which the scenario must not run: a start
	// due in one is skipped, and a run still going when one begins is
	// stopped gracefully.
	Blackouts []Blackout `yaml:"blackouts"`
	// Retry is how many more attempts a failed run gets (immediately
	// after RetryDelay) before it counts as failed. Zero means 1; negative
	// means none; at most MaxRetry. Runs a guardrail aborted are not
	// retried: their target is in trouble.
	Retry int `yaml:"retry"`
	// RetryDelay is the wait before a retry. Zero means DefaultRetryDelay.
	RetryDelay time.Duration `yaml:"retry_delay"`
	// Enabled turns the entry on or off. Nil means on.
	Enabled *bool `yaml:"enabled"`
}

// Blackout is a window in which a scenario must not run: on Days, between
// From and To. Days alone black out whole days; From and To alone black
// out that time every day. A window whose To is not after its From runs
// past midnight, and belongs to the day it starts on.
type Blackout struct {
	// Days are weekdays: "mon" ... "sun" or full names, any case. Empty
	// means every day.
	Days []string `yaml:"days"`
	// From and To are wall-clock times "HH:MM" (To may be "24:00"); the
	// window holds from From up to, not including, To. Both or neither.
	From string `yaml:"from"`
	To   string `yaml:"to"`
	// Timezone is the IANA time zone of From, To and Days. Empty means the
	// entry's.
	Timezone string `yaml:"timezone"`
}

// IsEnabled reports whether the entry is scheduled.
func (e Entry) IsEnabled() bool { return e.Enabled == nil || *e.Enabled }

// retries returns how many retries a failed run gets.
func (e Entry) retries() int {
	switch {
	case e.Retry == 0:
		return 1
	case e.Retry < 0:
		return 0
	}
	return e.Retry
}

func (e Entry) retryDelay() time.Duration {
	if e.RetryDelay == 0 {
		return DefaultRetryDelay
	}
	return e.RetryDelay
}

func (c Config) historySize() int {
	if c.HistorySize == 0 {
		return DefaultHistorySize
	}
	return c.HistorySize
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Validate reports every bad field of c, each named by its YAML path
// ("entries[1].cron"), joined in one error. It reads no files: scenario
// files are checked by CheckScenarios, directories by New.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if len(c.Entries) == 0 {
		bad("entries", "at least one entry is required")
	}
	if c.Timezone != "" {
		if _, err := loadLocation(c.Timezone); err != nil {
			errs = append(errs, fmt.Errorf("timezone: %w", err))
		}
	}
	for i, t := range c.Notify {
		for _, p := range t.Check() {
			bad(fmt.Sprintf("notify[%d].%s", i, p.Key), "%s", p.Msg)
		}
	}
	if c.HistorySize < 0 || c.HistorySize > MaxHistorySize {
		bad("history_size", "%d is out of range; want 0 (%d) to %d", c.HistorySize, DefaultHistorySize, MaxHistorySize)
	}
	names := map[string]int{}
	for i, e := range c.Entries {
		field := fmt.Sprintf("entries[%d]", i)
		switch {
		case e.Name == "":
			bad(field+".name", "required")
		case !namePattern.MatchString(e.Name):
			bad(field+".name", "%q: use letters, digits, '.', '_' and '-' only", e.Name)
		default:
			if j, dup := names[e.Name]; dup {
				bad(field+".name", "%q is also the name of entries[%d]", e.Name, j)
			} else {
				names[e.Name] = i
			}
		}
		if e.Scenario == "" {
			bad(field+".scenario", "required")
		}
		cronTZ, _ := c.zones(e)
		if _, err := compileCron(e.Cron, cronTZ); err != nil {
			errs = append(errs, fmt.Errorf("%s.cron: %w", field, err))
		}
		if e.Timezone != "" {
			if _, err := loadLocation(e.Timezone); err != nil {
				errs = append(errs, fmt.Errorf("%s.timezone: %w", field, err))
			}
		}
		if math.IsNaN(e.Rate) || math.IsInf(e.Rate, 0) || e.Rate < 0 {
			bad(field+".rate", "%v: want 0 (the scenario's) or more", e.Rate)
		}
		if e.Duration < 0 {
			bad(field+".duration", "%v is negative: want 0 (the scenario's) or more", e.Duration)
		}
		if e.Retry > MaxRetry {
			bad(field+".retry", "%d is above %d", e.Retry, MaxRetry)
		}
		if e.RetryDelay < 0 {
			bad(field+".retry_delay", "%v is negative: want 0 (%v) or more", e.RetryDelay, DefaultRetryDelay)
		}
		for j, b := range e.Blackouts {
			_, berrs := compileBlackout(b, nil)
			for _, err := range berrs {
				errs = append(errs, fmt.Errorf("%s.blackouts[%d].%w", field, j, err))
			}
		}
	}
	return errors.Join(errs...)
}

// ParseConfig decodes a YAML schedule and validates it. Unknown fields are
// errors. name is used in error messages. Relative paths are kept as they
// are; see LoadConfig.
func ParseConfig(name string, data []byte) (*Config, error) {
	c, err := decodeConfig(name, data)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("schedule %q: %w", name, err)
	}
	return c, nil
}

// LoadConfig reads and validates a YAML schedule file. Relative scenario,
// history and result paths are taken from the file's directory, so the
// schedule works from any working directory.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schedule: %w", err)
	}
	c, err := decodeConfig(path, data)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.HistoryFile, c.ResultDir = rel(c.HistoryFile), rel(c.ResultDir)
	for i := range c.Entries {
		c.Entries[i].Scenario = rel(c.Entries[i].Scenario)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("schedule %q: %w", path, err)
	}
	return c, nil
}

// decodeConfig decodes YAML strictly: unknown fields and a second
// document are errors; an empty document is an empty Config.
func decodeConfig(name string, data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse schedule %q: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse schedule %q: want one YAML document", name)
	}
	return &c, nil
}

// CheckScenarios loads the scenario file of every enabled entry and
// reports every one that is missing or invalid, named by entry, in one
// error. Run it before starting a long-lived scheduler: a bad file is
// otherwise only found when its first run is due.
func CheckScenarios(c Config) error {
	var errs []error
	for i, e := range c.Entries {
		if !e.IsEnabled() {
			continue
		}
		if _, err := scenarios.Load(e.Scenario); err != nil {
			errs = append(errs, fmt.Errorf("entries[%d].scenario (%s): %w", i, e.Name, err))
		}
	}
	return errors.Join(errs...)
}

// loadLocation resolves an IANA time zone name. "Local" is refused: it
// is what an empty name means already, and in a config file it would
// depend on the machine.
func loadLocation(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, errors.New(`"Local": leave the time zone empty for the local one`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (want an IANA name such as Europe/Berlin)", name)
	}
	return loc, nil
}
