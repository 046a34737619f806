package mirror

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/exchange"
)

// urlSet is an Observer that records which request URLs were mirrored,
// never blocking a worker, for tests with more traffic than a collector
// holds.
type urlSet struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (u *urlSet) Observe(x *exchange.Exchange) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = map[string]bool{}
	}
	u.seen[x.Request.URL] = true
}

func (u *urlSet) has(url string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.seen[url]
}

// quietBackend answers 200 "ok" and records nothing, so it never holds a
// handler up however much traffic it gets.
func quietBackend(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(func() { closeServer(s) })
	return s.URL
}

// TestLiveSettingsUnderTraffic proves that Pause, Resume, SetSamplePercent
// and SetRouteDisabled take effect from the next request while traffic
// flows (run it with -race): background clients send requests the whole
// time and another goroutine keeps changing an unrelated setting, while
// probe requests sent after each change must be skipped (and counted) or
// mirrored as the change says.
func TestLiveSettingsUnderTraffic(t *testing.T) {
	t.Parallel()
	obs := &urlSet{}
	f := startProxy(t, Config{
		Primary: quietBackend(t), Candidate: quietBackend(t), Observer: obs, Workers: 8,
		Routes: []Route{{Name: "probe", Path: "/probe/*"}, {Name: "bg", Path: "/bg/*"}, {Name: "toggled", Path: "/toggled/*"}},
	})

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var bgErrs atomic.Int64
	for i := range 3 {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				path := fmt.Sprintf("/bg/%d-%d", i, n)
				if i == 2 {
					path = fmt.Sprintf("/toggled/%d", n)
				}
				resp, err := f.client.Get(f.srv.URL + path)
				if err != nil {
					bgErrs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	// A concurrent writer: flips another route and reads the settings.
	wg.Go(func() {
		for n := 0; ctx.Err() == nil; n++ {
			if err := f.SetRouteDisabled("toggled", n%2 == 0); err != nil {
				t.Error(err)
				return
			}
			_ = f.Settings()
		}
	})
	defer func() { stop(); wg.Wait() }()

	const probes = 20
	probe := func(phase string) {
		for i := range probes {
			if resp, body := f.get(t, fmt.Sprintf("/probe/%s-%d", phase, i)); resp.StatusCode != 200 || string(body) != "ok" {
				t.Errorf("%s: client got %d %q, want the primary's answer", phase, resp.StatusCode, body)
			}
		}
	}
	skipped := func(reason string) uint64 { return f.Stats().Skipped[reason] }
	mustSet := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	probe("before")

	f.Pause()
	paused := skipped("paused")
	probe("paused")
	if d := skipped("paused") - paused; d < probes {
		t.Errorf("paused: %d more skipped as paused, want at least %d", d, probes)
	}
	f.Resume()

	mustSet(f.SetSamplePercent(0))
	sampled := skipped("sample")
	probe("sampled-out")
	if d := skipped("sample") - sampled; d < probes {
		t.Errorf("sample 0%%: %d more skipped for sample, want at least %d", d, probes)
	}
	mustSet(f.SetSamplePercent(100))

	mustSet(f.SetRouteDisabled("probe", true))
	routed := skipped("route")
	probe("route-off")
	if d := skipped("route") - routed; d < probes {
		t.Errorf("route off: %d more skipped for route, want at least %d", d, probes)
	}
	mustSet(f.SetRouteDisabled("probe", false))

	probe("after")

	stop()
	wg.Wait()
	if n, err := f.Shutdown(context.Background()); n != 0 || err != nil {
		t.Fatalf("Shutdown = %d, %v; want every copy drained", n, err)
	}
	for _, phase := range []string{"before", "paused", "sampled-out", "route-off", "after"} {
		want := phase == "before" || phase == "after"
		for i := range probes {
			if u := fmt.Sprintf("/probe/%s-%d", phase, i); obs.has(u) != want {
				t.Errorf("%s mirrored: %v, want %v", u, obs.has(u), want)
			}
		}
	}
	if !obs.has("/bg/0-0") {
		t.Error("background traffic was not mirrored")
	}
	s := f.Stats()
	if s.Dropped != 0 || bgErrs.Load() != 0 {
		t.Errorf("dropped %d copies, %d client errors; want none (the test relies on every probe being queued)", s.Dropped, bgErrs.Load())
	}
	// The last writes won, whatever the concurrent writer did.
	got := f.Settings()
	if got.Paused || got.SamplePercent != 100 || got.Routes[0] != (RouteState{Name: "probe"}) {
		t.Errorf("settings %+v: want running, 100%%, probe enabled", got)
	}
}

// logRecorder is a slog handler that keeps the records it gets.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, b.String())
	return nil
}

func (l *logRecorder) changes() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.msgs {
		if strings.HasPrefix(m, "mirror setting changed") {
			out = append(out, strings.TrimPrefix(m, "mirror setting changed "))
		}
	}
	return out
}

// TestSettings checks the read-out, the errors for bad changes, and that
// each change, and only a change, is logged with its old and new value.
func TestSettings(t *testing.T) {
	t.Parallel()
	logs := &logRecorder{}
	p, err := New(Config{
		Primary: "http://127.0.0.1:1", Candidate: "http://127.0.0.1:2", Logger: slog.New(logs),
		SamplePercent: 25, SampleBy: "cookie:session",
		Routes: []Route{{Name: "orders", Path: "/orders/*"}, {Path: "/static/*", Disabled: true}, {Name: "orders", Path: "/o/*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	want := Settings{SamplePercent: 25, SampleBy: "cookie:session", Routes: []RouteState{
		{Name: "orders"}, {Name: "/static/*", Disabled: true}, {Name: "orders"},
	}}
	if diff := cmp.Diff(want, p.Settings()); diff != "" {
		t.Errorf("initial settings (-want +got):\n%s", diff)
	}

	for _, bad := range []float64{-1, 100.5, math.NaN(), math.Inf(1)} {
		if err := p.SetSamplePercent(bad); err == nil || !strings.Contains(err.Error(), "out of range; want [0,100]") {
			t.Errorf("SetSamplePercent(%v) error %v, want out of range", bad, err)
		}
	}
	err = p.SetRouteDisabled("nope", true)
	if want := `set route "nope" disabled: no such route; routes: "orders", "/static/*"`; err == nil || err.Error() != want {
		t.Errorf("SetRouteDisabled(unknown) error %v, want %q", err, want)
	}

	p.Pause()
	p.Pause() // no change: not logged
	if err := p.SetSamplePercent(0); err != nil {
		t.Fatal(err)
	}
	if err := p.SetRouteDisabled("orders", true); err != nil {
		t.Fatal(err)
	}
	if err := p.SetRouteDisabled("/static/*", false); err != nil {
		t.Fatal(err)
	}
	p.Resume()

	want = Settings{SamplePercent: 0, SampleBy: "cookie:session", Routes: []RouteState{
		{Name: "orders", Disabled: true}, {Name: "/static/*"}, {Name: "orders", Disabled: true},
	}}
	if diff := cmp.Diff(want, p.Settings()); diff != "" {
		t.Errorf("settings after changes (-want +got):\n%s", diff)
	}
	wantLogs := []string{
		"setting=paused old=false new=true",
		"setting=sample_percent old=25 new=0",
		"setting=route_disabled[orders] old=false new=true",
		"setting=route_disabled[/static/*] old=true new=false",
		"setting=paused old=true new=false",
	}
	if diff := cmp.Diff(wantLogs, logs.changes()); diff != "" {
		t.Errorf("logged changes (-want +got):\n%s", diff)
	}
	// Sample 0 now mirrors nothing, keyed or not.
	for _, r := range []*http.Request{keyedRequest("cookie", "user-1"), httptest.NewRequest("GET", "/", nil)} {
		if _, reason, ok := p.admit(r); ok || reason != skipSample {
			t.Errorf("at 0%%: mirrored %v (skip %s), want skipped for sample", ok, reason)
		}
	}
}
