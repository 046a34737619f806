package observe

import (
	"runtime"
	"time"
)

// DefaultJudgeWait is how long an exchange waits for a free judge when
// Config.JudgeWait is 0.
const DefaultJudgeWait = time.Second

// DefaultJudges is the number of exchanges judged at once when
// Config.Judges is 0: one less than GOMAXPROCS, at least one, so that
// judging leaves a core to the proxy.
func DefaultJudges() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// judges is a counting semaphore: a slot per exchange being judged.
type judges struct {
	slots chan struct{}
	wait  time.Duration
}

func newJudges(n int, wait time.Duration) judges {
	return judges{slots: make(chan struct{}, n), wait: wait}
}

// acquire takes a slot, waiting at most j.wait; false means every judge
// stayed busy. The uncontended path takes no timer.
func (j judges) acquire() bool {
	select {
	case j.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(j.wait)
	defer t.Stop()
	select {
	case j.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

func (j judges) release() { <-j.slots }
