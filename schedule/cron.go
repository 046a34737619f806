package schedule

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser accepts standard five-field specs, an optional leading seconds
// field, and descriptors (@hourly, @every 15m).
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
	cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// compileCron parses a cron spec in time zone tz ("" means local). A
// CRON_TZ= (or TZ=) prefix in the spec must agree with tz when both are
// set.
func compileCron(spec, tz string) (sched cron.Schedule, err error) {
	fields := strings.Fields(spec)
	if len(fields) == 0 {
		return nil, errors.New("required")
	}
	if name, ok := tzPrefix(fields[0]); ok {
		if len(fields) == 1 {
			return nil, fmt.Errorf("%q: a schedule must follow the time zone", spec)
		}
		if _, err := loadLocation(name); err != nil {
			return nil, err
		}
		if tz != "" && tz != name {
			return nil, fmt.Errorf("%q: time zone %s disagrees with timezone %s", spec, name, tz)
		}
		tz, fields = name, fields[1:]
	}
	if tz != "" {
		if _, err := loadLocation(tz); err != nil {
			return nil, err
		}
		fields = append([]string{"CRON_TZ=" + tz}, fields...)
	}
	defer func() { // the parser is third-party; a panic on odd input must not end the daemon
		if p := recover(); p != nil {
			sched, err = nil, fmt.Errorf("%q: not a valid cron spec", spec)
		}
	}()
	sched, err = parser.Parse(strings.Join(fields, " "))
	if err != nil {
		return nil, fmt.Errorf("%q: %w (want five fields such as \"30 9 * * mon-fri\", six with seconds, or a descriptor such as \"@every 15m\")", spec, err)
	}
	return sched, nil
}

// zones returns the time zone compileCron needs for e's spec ("" when
// the spec's own CRON_TZ= prefix decides) and the zone of its runs and
// blackouts ("" means local): the entry's timezone, else the prefix, else
// the config's.
func (c Config) zones(e Entry) (cronTZ, zone string) {
	prefix, hasPrefix := tzPrefix(strings.TrimSpace(e.Cron))
	switch {
	case e.Timezone != "":
		return e.Timezone, e.Timezone
	case hasPrefix:
		return "", prefix
	}
	return c.Timezone, c.Timezone
}

// NextRun reports when entry e is next due after t, in the entry's time
// zone. The Config must be valid.
func (c Config) NextRun(e Entry, after time.Time) (time.Time, error) {
	cronTZ, zone := c.zones(e)
	sched, err := compileCron(e.Cron, cronTZ)
	if err != nil {
		return time.Time{}, fmt.Errorf("entry %s: cron %w", e.Name, err)
	}
	loc := time.Local
	if zone != "" {
		if loc, err = loadLocation(zone); err != nil {
			return time.Time{}, fmt.Errorf("entry %s: %w", e.Name, err)
		}
	}
	return sched.Next(after).In(loc), nil
}

// tzPrefix returns the zone of a spec's leading "CRON_TZ=zone" or
// "TZ=zone" field.
func tzPrefix(spec string) (string, bool) {
	field, _, _ := strings.Cut(spec, " ")
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if name, ok := strings.CutPrefix(field, p); ok {
			return name, true
		}
	}
	return "", false
}

// cronLogger sends the cron library's log to slog: its chatter at debug
// level, its errors (a recovered panic) at error level.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
