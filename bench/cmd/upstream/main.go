// Command upstream serves the bench harness's upstreams on loopback: named
// HTTP servers that answer a small JSON body after a fixed delay (0 ms,
// 1 ms, 2 s...), plus "dead" addresses where nothing listens. Every server
// counts the requests it answered; GET /__bench/count on any of them
// returns all the counts as a JSON object, so the harness can tell how many
// copies a mirror actually delivered. GET /__bench/body answers generated
// JSON of a given size or number of fields (see bodyPath), and a server
// named with -variant answers a version of it that differs, as a
// candidate would.
//
//	upstream -serve primary=1ms -serve slow=2s -dead dead -addrs addrs.txt
//
// With -tls-cert and -tls-key every server speaks HTTPS instead (h2 and
// HTTP/1.1, chosen by ALPN) and its URL is https://.
//
// It writes one "name=http://127.0.0.1:PORT" line per server to -addrs
// (through a temp file and a rename, so a reader never sees half of it) and
// serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cfg config
	flag.Var(&cfg.serve, "serve", "NAME=DELAY: a server answering after DELAY (Go duration); repeatable")
	flag.Var(&cfg.dead, "dead", "NAME: an address where nothing listens (connection refused); repeatable")
	flag.Var(&cfg.variant, "variant", "NAME: this server answers the other version of "+bodyPath+" (a candidate that differs); repeatable")
	flag.StringVar(&cfg.addrs, "addrs", "", "file to write NAME=URL lines to once every server listens")
	flag.StringVar(&cfg.tlsCert, "tls-cert", "", "serve HTTPS (h2 and http/1.1 by ALPN) with this PEM certificate; needs -tls-key")
	flag.StringVar(&cfg.tlsKey, "tls-key", "", "the PEM key of -tls-cert")
	flag.Parse()
	if err := run(ctx, cfg); err != nil && !errors.Is(err, context.Canceled) {
		slog.Error("upstream", "err", err)
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
}
