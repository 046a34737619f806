package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
}

// parseTarget reads NAME=URL[,admin=URL][,group=LABEL].
func parseTarget(spec string) (target, error) {
	name, rest, ok := strings.Cut(spec, "=")
	if !ok || name == "" {
		return target{}, fmt.Errorf("-target %q: want NAME=URL[,admin=URL][,group=LABEL]", spec)
	}
	parts := strings.Split(rest, ",")
	t := target{name: name, url: strings.TrimRight(parts[0], "/")}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch {
		case k == "admin" && v != "":
			t.admin = strings.TrimRight(v, "/")
		case k == "group" && v != "":
			t.group = v
		default:
			return target{}, fmt.Errorf("-target %q: unknown option %q (want admin=URL or group=LABEL)", spec, p)
		}
	}
	for _, u := range []string{t.url, t.admin} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || p.Scheme != "http" || p.Host == "" {
			return target{}, fmt.Errorf("-target %q: %q is not an http:// URL", spec, u)
		}
	}
	return t, nil
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
