package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on every Linux the harness runs on).
const clockTick = 10 * time.Millisecond

// ProcessCPU is the CPU time a process has used since it started, as
// /proc reports it.
type ProcessCPU struct {
	// Stat is utime+stime from /proc/PID/stat: every thread's, including
	// threads that have ended, in clock ticks (10 ms steps).
	Stat time.Duration
	// Sched is the sum of the threads' run time from
	// /proc/PID/task/*/schedstat, in ns: precise, but it misses threads
	// that have ended. 0 when unavailable.
	Sched time.Duration
}

// ReadCPU reads the CPU time process pid has used so far.
func ReadCPU(pid int) (ProcessCPU, error) {
	var c ProcessCPU
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return c, fmt.Errorf("cpu of pid %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces and parentheses: the
	// fields that follow start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return c, fmt.Errorf("cpu of pid %d: /proc/%d/stat has no command name", pid, pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return c, fmt.Errorf("cpu of pid %d: /proc/%d/stat has %d fields, want at least 15", pid, pid, len(f)+2)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return c, fmt.Errorf("cpu of pid %d: utime %q, stime %q are not numbers", pid, f[11], f[12])
	}
	c.Stat = time.Duration(ut+st) * clockTick
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended since the glob
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			if ns, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				c.Sched += time.Duration(ns)
			}
		}
	}
	return c, nil
}

// ReadCPUs adds up ReadCPU over pids.
func ReadCPUs(pids []int) (ProcessCPU, error) {
	var sum ProcessCPU
	for _, p := range pids {
		c, err := ReadCPU(p)
		if err != nil {
			return sum, err
		}
		sum.Stat += c.Stat
		sum.Sched += c.Sched
	}
	return sum, nil
}

// Used is the CPU time spent between c and later. It takes the
// schedstat sum, precise to the ns, unless it lags the tick count by more
// than two ticks per process (threads ended in between, whose time only
// /proc/PID/stat keeps), and the tick count then.
func (c ProcessCPU) Used(later ProcessCPU, procs int) time.Duration {
	stat, sched := later.Stat-c.Stat, later.Sched-c.Sched
	if c.Sched == 0 || later.Sched == 0 || sched < stat-time.Duration(2*max(procs, 1))*clockTick {
		return stat
	}
	return sched
}

// ReadRSS returns VmRSS and VmHWM (the peak resident set since the
// process started) of pid, in kB.
func ReadRSS(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("memory of pid %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("memory of pid %d: %s %q: %w", pid, k, v, err)
		}
		if k == "VmRSS" {
			rss = n
		} else {
			hwm = n
		}
	}
	return rss, hwm, nil
}
