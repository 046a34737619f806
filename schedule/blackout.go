package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// blackout is a compiled Blackout.
type blackout struct {
	days     [7]bool // by time.Weekday; all true when no days were given
	from, to int     // seconds since midnight; both -1 for whole days
	loc      *time.Location
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday,
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

// compileBlackout checks b and compiles it; def is the time zone used
// when b has none (nil means local). Each error starts with the bad
// field's name ("days[1]: ...").
func compileBlackout(b Blackout, def *time.Location) (blackout, []error) {
	var errs []error
	out := blackout{from: -1, to: -1, loc: def}
	if out.loc == nil {
		out.loc = time.Local
	}
	for i, d := range b.Days {
		wd, ok := weekdays[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			errs = append(errs, fmt.Errorf("days[%d]: %q is not a weekday (want mon ... sun)", i, d))
			continue
		}
		out.days[wd] = true
	}
	if len(b.Days) == 0 {
		out.days = [7]bool{true, true, true, true, true, true, true}
	}
	switch {
	case b.From == "" && b.To == "":
		if len(b.Days) == 0 {
			errs = append(errs, errors.New("days: a blackout needs days, or from and to (or both)"))
		}
	case b.From == "":
		errs = append(errs, errors.New("from: required with to"))
	case b.To == "":
		errs = append(errs, errors.New("to: required with from"))
	default:
		from, ferr := clock(b.From, false)
		if ferr != nil {
			errs = append(errs, fmt.Errorf("from: %w", ferr))
		}
		to, terr := clock(b.To, true)
		if terr != nil {
			errs = append(errs, fmt.Errorf("to: %w", terr))
		}
		out.from, out.to = from, to
		if ferr == nil && terr == nil && from == to {
			errs = append(errs, fmt.Errorf("to: %q equals from: the window would be empty", b.To))
		}
	}
	if b.Timezone != "" {
		loc, err := loadLocation(b.Timezone)
		if err != nil {
			errs = append(errs, fmt.Errorf("timezone: %w", err))
		}
		out.loc = loc
	}
	return out, errs
}

// clock parses "HH:MM" into seconds since midnight; "24:00" only when
// end is set.
func clock(s string, end bool) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, herr := strconv.Atoi(h)
	mm, merr := strconv.Atoi(m)
	switch {
	case !ok || herr != nil || merr != nil || len(h) == 0 || len(h) > 2 || len(m) != 2:
		return 0, fmt.Errorf("%q: want a time of day as HH:MM", s)
	case hh == 24 && mm == 0 && end:
		return 24 * 3600, nil
	case hh < 0 || hh > 23 || mm < 0 || mm > 59:
		return 0, fmt.Errorf("%q: want a time of day from 00:00 to 23:59", s)
	}
	return hh*3600 + mm*60, nil
}

// active reports whether t falls in the window.
func (b blackout) active(t time.Time) bool {
	t = t.In(b.loc)
	if b.from < 0 {
		return b.days[t.Weekday()]
	}
	h, m, s := t.Clock()
	sec := h*3600 + m*60 + s
	if b.from < b.to {
		return sec >= b.from && sec < b.to && b.days[t.Weekday()]
	}
	// Past midnight: the part after midnight belongs to the day before.
	switch {
	case sec >= b.from:
		return b.days[t.Weekday()]
	case sec < b.to:
		return b.days[(t.Weekday()+6)%7]
	}
	return false
}
