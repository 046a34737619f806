package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// answer is the small JSON body every upstream sends, typical of an API.
const answer = `{"id":42,"status":"shipped","items":[{"sku":"A-1","qty":2}]}`

// countPath answers with every server's request count instead of counting.
const countPath = "/__bench/count"

// listFlag collects a repeatable flag's values.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// config is what the command line asks for.
type config struct {
	serve, dead, variant listFlag
	addrs                string
	// tlsCert and tlsKey, when set, make every server speak HTTPS.
	tlsCert, tlsKey string
}

// upstream is one named server and its request count.
type upstream struct {
	name  string
	delay time.Duration
	ln    net.Listener
	count atomic.Uint64
	// other: this server answers bodyPath's other version (-variant).
	other  bool
	bodies bodies
}

// parseServe splits NAME=DELAY.
func parseServe(v string) (string, time.Duration, error) {
	name, d, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return "", 0, fmt.Errorf("-serve %q: want NAME=DELAY", v)
	}
	delay, err := time.ParseDuration(d)
	if err != nil || delay < 0 {
		return "", 0, fmt.Errorf("-serve %q: delay must be a non-negative Go duration such as 1ms", v)
	}
	return name, delay, nil
}

// run listens on every server, writes the address file and serves until
// ctx ends.
func run(ctx context.Context, cfg config) error {
	if len(cfg.serve) == 0 {
		return fmt.Errorf("no -serve given")
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return fmt.Errorf("-tls-cert and -tls-key go together")
	}
	scheme := "http://"
	if cfg.tlsCert != "" {
		scheme = "https://"
	}
	var ups []*upstream
	var lines []string
	defer func() {
		for _, u := range ups {
			u.ln.Close()
		}
	}()
	for _, v := range cfg.serve {
		name, delay, err := parseServe(v)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listen for %q: %w", name, err)
		}
		ups = append(ups, &upstream{name: name, delay: delay, ln: ln, other: slices.Contains(cfg.variant, name)})
		lines = append(lines, name+"="+scheme+ln.Addr().String())
	}
	for _, name := range cfg.dead {
		addr, err := deadAddr()
		if err != nil {
			return fmt.Errorf("dead address for %q: %w", name, err)
		}
		lines = append(lines, name+"=http://"+addr)
	}
	if err := writeAddrs(cfg.addrs, lines); err != nil {
		return err
	}

	counts := func(w http.ResponseWriter) {
		m := make(map[string]uint64, len(ups))
		for _, u := range ups {
			m[u.name] = u.count.Load()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
	}
	var wg sync.WaitGroup
	servers := make([]*http.Server, len(ups))
	errc := make(chan error, len(ups))
	for i, u := range ups {
		servers[i] = &http.Server{
			Handler:           u.handler(counts),
			ReadHeaderTimeout: 10 * time.Second,
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if cfg.tlsCert != "" {
				err = servers[i].ServeTLS(u.ln, cfg.tlsCert, cfg.tlsKey) // h2 by ALPN, as ListenAndServeTLS
			} else {
				err = servers[i].Serve(u.ln)
			}
			if err != nil && err != http.ErrServerClosed {
				errc <- fmt.Errorf("serve %q: %w", u.name, err)
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, s := range servers {
		if s.Shutdown(shutCtx) != nil {
			s.Close() // slow requests still sleeping: cut them
		}
	}
	wg.Wait()
	return err
}

// handler counts and answers after the delay; a client that goes away
// ends the wait.
func (u *upstream) handler(counts func(http.ResponseWriter)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == countPath {
			counts(w)
			return
		}
		u.count.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		if u.delay > 0 {
			t := time.NewTimer(u.delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == bodyPath {
			k, err := parseBodyQuery(r.URL.Query(), u.other)
			if err != nil {
				http.Error(w, bodyPath+": "+err.Error(), http.StatusBadRequest)
				return
			}
			_, _ = w.Write(u.bodies.get(k))
			return
		}
		_, _ = io.WriteString(w, answer)
	})
}

// deadAddr returns a loopback address where nothing listens: a port the
// kernel just handed out and that was closed again.
func deadAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// writeAddrs writes the NAME=URL lines to path, or to stdout when path is
// empty, whole or not at all.
func writeAddrs(path string, lines []string) error {
	text := strings.Join(lines, "\n") + "\n"
	if path == "" {
		_, err := io.WriteString(os.Stdout, text)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".addrs-*")
	if err != nil {
		return fmt.Errorf("write addresses %q: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.WriteString(tmp, text); err != nil {
		tmp.Close()
		return fmt.Errorf("write addresses %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write addresses %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write addresses %q: %w", path, err)
	}
	return nil
}
