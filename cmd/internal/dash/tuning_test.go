package dash

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/admin"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/tui"
)

func TestTuningView(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   mirror.Settings
		want *tui.Tuning
	}{
		{"no routes", mirror.Settings{SamplePercent: 100}, &tui.Tuning{SamplePercent: 100}},
		{"routes in order, by header", mirror.Settings{
			SamplePercent: 25, SampleBy: "header:X-User-Id", Paused: true,
			Routes: []mirror.RouteState{{Name: "create-order"}, {Name: "cancel-order", Disabled: true}},
		}, &tui.Tuning{
			SamplePercent: 25, SampleBy: "header:X-User-Id",
			Routes: []tui.MirrorRoute{{Name: "create-order"}, {Name: "cancel-order", Disabled: true}},
		}},
		{"a shared name is one route, off only when all are", mirror.Settings{
			Routes: []mirror.RouteState{{Name: "orders", Disabled: true}, {Name: "*"}, {Name: "orders"}, {Name: "admin", Disabled: true}, {Name: "admin", Disabled: true}},
		}, &tui.Tuning{
			Routes: []tui.MirrorRoute{{Name: "orders"}, {Name: "*"}, {Name: "admin", Disabled: true}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, Tuning(tc.in)); diff != "" {
				t.Errorf("Tuning() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeInstance is a Controller that records what reaches it; wrapped in
// fakeTuner it can be tuned too.
type fakeInstance struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeInstance) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	return nil
}

func (f *fakeInstance) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeInstance) Pause() error                       { return f.record("pause") }
func (f *fakeInstance) Resume() error                      { return f.record("resume") }
func (f *fakeInstance) SetRate(r float64) (float64, error) { return r, f.record("rate %g", r) }
func (f *fakeInstance) Stop() error                        { return f.record("stop") }
func (f *fakeInstance) Kill() error                        { return f.record("kill") }

// fakeTuner is a fakeInstance that can be tuned.
type fakeTuner struct{ *fakeInstance }

func (f fakeTuner) SetSamplePercent(p float64) error { return f.record("sample %g", p) }
func (f fakeTuner) SetRouteDisabled(name string, disabled bool) error {
	if name == "nope" {
		return errors.New(`no such route; routes: "orders"`)
	}
	return f.record("route %s disabled=%v", name, disabled)
}

// startAdmin serves ctl on a real loopback admin server and returns a
// Remote attached to it.
func startAdmin(t *testing.T, ctl Controller) Remote {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	src := tui.SourceFunc(func(context.Context) (tui.Snapshot, error) { return tui.Snapshot{}, nil })
	addr, stop, err := StartAdmin(ctx, AdminConfig{Addr: "127.0.0.1:0", Source: src, Controller: ctl, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(func() { tr.CloseIdleConnections(); cancel(); stop() })
	return Remote{Client: &admin.Client{BaseURL: "http://" + addr.String(), HTTP: &http.Client{Transport: tr}}}
}

// The dashboard's tuning keys reach an attached proxy through /control,
// and an instance that cannot be tuned says so.
func TestRemoteTunes(t *testing.T) {
	t.Parallel()
	inst := &fakeInstance{}
	remote := startAdmin(t, fakeTuner{inst})
	if err := remote.SetSamplePercent(25); err != nil {
		t.Fatalf("SetSamplePercent: %v", err)
	}
	if err := remote.SetRouteDisabled("orders", true); err != nil {
		t.Fatalf("SetRouteDisabled: %v", err)
	}
	if err := remote.SetRouteDisabled("nope", true); err == nil || !strings.Contains(err.Error(), `no such route; routes: "orders"`) {
		t.Errorf("switching an unknown route = %v, want the instance's error listing the routes", err)
	}
	if got, want := inst.Calls(), []string{"sample 25", "route orders disabled=true"}; !slices.Equal(got, want) {
		t.Errorf("the instance saw %q, want %q", got, want)
	}

	plain := startAdmin(t, &fakeInstance{})
	if err := plain.SetSamplePercent(25); !errors.Is(err, admin.ErrUnsupported) {
		t.Errorf("tuning an instance that cannot be tuned = %v, want ErrUnsupported", err)
	}
}

// Tuned steers the load with its Controller and the proxy's mirroring
// (pause, resume, stop, sample, routes) with its Proxy.
func TestTunedSplitsLoadAndMirroring(t *testing.T) {
	t.Parallel()
	load, proxy := &fakeInstance{}, &fakeInstance{}
	c := Tuned{Controller: load, Proxy: fakeTuner{proxy}}
	c.Pause()
	c.SetRate(5)
	c.Kill()
	c.PauseMirroring()
	c.ResumeMirroring()
	c.StopMirroring()
	c.SetSamplePercent(40)
	c.SetRouteDisabled("orders", false)
	if got, want := load.Calls(), []string{"pause", "rate 5", "kill"}; !slices.Equal(got, want) {
		t.Errorf("the load saw %q, want %q", got, want)
	}
	if got, want := proxy.Calls(), []string{"pause", "resume", "kill", "sample 40", "route orders disabled=false"}; !slices.Equal(got, want) {
		t.Errorf("the proxy saw %q, want %q", got, want)
	}
}
