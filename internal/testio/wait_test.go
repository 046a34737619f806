package testio

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fatalRecorder is a testing.TB that records Fatalf instead of stopping.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper()                           {}
func (r *fatalRecorder) Fatalf(format string, args ...any) { r.msg = fmt.Sprintf(format, args...) }

func TestEventually(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		start := time.Now()
		Eventually(t, "the third call", func() bool { return n.Add(1) == 3 })
		if n.Load() != 3 {
			t.Errorf("cond called %d times, want 3", n.Load())
		}
		if waited := time.Since(start); waited >= 10*time.Millisecond {
			t.Errorf("waited %v on the bubble's clock for a condition true on the third call", waited)
		}

		r := &fatalRecorder{TB: t}
		start = time.Now()
		Eventually(r, "never", func() bool { return false })
		if r.msg == "" || time.Since(start) < WaitTimeout {
			t.Errorf("a condition that never holds: failed %q after %v, want a failure after %v", r.msg, time.Since(start), WaitTimeout)
		}
	})
}

func TestBufferWaitFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b Buffer
		go func() {
			time.Sleep(time.Second)
			b.Write([]byte("listening on 127.0.0.1:1\n"))
		}()
		got := b.WaitFor(t, "the listening line", func(s string) bool { return strings.Contains(s, "listening") })
		if got != "listening on 127.0.0.1:1\n" {
			t.Errorf("WaitFor = %q", got)
		}
		r := &fatalRecorder{TB: t}
		b.WaitFor(r, "a line that never comes", func(s string) bool { return strings.Contains(s, "never") })
		if !strings.Contains(r.msg, "the output is") {
			t.Errorf("failure %q does not show the output", r.msg)
		}
	})
}
