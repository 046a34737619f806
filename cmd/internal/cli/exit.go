package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes shared by every command of both binaries.
const (
	ExitOK           = 0
	ExitFail         = 1 // the run worked and its verdict is fail: a real regression
	ExitAborted      = 2 // the run could not be completed: aborted, killed, runtime error
	ExitConfig       = 3 // bad flags, configuration or input file
	ExitInconclusive = 4 // the run worked but decided nothing: too little judged, candidate unreachable, empty input
)

// ExitCodesHelp documents the exit codes for --help; README's table says
// the same.
const ExitCodesHelp = `Exit codes:
  0  pass: the run completed and its verdict is pass
  1  fail: the run completed and found a real regression (diffs, candidate
     errors or latency beyond the rule; failed assertions or thresholds)
  2  could not complete: aborted by a guardrail, killed, or a runtime error
     (a report that could not be written, a listener that could not start)
  3  bad input: bad flags, configuration or input file
  4  inconclusive: the run completed but decided nothing: no endpoint had
     enough pairs, the candidate was unreachable for most copies, or the
     input held no records`

// ExitError carries an exit code out of a cobra command.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ConfigError marks err as bad input: exit code 3.
func ConfigError(err error) error { return &ExitError{Code: ExitConfig, Err: err} }

// Aborted marks err as a run that could not complete: exit code 2.
func Aborted(err error) error { return &ExitError{Code: ExitAborted, Err: err} }

// Failed marks err as a failed verdict: exit code 1.
func Failed(err error) error { return &ExitError{Code: ExitFail, Err: err} }

// Inconclusive marks err as a run that decided nothing: exit code 4.
func Inconclusive(err error) error { return &ExitError{Code: ExitInconclusive, Err: err} }

// CodeName names an exit code as ExitCodesHelp does ("fail",
// "inconclusive"), for messages that say which one they are.
func CodeName(code int) string {
	switch code {
	case ExitOK:
		return "pass"
	case ExitFail:
		return "fail"
	case ExitAborted:
		return "could not complete"
	case ExitConfig:
		return "bad input"
	case ExitInconclusive:
		return "inconclusive"
	}
	return fmt.Sprintf("exit %d", code)
}

// Code prints err (if any) as "binary: err (exit N: name)" to stderr and
// returns the exit code it carries; errors without one (cobra's own:
// unknown command or flag, wrong argument count) are bad input. A message
// that names its exit already ("verdict fail (exit 1): ...") is printed
// as it is.
func Code(binary string, err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	code := ExitConfig
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
	}
	msg := err.Error()
	if !strings.Contains(msg, "(exit ") {
		// Every message says which exit it is, as ExitCodesHelp names them.
		msg += fmt.Sprintf(" (exit %d: %s)", code, CodeName(code))
	}
	fmt.Fprintf(stderr, "%s: %s\n", binary, msg)
	return code
}
