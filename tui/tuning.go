package tui

import (
	"math"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// sampleKey handles [ and ]: the sample share moves SampleStep points
// within [0,100], shows at once, and is sent to the Tuner.
func (m *Model) sampleKey(msg tea.KeyMsg) tea.Cmd {
	if why := m.cannotTune(); why != "" {
		m.setNotice(why, true)
		return nil
	}
	dir := 1
	if key.Matches(msg, m.keys.SampleDown) {
		dir = -1
	}
	from := m.tuning.SamplePercent
	to := nextSample(from, dir)
	if to == from {
		m.setNotice("sample already at "+fmtPercent(from), false)
		return nil
	}
	t := m.tuning.clone()
	t.SamplePercent = to
	m.setTuning(t)
	return m.enqueue(controlReq{act: actSample, value: to, from: from})
}

// switchRoute turns the mirroring of the route selected on the routes page
// off, or back on: it shows at once and is sent to the Tuner.
func (m *Model) switchRoute() tea.Cmd {
	if why := m.cannotTune(); why != "" {
		m.setNotice(why, true)
		return nil
	}
	rt, ok := m.shadow.SelectedRoute()
	if !ok {
		m.setNotice("no route to switch: none is configured", true)
		return nil
	}
	disabled := !rt.Disabled
	t := m.tuning.clone()
	for i := range t.Routes {
		if t.Routes[i].Name == rt.Name {
			t.Routes[i].Disabled = disabled
		}
	}
	m.setTuning(t)
	return m.enqueue(controlReq{act: actRoute, route: rt.Name, disabled: disabled})
}

// setTuning makes t what the dashboard believes and shows.
func (m *Model) setTuning(t *Tuning) {
	m.tuning = t
	m.shadow.SetTuning(t)
}

// canTune reports whether the sample and route keys work now.
func (m *Model) canTune() bool { return m.cannotTune() == "" }

// cannotTune says why the sample and route keys do not work now; empty
// when they do.
func (m *Model) cannotTune() string {
	c := m.opts.Controller
	_, isTuner := c.(Tuner)
	switch {
	case c == nil:
		return "read-only: this dashboard has no controls"
	case m.snap.Shadow == nil:
		return "no sample to change: no proxy runs"
	case !m.onShadowTab():
		return "the sample is the proxy's: press tab for the shadow view to change it"
	case m.tuning == nil:
		return "this proxy does not report its sample and routes, so they cannot be changed from here"
	case !isTuner:
		return "this dashboard cannot tune the proxy: use the admin endpoint's /control"
	}
	return ""
}

// nextSample returns the sample share one step up (dir > 0) or down from
// current, within [0,100].
func nextSample(current float64, dir int) float64 {
	r := math.Max(0, math.Min(100, current+float64(dir)*SampleStep))
	// Keep a tidy number: a share set elsewhere may have decimals.
	return math.Round(r*1000) / 1000
}
