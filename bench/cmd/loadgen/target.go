package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/bench"
)

// listFlag collects a repeatable flag's values.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// target is one path under test.
type target struct {
	name, url string
	// admin is shadow's admin base URL; "" when the target has none.
	admin string
	// group, when set, replaces -group in this target's records.
	group string
	// path, when set, replaces -path for this target.
	path string
	// pids are the processes whose CPU time is measured over each window;
	// none means CPU is not measured.
	pids []int
	// spread, when positive, sends request n to one of spread distinct
	// endpoints (see spreadPath) followed by the path.
	spread int
	// beside, when set, is a second, unmeasured load to this target's
	// besidePath at besideRate per second during every cell.
	besidePath string
	besideRate float64
	// proto is how an https:// target is spoken to: "h1" (HTTP/1.1 over
	// TLS, h2 not offered), "h2" (HTTP/2 by ALPN, or an error), or ""
	// (Go's default: h2 when the server offers it). Plain http:// targets
	// are always HTTP/1.1.
	proto string
}

// targetSyntax is the -target flag's syntax, for errors.
const targetSyntax = "NAME=URL[,admin=URL][,group=LABEL][,path=PATH][,pids=PID:PID...][,spread=N][,beside=PATH@RATE][,proto=h1|h2]"

// parseTarget reads a -target value (targetSyntax).
func parseTarget(spec string) (target, error) {
	name, rest, ok := strings.Cut(spec, "=")
	if !ok || name == "" {
		return target{}, fmt.Errorf("-target %q: want %s", spec, targetSyntax)
	}
	parts := strings.Split(rest, ",")
	t := target{name: name, url: strings.TrimRight(parts[0], "/")}
	bad := func(p, why string) error { return fmt.Errorf("-target %q: %q: %s", spec, p, why) }
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch {
		case k == "admin" && v != "":
			t.admin = strings.TrimRight(v, "/")
		case k == "group" && v != "":
			t.group = v
		case k == "path" && strings.HasPrefix(v, "/"):
			t.path = v
		case k == "pids" && v != "":
			for _, s := range strings.Split(v, ":") {
				pid, err := strconv.Atoi(s)
				if err != nil || pid <= 0 {
					return target{}, bad(p, "want process ids separated by colons")
				}
				t.pids = append(t.pids, pid)
			}
		case k == "spread":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxSpread {
				return target{}, bad(p, fmt.Sprintf("want a count from 1 to %d", maxSpread))
			}
			t.spread = n
		case k == "beside":
			path, rate, ok := strings.Cut(v, "@")
			r, err := strconv.ParseFloat(rate, 64)
			if !ok || !strings.HasPrefix(path, "/") || err != nil || r <= 0 || r > 10000 {
				return target{}, bad(p, "want PATH@RATE, such as /big@2 (a rate from above 0 to 10,000/s)")
			}
			t.besidePath, t.besideRate = path, r
		case k == "proto":
			if v != "h1" && v != "h2" {
				return target{}, bad(p, "want h1 (HTTP/1.1 over TLS) or h2 (HTTP/2 by ALPN)")
			}
			t.proto = v
		default:
			return target{}, fmt.Errorf("-target %q: unknown option %q (want %s)", spec, p, targetSyntax)
		}
	}
	for _, u := range []string{t.url, t.admin} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return target{}, fmt.Errorf("-target %q: %q is not an http:// or https:// URL", spec, u)
		}
	}
	if t.proto != "" && !strings.HasPrefix(t.url, "https://") {
		return target{}, fmt.Errorf("-target %q: proto=%s needs an https:// URL", spec, t.proto)
	}
	return t, nil
}

// maxSpread is the most endpoints a target may spread its requests over:
// 26 first segments of 20 second segments each.
const maxSpread = 26 * 20

// spreadPath names endpoint k of a spread: /s/X/Y with letters X and Y,
// at most 20 second segments under each first one, so that a path
// position never takes more distinct values than compare's default
// max_segment_values (32) and every k stays its own endpoint.
func spreadPath(k int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	return "/s/" + letters[k/20:k/20+1] + "/" + letters[k%20:k%20+1]
}

// adminClient fetches snapshots; its own client so that polling never
// shares connections with the load.
var adminClient = &http.Client{Timeout: 5 * time.Second}

// counters fetches shadow's counters from its admin endpoint.
func (t target) counters(ctx context.Context) (bench.ShadowCounters, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.admin+"/snapshot", nil)
	if err != nil {
		return bench.ShadowCounters{}, err
	}
	resp, err := adminClient.Do(req)
	if err != nil {
		return bench.ShadowCounters{}, fmt.Errorf("admin snapshot: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return bench.ShadowCounters{}, fmt.Errorf("admin snapshot: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return bench.ShadowCounters{}, fmt.Errorf("admin snapshot: status %d", resp.StatusCode)
	}
	return bench.ParseSnapshot(body)
}

// pollDepth polls the queue depth every interval until ctx ends and
// returns the deepest seen.
func (t target) pollDepth(ctx context.Context, every time.Duration) int {
	deepest := 0
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return deepest
		case <-tick.C:
			if c, err := t.counters(ctx); err == nil && c.QueueDepth > deepest {
				deepest = c.QueueDepth
			}
		}
	}
}
