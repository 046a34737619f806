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
	// mirror makes a pause, resume or kill act on the proxy's mirroring
	// (the shadow tab's): through the Controller's MirrorController when
	// it has one, else through the Controller, which is then the proxy's.
	mirror bool
}

// queued reports whether r runs in the control queue: every control but
// the load's kill, which skips it.
func (r controlReq) queued() bool { return r.act != actKill || r.mirror }

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
		case actPause, actResume, actKill:
			out.err = pauseResumeKill(c, r)
		case actSetRate:
			out.applied, out.err = c.SetRate(r.value)
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

// pauseResumeKill performs r's pause, resume or kill: on the proxy's
// mirroring through c's MirrorController when r is for mirroring and c
// has one, else through c.
func pauseResumeKill(c Controller, r controlReq) error {
	if mc, ok := c.(MirrorController); ok && r.mirror {
		switch r.act {
		case actPause:
			return mc.PauseMirroring()
		case actResume:
			return mc.ResumeMirroring()
		}
		return mc.StopMirroring()
	}
	switch r.act {
	case actPause:
		return c.Pause()
	case actResume:
		return c.Resume()
	}
	return c.Kill()
}

// rateStep returns how much one + or - changes the rate: the configured
// step, else a tenth of the ceiling, else a tenth of the starting rate,
// else 1/s. It does not depend on the current rate, so that a step down
// undoes a step up.
func rateStep(configured, ceiling, start float64) float64 {
	switch {
	case configured > 0:
		return configured
	case ceiling > 0:
		return ceiling / 10
	case start > 0:
		return start / 10
	}
	return 1
}

// nextRate returns the rate one step up (dir > 0) or down from current.
// The rates + and - reach are the rungs of a ladder through the starting
// rate, start plus or minus whole steps, so that - always leads back to
// where the run started; a rate off the ladder (set elsewhere, or by the
// pacer) moves to the next rung in the direction asked. Never above the
// ceiling (when there is one), and never down to zero, which some pacers
// read as "unlimited": going down stops at the lowest rung above zero, or
// at the current rate when that is already lower.
func nextRate(current, start, step, ceiling float64, dir int) float64 {
	const slack = 1e-9 // in steps: float error must not skip or repeat a rung
	k := (current - start) / step
	var r float64
	if dir > 0 {
		r = start + (math.Floor(k+slack)+1)*step
	} else {
		r = start + (math.Ceil(k-slack)-1)*step
		if r <= step*slack {
			lowest := start - math.Floor((start-step*slack)/step)*step
			r = math.Min(current, lowest)
		}
	}
	if ceiling > 0 {
		r = math.Min(r, ceiling)
	}
	// Keep a tidy number: steps of a tenth accumulate float error.
	return math.Round(r*1000) / 1000
}

// describe says what a successful control did, for the status bar.
func (c controlMsg) describe(ceiling float64) string {
	switch {
	case c.act == actPause && c.mirror:
		return "mirroring paused; the proxy keeps serving"
	case c.act == actResume && c.mirror:
		return "mirroring resumed"
	case c.act == actKill && c.mirror:
		return "mirroring stopped; the proxy keeps serving (p resumes)"
	}
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

// name names the control for error messages.
func (r controlReq) name() string {
	switch {
	case r.act == actPause && r.mirror:
		return "pause mirroring"
	case r.act == actResume && r.mirror:
		return "resume mirroring"
	case r.act == actKill && r.mirror:
		return "stop mirroring"
	}
	return r.act.String()
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
