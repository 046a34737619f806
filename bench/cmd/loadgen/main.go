// Command loadgen is the harness's open-model load generator. It sends GETs
// at a fixed rate paced by vegeta's ConstantPacer, whether or not earlier
// requests have answered, and measures each latency from the request's
// intended send time (no coordinated omission). Given several targets it
// measures them in interleaved rounds (A B C A B C ...), each cell after a
// short warm-up, and writes one bench.LatencyRecord per cell as a JSON line.
//
//	loadgen -rate 1000 -duration 3s -rounds 5 -group 1ms \
//	    -target direct=http://127.0.0.1:8081 \
//	    -target shadow-fast=http://127.0.0.1:8090,admin=http://127.0.0.1:9090
//
// A target with an admin endpoint (shadow's) also gets the proxy's counter
// deltas over its window (and, with -poll, the deepest queue seen). A
// target with pids=PID:PID gets the CPU time those processes used from the
// start of its window until they are idle again (at most -settle after
// the last answer), read from /proc. spread=N sends the requests to N
// distinct endpoints in turn; beside=PATH@RATE sends a second, unmeasured
// load to PATH during the cell (the heavy requests of a few clients beside
// the light load measured). Every cell is bounded: -duration of sends,
// then at most -timeout for the last answers and -settle for the
// processes to go idle.
//
// https:// targets are trusted with -ca; proto=h1 speaks HTTP/1.1 over TLS
// to them, proto=h2 HTTP/2 (by ALPN), as a browser or gRPC client would.
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cfg config
	var targets listFlag
	flag.Var(&targets, "target", targetSyntax+": a target to measure; repeatable, measured in this order each round")
	flag.Float64Var(&cfg.rate, "rate", 1000, "requests per second")
	flag.DurationVar(&cfg.duration, "duration", 3*time.Second, "measured window per cell")
	flag.DurationVar(&cfg.warmup, "warmup", 250*time.Millisecond, "unmeasured load before each cell's window")
	flag.IntVar(&cfg.rounds, "rounds", 1, "rounds over all targets")
	flag.StringVar(&cfg.group, "group", "", "group label written in every record (e.g. the upstream's delay)")
	flag.StringVar(&cfg.path, "path", "/orders/42", "path and query appended to each target URL")
	flag.IntVar(&cfg.maxInFlight, "max-in-flight", 5000, "requests allowed to wait at once; sends beyond are skipped and counted")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "per-request timeout")
	flag.DurationVar(&cfg.pollEach, "poll", 0, "poll an admin target's queue depth this often during the window (0: only before and after)")
	flag.DurationVar(&cfg.settle, "settle", 0, "after a window, wait up to this long for the pids of a target to go idle before reading their CPU time")
	ca := flag.String("ca", "", "PEM CAs trusted for https:// targets instead of the system's (a private CA)")
	out := flag.String("out", "", "append records to this file (default stdout)")
	flag.Parse()
	if *ca != "" {
		pem, err := os.ReadFile(*ca)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen: -ca:", err)
			os.Exit(1)
		}
		cfg.roots = x509.NewCertPool()
		if !cfg.roots.AppendCertsFromPEM(pem) {
			fmt.Fprintf(os.Stderr, "loadgen: -ca %s: no PEM certificate in it\n", *ca)
			os.Exit(1)
		}
	}

	if err := run(ctx, cfg, targets, *out); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, specs []string, outPath string) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if len(specs) == 0 {
		return fmt.Errorf("no -target given")
	}
	targets := make([]target, len(specs))
	for i, s := range specs {
		t, err := parseTarget(s)
		if err != nil {
			return err
		}
		targets[i] = t
	}
	var w io.Writer = os.Stdout
	if outPath != "" {
		f, err := os.OpenFile(outPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("open output %q: %w", outPath, err)
		}
		defer f.Close()
		w = f
	}
	enc := json.NewEncoder(w)
	for round := 1; round <= cfg.rounds; round++ {
		for _, t := range targets {
			rec, err := measure(ctx, cfg, t)
			if err != nil {
				return fmt.Errorf("round %d, target %q: %w", round, t.name, err)
			}
			rec.Round = round
			if err := enc.Encode(rec); err != nil {
				return fmt.Errorf("write record: %w", err)
			}
			fmt.Fprintf(os.Stderr, "loadgen: %s %-12s round %d: p50 %6.0fµs p99 %7.0fµs max %8.0fµs, %d sent, %d errors, %d skipped\n",
				rec.Group, t.name, round, rec.P50us, rec.P99us, rec.MaxUs, rec.Sent, rec.Errors, rec.Skipped)
		}
	}
	return nil
}
