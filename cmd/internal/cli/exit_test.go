package cli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{Failed(errors.New("verdict fail")), ExitFail},
		{Aborted(errors.New("killed")), ExitAborted},
		{ConfigError(errors.New("bad")), ExitConfig},
		{Inconclusive(errors.New("nothing judged")), ExitInconclusive},
		{fmt.Errorf("wrapped: %w", Aborted(errors.New("x"))), ExitAborted},
		{errors.New(`unknown command "x"`), ExitConfig}, // cobra's own
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		if got := Code("shadow", tt.err, &stderr); got != tt.want {
			t.Errorf("Code(%v) = %d, want %d", tt.err, got, tt.want)
		}
		if tt.err != nil && !bytes.HasPrefix(stderr.Bytes(), []byte("shadow: ")) {
			t.Errorf("Code(%v) printed %q, want it prefixed with the binary", tt.err, stderr.String())
		}
		if tt.err != nil && !bytes.Contains(stderr.Bytes(), []byte(fmt.Sprintf("(exit %d: %s)", tt.want, CodeName(tt.want)))) {
			t.Errorf("Code(%v) printed %q, want it to name its exit", tt.err, stderr.String())
		}
	}
}
