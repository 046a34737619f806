// Command benchreport turns the raw directory bench/run.sh fills into the
// results file and BENCHMARKS.md, and answers the script's one question
// while it runs: did a ladder step keep up?
//
//	benchreport render -raw DIR -out bench/results/2026-01-02-quick.md -benchmarks BENCHMARKS.md
//	benchreport sustained -tool synth -rate 20000 FILE   # exit 0: kept up, 1: not
//	benchreport kept -target shadow -group 4000 FILE.jsonl  # the same for a loadgen cell
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/understudy-dev/understudy/bench"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchreport render|sustained|kept [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "render":
		err = render(os.Args[2:])
	case "sustained":
		var ok bool
		ok, err = sustained(os.Args[2:])
		if err == nil && !ok {
			os.Exit(1)
		}
	case "kept":
		var ok bool
		ok, err = kept(os.Args[2:])
		if err == nil && !ok {
			os.Exit(1)
		}
	default:
		err = fmt.Errorf("unknown command %q (want render, sustained or kept)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(2)
	}
}

func render(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	raw := fs.String("raw", "", "raw directory written by bench/run.sh")
	out := fs.String("out", "", "results file to write")
	benchmarks := fs.String("benchmarks", "", "BENCHMARKS.md to rewrite (optional)")
	root := fs.String("root", ".", "repository root, for the link from BENCHMARKS.md to the results file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *raw == "" || *out == "" {
		return fmt.Errorf("render: -raw and -out are required")
	}
	run, err := bench.Load(*raw)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := bench.WriteResults(&buf, run); err != nil {
		return err
	}
	if err := writeFile(*out, buf.Bytes()); err != nil {
		return err
	}
	if *benchmarks == "" {
		return nil
	}
	rel, err := filepath.Rel(*root, *out)
	if err != nil {
		return fmt.Errorf("results path %q relative to %q: %w", *out, *root, err)
	}
	buf.Reset()
	if err := bench.WriteBenchmarks(&buf, run, filepath.ToSlash(rel)); err != nil {
		return err
	}
	return writeFile(*benchmarks, buf.Bytes())
}

func sustained(args []string) (bool, error) {
	fs := flag.NewFlagSet("sustained", flag.ContinueOnError)
	tool := fs.String("tool", "", "synth or vegeta")
	rate := fs.Float64("rate", 0, "the step's intended rate per second")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	if fs.NArg() != 1 || *rate <= 0 {
		return false, fmt.Errorf("sustained: want -tool, -rate and one report file")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return false, err
	}
	step, err := bench.ParseStep(*tool, *rate, data)
	if err != nil {
		return false, fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	fmt.Printf("%s at %.0f/s: achieved %.0f/s, %.2f%% good, p50 %.0f µs, kept up: %v\n",
		strings.ToLower(*tool), *rate, step.Achieved, 100*step.Success, step.P50us, step.Sustained)
	return step.Sustained, nil
}

func kept(args []string) (bool, error) {
	fs := flag.NewFlagSet("kept", flag.ContinueOnError)
	target := fs.String("target", "", "target name in the records")
	group := fs.String("group", "", "group of the cell")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	if fs.NArg() != 1 || *target == "" || *group == "" {
		return false, fmt.Errorf("kept: want -target, -group and one loadgen output file")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return false, err
	}
	recs, err := bench.ParseLatency(data)
	if err != nil {
		return false, fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	ok, why := bench.KeptUp(recs, *target, *group)
	fmt.Printf("%s, kept up: %v\n", why, ok)
	return ok, nil
}

// writeFile writes data to path whole or not at all: a temp file beside
// it, then a rename.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".benchreport-*")
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	return nil
}
