// Command synth runs synthetic transactions: tagged fake-order journeys at
// a controlled rate against a live service, with assertions, guardrails
// and a kill switch. See README.md at the repository root.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The first interrupt stops a run gracefully, the second kills it, so
	// signals arrive on a channel rather than cancelling a context.
	interrupts := make(chan os.Signal, 2)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	os.Exit(execute(context.Background(), os.Args[1:], os.Stdout, os.Stderr, interrupts))
}
