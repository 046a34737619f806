package main

import (
	"runtime"
	"syscall"
	"time"
)

// prSetTimerSlack is prctl's PR_SET_TIMERSLACK.
const prSetTimerSlack = 29

// lockPacer pins the pacing goroutine to its thread and narrows that
// thread's timer slack to 10µs, so that sleepUntil wakes close to the due
// time: the Go runtime's own timers wake on a 1 ms grid on Linux, which at
// 1,000 req/s would add up to a millisecond of the generator's own lateness
// to every measured latency. The returned function undoes the pin.
func lockPacer() (unlock func()) {
	runtime.LockOSThread()
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 10_000, 0)
	return runtime.UnlockOSThread
}

// sleepFor sleeps d with nanosleep(2) on the current thread.
func sleepFor(d time.Duration) {
	if d <= 0 {
		return
	}
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
