// Command rusage runs a command and writes what it used (a bench.Usage:
// user and system CPU time to the µs, wall time, peak resident set) as
// JSON, the way the harness measures the CPU a load generator spends
// (synth's and the vegeta CLI's) without the tick granularity of /proc.
//
//	rusage -out usage.json -- vegeta attack -rate 2000 -duration 3s
//
// Standard input, output and error are the command's; SIGINT and SIGTERM
// are passed on to it; rusage exits with its exit code.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/understudy-dev/understudy/bench"
)

func main() {
	out := flag.String("out", "", "file to write the usage to (required)")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: rusage -out FILE -- CMD [ARGS...]")
		os.Exit(2)
	}
	code, err := run(*out, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "rusage:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func run(out string, args []string) (int, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %q: %w", args[0], err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return 0, fmt.Errorf("wait for %q: %w", args[0], err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, fmt.Errorf("%q: no rusage on this system", args[0])
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec)*1e6 + float64(t.Usec) }
	u := bench.Usage{
		UserUs: tv(ru.Utime), SysUs: tv(ru.Stime), WallS: time.Since(began).Seconds(),
		MaxRSSKB: int64(ru.Maxrss), Exit: cmd.ProcessState.ExitCode(),
	}
	b, err := json.Marshal(u)
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		return 0, fmt.Errorf("write %q: %w", out, err)
	}
	return u.Exit, nil
}
