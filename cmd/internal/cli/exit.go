package cli

import (
	"errors"
	"fmt"
	"io"
)

// Exit codes shared by every command of both binaries.
const (
	ExitOK      = 0
	ExitFail    = 1 // the run worked and its verdict is fail
	ExitAborted = 2 // the run could not be completed: aborted, killed, runtime error
	ExitConfig  = 3 // bad flags, configuration or input file
)

// ExitCodesHelp documents the exit codes for --help.
const ExitCodesHelp = `Exit codes:
  0  ok: the run passed
  1  the run completed and failed its verdict (assertions, thresholds, diffs)
  2  the run could not complete: aborted by a guardrail, killed, or a runtime error
  3  bad flags, configuration or input file`

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

// Code prints err (if any) as "binary: err" to stderr and returns the exit
// code it carries; errors without one (cobra's own: unknown command or
// flag, wrong argument count) are bad input.
func Code(binary string, err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", binary, err)
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitConfig
}
