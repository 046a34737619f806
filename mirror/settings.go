package mirror

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Settings are what can be changed while the proxy runs (SetSamplePercent,
// SetRouteDisabled, Pause, Resume), as they are now. They start from the
// Config.
type Settings struct {
	// Paused reports that nothing is being mirrored (Pause).
	Paused bool
	// SamplePercent is the share of eligible requests mirrored, in [0,100].
	SamplePercent float64
	// SampleBy is Config.SampleBy: what requests are sampled by; "" means
	// at random. It does not change while running.
	SampleBy string
	// Routes are the configured routes in order, with whether each is
	// disabled now.
	Routes []RouteState
}

// RouteState is one route as it is now.
type RouteState struct {
	// Name is the route's name (Route.Name, or its default).
	Name string
	// Disabled reports that requests matching the route are not mirrored.
	Disabled bool
}

// settings is the immutable form of Settings the client's path reads: a
// change builds a new one and swaps the pointer, so ServeHTTP reads them
// with one atomic load and no lock.
type settings struct {
	paused    bool
	percent   float64
	threshold uint64 // sampleThreshold(percent); unused when percent >= 100
	disabled  []bool // by route index
}

// newSettings returns the settings for percent with the given routes
// disabled.
func newSettings(paused bool, percent float64, disabled []bool) *settings {
	s := &settings{paused: paused, percent: percent, disabled: disabled}
	if percent < 100 {
		s.threshold = sampleThreshold(percent)
	}
	return s
}

// Settings returns the live settings now. It is safe to call at any time,
// concurrently with everything else.
func (p *Proxy) Settings() Settings {
	s := p.settings.Load()
	out := Settings{Paused: s.paused, SamplePercent: s.percent, SampleBy: p.sampleKey.String()}
	out.Routes = make([]RouteState, len(p.routes))
	for i, rt := range p.routes {
		out.Routes[i] = RouteState{Name: rt.name, Disabled: s.disabled[i]}
	}
	return out
}

// SetSamplePercent changes the share of eligible requests mirrored, from
// the next request on. percent is in [0,100]; unlike in Config, 0 means
// none. With Config.SampleBy, lowering it drops users from the sample and
// raising it adds users, never swapping one for another.
func (p *Proxy) SetSamplePercent(percent float64) error {
	if math.IsNaN(percent) || percent < 0 || percent > 100 {
		return fmt.Errorf("set sample percent: %v is out of range; want [0,100]", percent)
	}
	p.update("sample_percent", func(s *settings) (old, now any) {
		old = s.percent
		*s = *newSettings(s.paused, percent, s.disabled)
		return old, percent
	})
	return nil
}

// SetRouteDisabled turns mirroring off (disabled) or back on for the
// routes named name, from the next request on. Routes sharing a name
// change together. An unknown name is an error that lists the known ones.
func (p *Proxy) SetRouteDisabled(name string, disabled bool) error {
	var idx []int
	for i, rt := range p.routes {
		if rt.name == name {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		var names []string
		for _, rt := range p.routes {
			if q := strconv.Quote(rt.name); !slices.Contains(names, q) {
				names = append(names, q)
			}
		}
		known := strings.Join(names, ", ")
		if known == "" {
			known = "none configured"
		}
		return fmt.Errorf("set route %q disabled: no such route; routes: %s", name, known)
	}
	p.update("route_disabled["+name+"]", func(s *settings) (old, now any) {
		old = s.disabled[idx[0]]
		s.disabled = slices.Clone(s.disabled) // the old slice is still being read
		for _, i := range idx {
			s.disabled[i] = disabled
		}
		return old, disabled
	})
	return nil
}

// Pause stops mirroring from the next request on: requests are forwarded
// to the primary only and counted as Skipped["paused"]. Copies already
// queued still run. Pausing a paused proxy does nothing.
func (p *Proxy) Pause() { p.setPaused(true) }

// Resume undoes Pause. Resuming a running proxy does nothing.
func (p *Proxy) Resume() { p.setPaused(false) }

func (p *Proxy) setPaused(paused bool) {
	p.update("paused", func(s *settings) (old, now any) {
		old = s.paused
		s.paused = paused
		return old, paused
	})
}

// update applies change to a copy of the settings and publishes it, then
// logs the change (old → new) when something changed. Writers take a lock
// so that two changes never lose one another; readers never do.
func (p *Proxy) update(setting string, change func(s *settings) (old, now any)) {
	p.settingsMu.Lock()
	s := *p.settings.Load()
	old, now := change(&s)
	p.settings.Store(&s)
	p.settingsMu.Unlock()
	if old != now {
		p.log.Info("mirror setting changed", "setting", setting, "old", old, "new", now)
	}
}
