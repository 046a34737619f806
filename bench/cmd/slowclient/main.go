// Command slowclient opens many connections that upload slowly, the way a
// crowd of clients on bad networks does, and watches how much memory the
// proxy in front of the upstream holds meanwhile. It writes one
// bench.UploadRecord as a JSON line.
//
//	slowclient -url http://127.0.0.1:8080/upload -conns 800 -body 1048576 \
//	    -duration 6s -mode body -watch PID -metrics http://127.0.0.1:9090/metrics \
//	    -target shadow -out uploads.jsonl
//
// In -mode body each connection sends its request headers, then its body
// in even slices over -duration, then reads the answer. In -mode hold each
// sends its headers and one byte of the body, then nothing until
// -duration ends, and closes. The connections open over the first tenth
// of -duration. Everything is bounded: -conns connections, -duration of
// sending, then at most -answer-timeout for the answers.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cfg config
	flag.StringVar(&cfg.url, "url", "", "http://HOST:PORT/PATH to POST to")
	flag.IntVar(&cfg.conns, "conns", 800, "connections")
	flag.Int64Var(&cfg.body, "body", 1<<20, "Content-Length of each upload")
	flag.DurationVar(&cfg.duration, "duration", 6*time.Second, "how long the uploads take")
	flag.StringVar(&cfg.mode, "mode", "body", "body (send the whole body slowly) or hold (headers and one byte, then wait)")
	flag.DurationVar(&cfg.answerTimeout, "answer-timeout", 10*time.Second, "how long to wait for each answer after the body")
	flag.IntVar(&cfg.watch, "watch", 0, "process id whose memory and CPU to measure (required)")
	flag.StringVar(&cfg.metrics, "metrics", "", "the target's Prometheus /metrics URL, to sample its Go heap in use (optional)")
	flag.StringVar(&cfg.target, "target", "", "name of the target, written in the record")
	flag.IntVar(&cfg.round, "round", 1, "round number, written in the record")
	out := flag.String("out", "", "append the record to this file (default stdout)")
	flag.Parse()
	if err := run(ctx, cfg, *out); err != nil {
		fmt.Fprintln(os.Stderr, "slowclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, outPath string) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	rec, err := upload(ctx, cfg)
	if err != nil {
		return err
	}
	w := os.Stdout
	if outPath != "" {
		f, err := os.OpenFile(outPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("open output %q: %w", outPath, err)
		}
		defer f.Close()
		w = f
	}
	fmt.Fprintf(os.Stderr, "slowclient: %s %s: %d conns, %d answered, %d failed; RSS idle %d kB, peak %d kB, end %d kB\n",
		rec.Target, rec.Mode, rec.Opened, rec.Answered, rec.Failed, rec.IdleKB, rec.PeakKB, rec.EndKB)
	return json.NewEncoder(w).Encode(rec)
}
