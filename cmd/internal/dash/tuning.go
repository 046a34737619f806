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

// Tuned is a Controller that also tunes a proxy: its Controller steers
// the instance (pause, rate, kill: in shadow demo, the synthetic load)
// and Tuner changes the proxy's sample share and route switches, for the
// dashboard's keys and /control alike.
type Tuned struct {
	Controller
	// Tuner changes the proxy's mirroring.
	Tuner admin.Tuner
}

// SetSamplePercent sets the share of eligible requests the proxy mirrors.
func (t Tuned) SetSamplePercent(percent float64) error { return t.Tuner.SetSamplePercent(percent) }

// SetRouteDisabled turns the proxy's mirroring of the named route off or
// back on.
func (t Tuned) SetRouteDisabled(name string, disabled bool) error {
	return t.Tuner.SetRouteDisabled(name, disabled)
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
	_ tui.Tuner   = Remote{}
	_ admin.Tuner = Remote{}
	_ tui.Tuner   = Tuned{}
	_ admin.Tuner = Tuned{}
)
