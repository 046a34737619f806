package dash

import (
	"context"

	"github.com/understudy-dev/understudy/admin"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/tui"
)

// Tuning builds the dashboard's view of a proxy's live settings: the
// sample share and its configured routes, one per name. Routes that share
// a name are switched together; the name shows as off only when all of
// them are.
func Tuning(s mirror.Settings) *tui.Tuning {
	t := &tui.Tuning{SamplePercent: s.SamplePercent, SampleBy: s.SampleBy}
	at := make(map[string]int, len(s.Routes))
	for _, r := range s.Routes {
		if i, seen := at[r.Name]; seen {
			t.Routes[i].Disabled = t.Routes[i].Disabled && r.Disabled
			continue
		}
		at[r.Name] = len(t.Routes)
		t.Routes = append(t.Routes, tui.MirrorRoute{Name: r.Name, Disabled: r.Disabled})
	}
	return t
}

// Proxy is what a proxy's own control does: pause, resume and kill
// switch its mirroring (it never stops serving), and tune it.
type Proxy interface {
	Pause() error
	Resume() error
	Kill() error
	admin.Tuner
}

// Tuned steers a load sent through a proxy (shadow demo) together with the
// proxy: its Controller steers the load (pause, rate, kill), for the
// dashboard's synth tab and /control, and Proxy steers the proxy's
// mirroring, for the dashboard's shadow tab (pause, resume and stop) and
// the sample share and route switches of its keys and /control.
type Tuned struct {
	Controller
	// Proxy pauses, resumes, stops and tunes the proxy's mirroring.
	Proxy Proxy
}

// PauseMirroring pauses the proxy's mirroring; the proxy keeps serving.
func (t Tuned) PauseMirroring() error { return t.Proxy.Pause() }

// ResumeMirroring starts the proxy's mirroring again.
func (t Tuned) ResumeMirroring() error { return t.Proxy.Resume() }

// StopMirroring is the candidate's kill switch: the proxy stops mirroring
// at once and keeps serving.
func (t Tuned) StopMirroring() error { return t.Proxy.Kill() }

// SetSamplePercent sets the share of eligible requests the proxy mirrors.
func (t Tuned) SetSamplePercent(percent float64) error { return t.Proxy.SetSamplePercent(percent) }

// SetRouteDisabled turns the proxy's mirroring of the named route off or
// back on.
func (t Tuned) SetRouteDisabled(name string, disabled bool) error {
	return t.Proxy.SetRouteDisabled(name, disabled)
}

// SetSamplePercent asks the instance to mirror percent of its eligible
// requests; an instance that cannot be tuned answers with an error that
// wraps admin.ErrUnsupported.
func (r Remote) SetSamplePercent(percent float64) error {
	return r.Client.Sample(context.Background(), percent) // the client bounds each call
}

// SetRouteDisabled asks the instance to stop mirroring the named route, or
// to start again.
func (r Remote) SetRouteDisabled(name string, disabled bool) error {
	return r.Client.Route(context.Background(), name, disabled)
}

var (
	_ tui.Tuner            = Remote{}
	_ admin.Tuner          = Remote{}
	_ tui.Tuner            = Tuned{}
	_ tui.MirrorController = Tuned{}
	_ admin.Tuner          = Tuned{}
)
