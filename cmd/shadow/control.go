package main

import (
	"fmt"

	"github.com/understudy-dev/understudy/admin"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/tui"
)

// proxyControl is what operators can do to a running proxy, from the
// dashboard's keys in process or from /control (where `shadow tui
// --attach` sends them). The proxy is in front of live traffic, so none of
// it ever stops serving: pause and kill stop mirroring, resume starts it
// again. Stopping the process is its supervisor's job (SIGTERM). Every
// change is logged by the proxy itself ("mirror setting changed", with the
// old and new value), and also by the admin server, with the caller's
// address, when it comes through /control.
type proxyControl struct{ proxy *mirror.Proxy }

var (
	_ admin.Controller = proxyControl{}
	_ admin.Tuner      = proxyControl{}
	_ tui.Tuner        = proxyControl{} // the dashboard's sample and route keys
)

// Pause stops mirroring; the primary keeps serving every request.
func (c proxyControl) Pause() error { c.proxy.Pause(); return nil }

// Resume starts mirroring again.
func (c proxyControl) Resume() error { c.proxy.Resume(); return nil }

// Kill is the candidate's kill switch: it stops mirroring at once.
func (c proxyControl) Kill() error { c.proxy.Pause(); return nil }

// SetRate has no meaning for a proxy: its rate is the clients'.
func (c proxyControl) SetRate(float64) (float64, error) { return 0, admin.ErrUnsupported }

// Stop is refused: a dashboard must not take a live proxy down.
func (c proxyControl) Stop() error { return admin.ErrUnsupported }

// SetSamplePercent changes the share of eligible requests mirrored, from
// the next request on (admin action "sample").
func (c proxyControl) SetSamplePercent(percent float64) error {
	return invalid(c.proxy.SetSamplePercent(percent))
}

// SetRouteDisabled turns mirroring of the named route off or back on
// (admin action "route").
func (c proxyControl) SetRouteDisabled(name string, disabled bool) error {
	return invalid(c.proxy.SetRouteDisabled(name, disabled))
}

// invalid marks an error of the proxy's setters as the caller's: they fail
// only on an argument the proxy cannot take.
func invalid(err error) error {
	if err != nil {
		return fmt.Errorf("%w: %w", admin.ErrInvalid, err)
	}
	return nil
}
