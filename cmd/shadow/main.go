// Command shadow is a reverse proxy that serves live traffic from the primary,
// mirrors it to a candidate (and optionally a secondary copy of the primary),
// and diffs the answers. See README.md at the repository root.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(execute(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
