package schedule

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

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

// tzPrefix returns the zone of a "CRON_TZ=zone" or "TZ=zone" field.
func tzPrefix(field string) (string, bool) {
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
