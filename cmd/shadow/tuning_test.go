package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/admin"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/cmd/internal/dash"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/internal/testio"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/tui"
)

// startShadowAdmin runs `shadow run` with its admin endpoint on a free
// loopback port, and returns the proxy's and the admin endpoint's base URLs.
func startShadowAdmin(t *testing.T, args ...string) (base, adminURL string, stop func(), code <-chan int, out *syncBuffer) {
	t.Helper()
	args = append([]string{"run", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--no-tui", "--summary-interval", "1h"}, args...)
	adminURL, stop, code, out = startCmd(t, regexp.MustCompile(`admin on (http://[0-9.:]+)`), args...)
	m := regexp.MustCompile(`listening on (http://[0-9.:]+)`).FindStringSubmatch(out.String())
	if m == nil { // printed before the admin line
		stop()
		t.Fatalf("no listening line:\n%s", out.String())
	}
	return m[1], adminURL, stop, code, out
}

// countingServer answers like the primary and counts requests by path.
type countingServer struct {
	mu   sync.Mutex
	hits map[string]int
}

func (c *countingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.hits[r.URL.Path]++
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"path": %q, "price": 10.00}`, r.URL.Path)
}

func (c *countingServer) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits[path]
}

// TestRemoteTuning drives a running proxy through its admin endpoint: a
// route turned off stops being mirrored while the others go on, sample 0
// stops all mirroring (the requests are counted as skipped), and both are
// undone remotely. Every request is a small GET on an enabled, unpaused
// proxy, so sampling and the disabled route are the only reasons a request
// can be skipped.
func TestRemoteTuning(t *testing.T) {
	primary := jsonServer(t, "10.00")
	cand := &countingServer{hits: map[string]int{}}
	candidate := httptest.NewServer(cand)
	t.Cleanup(candidate.Close)
	cfgFile := filepath.Join(t.TempDir(), "shadow.yaml")
	yaml := "mirror:\n  routes:\n    - name: orders\n      path: /orders/*\n    - name: items\n      path: /items/*\n" +
		"compare:\n  verdict:\n    min_pairs: 1\n" // judged, so an equal candidate passes and shadow exits 0
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	base, adminURL, stop, code, out := startShadowAdmin(t,
		"--config", cfgFile, "--primary", primary.URL, "--candidate", candidate.URL)
	defer func() {
		stop()
		select {
		case c := <-code:
			if c != cli.ExitOK {
				t.Errorf("exit code %d, want %d\n%s", c, cli.ExitOK, out.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("shadow did not stop after cancel")
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &admin.Client{BaseURL: adminURL}
	const each = 3
	send := func() { // each GET /orders/1 and /items/1, answered by the primary
		t.Helper()
		for _, path := range []string{"/orders/1", "/items/1"} {
			for range each {
				resp, err := http.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("GET %s = %d", path, resp.StatusCode)
				}
			}
		}
	}
	type counts struct{ received, mirrored, compared, skipped uint64 }
	// settle waits until the proxy has received every request sent and
	// compared every copy it mirrored, and returns its counters.
	settle := func(received uint64) counts {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			var snap tui.Snapshot
			if err := client.Snapshot(ctx, &snap); err != nil {
				t.Fatal(err)
			}
			s := snap.Shadow
			if s == nil {
				t.Fatalf("snapshot without a shadow part: %+v", snap)
			}
			got := counts{s.Received, s.Mirrored, s.Compared, s.Skipped}
			if got.received == received && got.compared == got.mirrored {
				if s.Paused {
					t.Fatal("the proxy is paused; no action here pauses it")
				}
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("counters %+v never settled at %d received\n%s", got, received, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	check := func(step string, got, want counts, orders, items int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: counters %+v, want %+v", step, got, want)
		}
		if o, i := cand.count("/orders/1"), cand.count("/items/1"); o != orders || i != items {
			t.Errorf("%s: candidate saw %d orders and %d items, want %d and %d", step, o, i, orders, items)
		}
	}

	send()
	check("everything mirrored", settle(2*each), counts{2 * each, 2 * each, 2 * each, 0}, each, each)

	if err := client.Route(ctx, "orders", true); err != nil {
		t.Fatalf("remote route disable: %v", err)
	}
	send()
	check("orders disabled", settle(4*each), counts{4 * each, 3 * each, 3 * each, each}, each, 2*each)

	if err := client.Route(ctx, "orders", false); err != nil {
		t.Fatalf("remote route enable: %v", err)
	}
	if err := client.Sample(ctx, 0); err != nil {
		t.Fatalf("remote sample 0: %v", err)
	}
	send()
	check("sample 0", settle(6*each), counts{6 * each, 3 * each, 3 * each, 3 * each}, each, 2*each)

	if err := client.Sample(ctx, 100); err != nil {
		t.Fatalf("remote sample 100: %v", err)
	}
	send() // the orders route is on again: both are mirrored
	check("sample 100, orders enabled", settle(8*each), counts{8 * each, 5 * each, 5 * each, 3 * each}, 2*each, 3*each)

	err := client.Route(ctx, "checkout", true)
	if !errors.Is(err, admin.ErrInvalid) || !strings.Contains(err.Error(), `400 Bad Request`) ||
		!strings.Contains(err.Error(), `no such route; routes: "orders", "items"`) {
		t.Errorf("disabling an unknown route = %v, want a 400 listing the routes", err)
	}
	for _, want := range []string{
		"setting=route_disabled[orders] old=false new=true",
		"setting=sample_percent old=100 new=0",
		"action=sample percent=0",
		"action=route route=orders disabled=false",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// dashboardProxy is a real proxy with two named routes in front of
// loopback upstreams, logging to log, as shadow run builds it.
func dashboardProxy(t *testing.T, samplePercent float64, log io.Writer) *mirror.Proxy {
	t.Helper()
	primary, candidate := jsonServer(t, "10.00"), jsonServer(t, "10.00")
	p, err := mirror.New(mirror.Config{
		Primary: primary.URL, Candidate: candidate.URL, SamplePercent: samplePercent,
		Routes: []mirror.Route{{Name: "orders", Path: "/orders/*"}, {Name: "items", Path: "/items/*"}},
		Logger: slog.New(slog.NewTextHandler(log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// proxySource is what the dashboard of shadow run reads: the proxy's
// counters and its live tuning. It counts its calls.
type proxySource struct {
	proxy *mirror.Proxy
	calls atomic.Int64
}

func (s *proxySource) Snapshot(context.Context) (tui.Snapshot, error) {
	s.calls.Add(1)
	set := s.proxy.Settings()
	sh := dash.Shadow(dash.Upstreams{Primary: "p", Candidate: "c"}, s.proxy.Stats(), set.Paused, &compare.Report{})
	sh.Tuning = dash.Tuning(set)
	return tui.Snapshot{Time: time.Now(), Shadow: sh}, nil
}

// dashboard runs the real dashboard program on src and ctl, typed into
// through the returned function, until the test ends.
func dashboard(t *testing.T, src tui.Source, ctl tui.Controller) (typeKeys func(string)) {
	t.Helper()
	keys, typed := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- tui.Run(ctx, src, tui.Options{Controller: ctl, Input: keys, Output: io.Discard, Interval: 5 * time.Millisecond})
	}()
	t.Cleanup(func() {
		cancel()
		typed.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("dashboard: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the dashboard did not end")
		}
	})
	return func(s string) {
		t.Helper()
		if _, err := io.WriteString(typed, s); err != nil {
			t.Fatalf("type %q: %v", s, err)
		}
	}
}

// routeOff reports whether the proxy has mirroring of route switched off.
func routeOff(p *mirror.Proxy, route string) bool {
	for _, r := range p.Settings().Routes {
		if r.Name == route {
			return r.Disabled
		}
	}
	return false
}

// get sends GET path through the proxy and fails the test unless the
// primary answers 200.
func get(t *testing.T, proxy http.Handler, path string) {
	t.Helper()
	rec := httptest.NewRecorder()
	proxy.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s through the proxy = %d", path, rec.Code)
	}
}

// In process (shadow run's dashboard), [ lowers the proxy's sample share
// and the route picker switches a route off: the proxy changes, skips the
// route's next request, and logs both changes with old and new values.
func TestDashboardTunesTheProxyInProcess(t *testing.T) {
	var log syncBuffer
	proxy := dashboardProxy(t, 0, &log) // 0: the default, all
	src := &proxySource{proxy: proxy}
	typeKeys := dashboard(t, src, proxyControl{proxy})
	testio.Eventually(t, "the first snapshot shown", func() bool { return src.calls.Load() >= 2 })

	typeKeys("[")
	testio.Eventually(t, "the sample share to drop to 90", func() bool { return proxy.Settings().SamplePercent == 90 })
	typeKeys("r") // the routes, "orders" first
	typeKeys(" ")
	testio.Eventually(t, "route orders to be switched off", func() bool { return routeOff(proxy, "orders") })
	if routeOff(proxy, "items") {
		t.Error("route items was switched off too")
	}
	before := proxy.Stats().Skipped["route"]
	get(t, proxy, "/orders/1")
	if got := proxy.Stats().Skipped["route"] - before; got != 1 {
		t.Errorf("a request on the switched-off route was skipped for its route %d times, want 1", got)
	}
	for _, want := range []string{
		"setting=sample_percent old=100 new=90",
		"setting=route_disabled[orders] old=false new=true",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the proxy's log lacks %q:\n%s", want, log.String())
		}
	}
}

// Attached (shadow tui --attach: the admin client as Source and
// Controller), ] raises the sample share and the picker switches a route
// off, through a real admin server's /control; the process that owns the
// proxy logs both, with the caller's address.
func TestDashboardTunesTheProxyAttached(t *testing.T) {
	var log syncBuffer
	proxy := dashboardProxy(t, 50, &log)
	logger := slog.New(slog.NewTextHandler(&log, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, stopAdmin, err := dash.StartAdmin(ctx, dash.AdminConfig{
		Addr: "127.0.0.1:0", Source: &proxySource{proxy: proxy}, Controller: proxyControl{proxy}, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stopAdmin()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	remote := dash.Remote{Client: &admin.Client{BaseURL: "http://" + addr.String(), HTTP: &http.Client{Transport: tr}}}
	var shown atomic.Int64
	src := tui.SourceFunc(func(ctx context.Context) (tui.Snapshot, error) {
		shown.Add(1)
		return remote.Snapshot(ctx)
	})
	typeKeys := dashboard(t, src, remote)
	testio.Eventually(t, "the first snapshot shown", func() bool { return shown.Load() >= 2 })

	typeKeys("]")
	testio.Eventually(t, "the sample share to rise to 60", func() bool { return proxy.Settings().SamplePercent == 60 })
	typeKeys("r")
	typeKeys("\x1b[B") // down: "items"
	typeKeys(" ")
	testio.Eventually(t, "route items to be switched off", func() bool { return routeOff(proxy, "items") })
	if routeOff(proxy, "orders") {
		t.Error("route orders was switched off too")
	}
	for _, want := range []string{
		"admin control: action applied",
		"action=sample percent=60",
		"action=route route=items disabled=true",
		"setting=sample_percent old=50 new=60",
		"setting=route_disabled[items] old=false new=true",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the owner's log lacks %q:\n%s", want, log.String())
		}
	}
}
