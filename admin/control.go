package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"reflect"
	"strings"
)

// ErrUnsupported is what a Controller returns for an action its instance
// does not have (the proxy has no rate, say). /control answers it with 501,
// and Client.Control returns an error that wraps it.
var ErrUnsupported = errors.New("not supported by this instance")

// ErrInvalid is what a Controller returns, wrapped, when the action's
// argument is one the instance cannot take (a route it does not have, a
// share out of range). /control answers it with 400, so the caller knows
// to fix the request rather than retry.
var ErrInvalid = errors.New("invalid argument")

// Controller is what an operator can do to a running instance. Its methods
// are called from request goroutines, so they must be safe for concurrent
// use, and they should start the change and return promptly: the operator's
// request waits for them. An action the instance does not have returns
// ErrUnsupported.
type Controller interface {
	// Pause stops starting new work; work in flight finishes.
	Pause() error
	// Resume undoes Pause.
	Resume() error
	// SetRate asks for perSecond journey starts per second and returns the
	// rate applied, which the instance clamps to its configured ceiling.
	SetRate(perSecond float64) (applied float64, err error)
	// Stop ends the instance gracefully: no new work, work in flight drains.
	Stop() error
	// Kill ends the instance at once, abandoning work in flight.
	Kill() error
}

// Tuner is what a Controller also implements when its instance can be
// tuned while it runs, as the shadow proxy can: how much traffic it
// mirrors, and which routes. /control serves ActionSample and ActionRoute
// only for a Controller that is also a Tuner, and answers 501 otherwise.
// Like the Controller's, its methods are called from request goroutines
// and should return promptly.
type Tuner interface {
	// SetSamplePercent sets the share of eligible requests mirrored from
	// now on, in [0,100] (0 mirrors none).
	SetSamplePercent(percent float64) error
	// SetRouteDisabled turns mirroring off (disabled) or back on for the
	// route named name. An unknown name is an error.
	SetRouteDisabled(name string, disabled bool) error
}

// Action names one thing an operator asks of an instance through /control.
type Action string

// The actions /control knows, one per Controller or Tuner method.
const (
	ActionPause  Action = "pause"
	ActionResume Action = "resume"
	ActionRate   Action = "rate"
	ActionStop   Action = "stop"
	ActionKill   Action = "kill"
	// ActionSample sets the mirrored share: {"action":"sample","percent":25}.
	ActionSample Action = "sample"
	// ActionRoute turns a route's mirroring off or on:
	// {"action":"route","route":"create-order","disabled":true}.
	ActionRoute Action = "route"
)

const actionList = "pause, resume, rate, stop, kill, sample, route"

// MaxControlBodyBytes bounds the body of a /control request; a command is a
// few dozen bytes.
const MaxControlBodyBytes = 16 << 10

// Command is one operator request to /control, decoded by DecodeCommand.
// The zero value of a field that its Action does not use must stay zero.
type Command struct {
	// Action is what to do.
	Action Action
	// Rate is the wanted journey starts per second, for ActionRate only.
	Rate float64
	// Percent is the share of eligible requests to mirror, in [0,100],
	// for ActionSample only.
	Percent float64
	// Route names the route to turn off or on, for ActionRoute only.
	Route string
	// Disabled says whether Route stops being mirrored (true) or starts
	// again (false), for ActionRoute only.
	Disabled bool
}

// commandJSON is a Command on the wire: {"action":"rate","rate":120}. The
// arguments are pointers so that the decoder can tell a missing value from
// a zero one.
type commandJSON struct {
	Action   Action   `json:"action"`
	Rate     *float64 `json:"rate,omitempty"`
	Percent  *float64 `json:"percent,omitempty"`
	Route    *string  `json:"route,omitempty"`
	Disabled *bool    `json:"disabled,omitempty"`
}

// controlAnswer is what /control answers when the action succeeded: the
// command's arguments as applied. Rate is the applied rate, present for
// ActionRate only; Percent for ActionSample; Route and Disabled for
// ActionRoute.
type controlAnswer struct {
	OK       bool     `json:"ok"`
	Action   Action   `json:"action"`
	Rate     *float64 `json:"rate,omitempty"`
	Percent  *float64 `json:"percent,omitempty"`
	Route    *string  `json:"route,omitempty"`
	Disabled *bool    `json:"disabled,omitempty"`
}

func (c Command) wire() commandJSON {
	w := commandJSON{Action: c.Action}
	switch c.Action {
	case ActionRate:
		w.Rate = &c.Rate
	case ActionSample:
		w.Percent = &c.Percent
	case ActionRoute:
		w.Route, w.Disabled = &c.Route, &c.Disabled
	}
	return w
}

// Validate reports what makes c impossible to carry out, naming the field.
func (c Command) Validate() error {
	if err := c.unusedArguments(); err != nil {
		return err
	}
	switch c.Action {
	case "":
		return fmt.Errorf(`missing "action": want one of %s`, actionList)
	case ActionPause, ActionResume, ActionStop, ActionKill:
	case ActionRate:
		switch {
		case math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
			return fmt.Errorf(`"rate" %v is not a finite number`, c.Rate)
		case c.Rate < 0:
			return fmt.Errorf(`"rate" %v is negative: want journey starts per second, 0 or more`, c.Rate)
		}
	case ActionSample:
		if math.IsNaN(c.Percent) || c.Percent < 0 || c.Percent > 100 {
			return fmt.Errorf(`"percent" %v is out of range: want a share of requests from 0 to 100`, c.Percent)
		}
	case ActionRoute:
		if c.Route == "" {
			return errors.New(`action "route" needs "route", the route's name: {"action":"route","route":"create-order","disabled":true}`)
		}
	default:
		return fmt.Errorf(`unknown action %s: want one of %s`, quote(string(c.Action)), actionList)
	}
	return nil
}

// unusedArguments reports an argument set for an action that does not
// take it.
func (c Command) unusedArguments() error {
	for _, a := range []struct {
		name  string
		owner Action
		set   bool
	}{
		{"rate", ActionRate, c.Rate != 0},
		{"percent", ActionSample, c.Percent != 0},
		{"route", ActionRoute, c.Route != ""},
		{"disabled", ActionRoute, c.Disabled},
	} {
		if a.set && c.Action != a.owner {
			return fmt.Errorf(`%q is only for action %q, not %s`, a.name, a.owner, quote(string(c.Action)))
		}
	}
	return nil
}

// DecodeCommand reads one command from r, which holds exactly one JSON object
// like {"action":"rate","rate":120}. Its errors say what was wrong in words
// an operator can act on. It does not bound r; the caller does.
func DecodeCommand(r io.Reader) (Command, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var w commandJSON
	if err := dec.Decode(&w); err != nil {
		return Command{}, describeJSONError(err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil && !isJSONError(err) {
			return Command{}, fmt.Errorf("read command: %w", err)
		}
		return Command{}, fmt.Errorf("unexpected data after the JSON object, which ends at byte %d: send one command per request", end)
	}
	cmd := Command{Action: w.Action}
	for _, a := range []struct {
		name    string
		owner   Action
		present bool
		example string
	}{
		{"rate", ActionRate, w.Rate != nil, `"rate", the journey starts per second: {"action":"rate","rate":120}`},
		{"percent", ActionSample, w.Percent != nil, `"percent", the share of requests to mirror: {"action":"sample","percent":25}`},
		{"route", ActionRoute, w.Route != nil, `"route", the route's name: {"action":"route","route":"create-order","disabled":true}`},
		{"disabled", ActionRoute, w.Disabled != nil, `"disabled", true to stop mirroring the route or false to resume: {"action":"route","route":"create-order","disabled":true}`},
	} {
		switch {
		case a.present && w.Action != a.owner:
			return Command{}, fmt.Errorf(`%q is only for action %q, not %s`, a.name, a.owner, quote(string(w.Action)))
		case !a.present && w.Action == a.owner:
			return Command{}, fmt.Errorf(`action %q needs %s`, a.owner, a.example)
		}
	}
	if w.Rate != nil {
		cmd.Rate = *w.Rate
	}
	if w.Percent != nil {
		cmd.Percent = *w.Percent
	}
	if w.Route != nil {
		cmd.Route = *w.Route
	}
	if w.Disabled != nil {
		cmd.Disabled = *w.Disabled
	}
	if err := cmd.Validate(); err != nil {
		return Command{}, err
	}
	return cmd, nil
}

const commandExample = `{"action":"pause"}`

// describeJSONError turns what encoding/json says into what was wrong with
// the command. Errors that are not about JSON (reading, size) stay wrapped.
func describeJSONError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeError *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("empty body: want a JSON object like %s", commandExample)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated JSON: want a complete object like %s", commandExample)
	case errors.As(err, &syntax):
		return fmt.Errorf("invalid JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typeError):
		if typeError.Field == "" {
			return fmt.Errorf("want a JSON object like %s, got a JSON %s", commandExample, typeError.Value)
		}
		return fmt.Errorf("field %q: want %s, got a JSON %s", typeError.Field, kindName(typeError.Type), typeError.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf(`%s: want "action" and, with action "rate", "rate"; with "sample", "percent"; with "route", "route" and "disabled"`,
			strings.TrimPrefix(err.Error(), "json: "))
	}
	return fmt.Errorf("read command: %w", err)
}

func isJSONError(err error) bool {
	var syntax *json.SyntaxError
	return errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF)
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Float32, reflect.Float64:
		return "a number within float64 range"
	case reflect.Bool:
		return "true or false"
	case reflect.Pointer:
		return kindName(t.Elem())
	}
	return t.String()
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: /control takes POST")
		return
	}
	if s.cfg.Control == nil {
		writeError(w, http.StatusNotFound, "control is not enabled on this instance")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type "+
			quote(r.Header.Get("Content-Type"))+" not accepted: send the command as application/json")
		return
	}
	cmd, err := DecodeCommand(http.MaxBytesReader(w, r.Body, MaxControlBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", tooLarge.Limit))
			return
		}
		writeError(w, http.StatusBadRequest, "bad command: "+err.Error())
		return
	}

	applied, err := s.apply(cmd)
	log := s.log.With("remote", r.RemoteAddr, "action", string(cmd.Action))
	switch cmd.Action {
	case ActionRate:
		log = log.With("rate", cmd.Rate, "applied", applied)
	case ActionSample:
		log = log.With("percent", cmd.Percent)
	case ActionRoute:
		log = log.With("route", cmd.Route, "disabled", cmd.Disabled)
	}
	switch {
	case errors.Is(err, ErrUnsupported):
		log.Warn("admin control: action not supported")
		writeError(w, http.StatusNotImplemented, fmt.Sprintf("action %q: %v", cmd.Action, err))
	case errors.Is(err, ErrInvalid):
		log.Warn("admin control: action refused", "err", err)
		writeError(w, http.StatusBadRequest, fmt.Sprintf("action %q: %v", cmd.Action, err))
	case err != nil:
		log.Warn("admin control: action failed", "err", err)
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("action %q failed: %v", cmd.Action, err))
	default:
		log.Info("admin control: action applied")
		answer := controlAnswer{OK: true, Action: cmd.Action}
		switch cmd.Action {
		case ActionRate:
			answer.Rate = &applied
		case ActionSample:
			answer.Percent = &cmd.Percent
		case ActionRoute:
			answer.Route, answer.Disabled = &cmd.Route, &cmd.Disabled
		}
		writeJSON(w, http.StatusOK, answer)
	}
}

// apply calls the Controller or Tuner method for cmd. A tuning action on
// a Controller that is not a Tuner is ErrUnsupported.
func (s *Server) apply(cmd Command) (applied float64, err error) {
	c := s.cfg.Control
	tuner, canTune := c.(Tuner)
	switch cmd.Action {
	case ActionSample, ActionRoute:
		if !canTune {
			return 0, ErrUnsupported
		}
	}
	switch cmd.Action {
	case ActionSample:
		return 0, tuner.SetSamplePercent(cmd.Percent)
	case ActionRoute:
		return 0, tuner.SetRouteDisabled(cmd.Route, cmd.Disabled)
	case ActionPause:
		return 0, c.Pause()
	case ActionResume:
		return 0, c.Resume()
	case ActionRate:
		return c.SetRate(cmd.Rate)
	case ActionStop:
		return 0, c.Stop()
	case ActionKill:
		return 0, c.Kill()
	}
	return 0, fmt.Errorf("unknown action %q", cmd.Action) // DecodeCommand let it through: a bug
}
