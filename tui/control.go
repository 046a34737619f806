package tui

import (
	"errors"
	"fmt"
	"math"

	tea "github.com/charmbracelet/bubbletea"
)

// action is one thing the dashboard asks the Controller (or its Tuner)
// to do.
type action int

// The Controller's and the Tuner's actions.
const (
	actPause action = iota
	actResume
	actSetRate
	actKill
	actSample
	actRoute
)

// controlReq is one control to perform: the action and its arguments.
type controlReq struct {
	act action
	// value is the rate asked for (actSetRate) or the sample share
	// (actSample); from is the sample share it replaces (actSample).
	value, from float64
	// route and disabled say which route to switch, and how (actRoute).
	route    string
	disabled bool
}

// controlMsg carries the outcome of one Controller call.
type controlMsg struct {
	controlReq
	applied float64 // the rate the instance applied (actSetRate)
	err     error
}

// control returns a command that performs r on c in the background, so a
// slow remote instance never blocks the dashboard. A panicking Controller
// is reported as an error. A tuning action on a Controller that is not a
// Tuner fails; the keys check first, so that is a bug.
func control(c Controller, r controlReq) tea.Cmd {
	return func() (msg tea.Msg) {
		out := controlMsg{controlReq: r}
		defer func() {
			if p := recover(); p != nil {
				out.err = fmt.Errorf("controller panicked: %v", p)
				msg = out
			}
		}()
		tuner, canTune := c.(Tuner)
		switch r.act {
		case actPause:
			out.err = c.Pause()
		case actResume:
			out.err = c.Resume()
		case actSetRate:
			out.applied, out.err = c.SetRate(r.value)
		case actKill:
			out.err = c.Kill()
		case actSample, actRoute:
			switch {
			case !canTune:
				out.err = errors.New("this dashboard's controller cannot tune the proxy")
			case r.act == actSample:
				out.err = tuner.SetSamplePercent(r.value)
			default:
				out.err = tuner.SetRouteDisabled(r.route, r.disabled)
			}
		}
		return out
	}
}

// rateStep returns how much one + or - changes the rate: the configured
// step, else a tenth of the ceiling, else a tenth of the current target,
// else 1/s.
func rateStep(configured, ceiling, target float64) float64 {
	switch {
	case configured > 0:
		return configured
	case ceiling > 0:
		return ceiling / 10
	case target > 0:
		return target / 10
	}
	return 1
}

// nextRate returns the rate one step up (dir > 0) or down from current:
// never above the ceiling (when there is one), and never down to zero,
// which some pacers read as "unlimited": going down stops at one step, or
// at the current rate when that is already lower.
func nextRate(current, step, ceiling float64, dir int) float64 {
	var r float64
	if dir > 0 {
		r = current + step
	} else {
		r = math.Max(current-step, math.Min(current, step))
	}
	if ceiling > 0 {
		r = math.Min(r, ceiling)
	}
	// Keep a tidy number: steps of a tenth accumulate float error.
	return math.Round(r*1000) / 1000
}

// describe says what a successful control did, for the status bar.
func (c controlMsg) describe(ceiling float64) string {
	switch c.act {
	case actPause:
		return "paused"
	case actResume:
		return "resumed"
	case actKill:
		return "kill sent"
	case actSample:
		return "sample set to " + fmtPercent(c.value) + " (was " + fmtPercent(c.from) + ")"
	case actRoute:
		if c.disabled {
			return "route " + c.route + " switched off: not mirrored"
		}
		return "route " + c.route + " switched on: mirrored again"
	}
	s := "rate set to " + fmtRate(c.applied) + "/s"
	if c.applied != c.value {
		s += " (asked " + fmtRate(c.value) + "/s)"
	}
	if ceiling > 0 && c.applied >= ceiling {
		s += " · at ceiling"
	}
	return s
}

// String names the action for error messages.
func (a action) String() string {
	switch a {
	case actPause:
		return "pause"
	case actResume:
		return "resume"
	case actSetRate:
		return "set rate"
	case actKill:
		return "kill"
	case actSample:
		return "set sample"
	case actRoute:
		return "switch route"
	}
	return "unknown action"
}
