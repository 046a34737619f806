//go:build unix

package capture

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used, all threads, so
// that benchmarks can report throughput per CPU second, which a machine
// shared with other work distorts far less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
