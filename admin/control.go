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

// Action names one thing an operator asks of an instance through /control.
type Action string

// The actions /control knows, one per Controller method.
const (
	ActionPause  Action = "pause"
	ActionResume Action = "resume"
	ActionRate   Action = "rate"
	ActionStop   Action = "stop"
	ActionKill   Action = "kill"
)

const actionList = "pause, resume, rate, stop, kill"

// MaxControlBodyBytes bounds the body of a /control request; a command is a
// few dozen bytes.
const MaxControlBodyBytes = 16 << 10

// Command is one operator request to /control, decoded by DecodeCommand.
type Command struct {
	// Action is what to do.
	Action Action
	// Rate is the wanted journey starts per second, for ActionRate only.
	Rate float64
}

// commandJSON is a Command on the wire: {"action":"rate","rate":120}. Rate is
// a pointer so that the decoder can tell a missing rate from a zero one.
type commandJSON struct {
	Action Action   `json:"action"`
	Rate   *float64 `json:"rate,omitempty"`
}

// controlAnswer is what /control answers when the action succeeded. Rate is
// the applied rate, present for ActionRate only.
type controlAnswer struct {
	OK     bool     `json:"ok"`
	Action Action   `json:"action"`
	Rate   *float64 `json:"rate,omitempty"`
}

func (c Command) wire() commandJSON {
	w := commandJSON{Action: c.Action}
	if c.Action == ActionRate {
		rate := c.Rate
		w.Rate = &rate
	}
	return w
}

// Validate reports what makes c impossible to carry out, naming the field.
func (c Command) Validate() error {
	switch c.Action {
	case "":
		return fmt.Errorf(`missing "action": want one of %s`, actionList)
	case ActionPause, ActionResume, ActionStop, ActionKill:
		if c.Rate != 0 {
			return fmt.Errorf(`"rate" is only for action "rate", not %q`, c.Action)
		}
	case ActionRate:
		switch {
		case math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
			return fmt.Errorf(`"rate" %v is not a finite number`, c.Rate)
		case c.Rate < 0:
			return fmt.Errorf(`"rate" %v is negative: want journey starts per second, 0 or more`, c.Rate)
		}
	default:
		return fmt.Errorf(`unknown action %s: want one of %s`, quote(string(c.Action)), actionList)
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
	if w.Rate != nil {
		if w.Action != ActionRate {
			return Command{}, fmt.Errorf(`"rate" is only for action "rate", not %s`, quote(string(w.Action)))
		}
		cmd.Rate = *w.Rate
	} else if w.Action == ActionRate {
		return Command{}, errors.New(`action "rate" needs "rate", the journey starts per second: {"action":"rate","rate":120}`)
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
		return fmt.Errorf(`%s: want "action" and, with action "rate", "rate"`, strings.TrimPrefix(err.Error(), "json: "))
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
	if cmd.Action == ActionRate {
		log = log.With("rate", cmd.Rate, "applied", applied)
	}
	switch {
	case errors.Is(err, ErrUnsupported):
		log.Warn("admin control: action not supported")
		writeError(w, http.StatusNotImplemented, fmt.Sprintf("action %q: %v", cmd.Action, err))
	case err != nil:
		log.Warn("admin control: action failed", "err", err)
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("action %q failed: %v", cmd.Action, err))
	default:
		log.Info("admin control: action applied")
		answer := controlAnswer{OK: true, Action: cmd.Action}
		if cmd.Action == ActionRate {
			answer.Rate = &applied
		}
		writeJSON(w, http.StatusOK, answer)
	}
}

// apply calls the Controller method for cmd.
func (s *Server) apply(cmd Command) (applied float64, err error) {
	c := s.cfg.Control
	switch cmd.Action {
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
