package dash

import (
	"github.com/understudy-dev/understudy/admin"
	"github.com/understudy-dev/understudy/scenarios"
)

// RunnerControl lets operators steer a synthetic run.
type RunnerControl struct{ Runner *scenarios.Runner }

// Pause stops new journey starts.
func (c RunnerControl) Pause() error { c.Runner.Pause(); return nil }

// Resume starts journeys again.
func (c RunnerControl) Resume() error { c.Runner.Resume(); return nil }

// SetRate changes the target rate; the runner clamps it to the ceiling.
func (c RunnerControl) SetRate(perSecond float64) (float64, error) {
	return c.Runner.SetRate(perSecond), nil
}

// Stop ends the run gracefully: no new starts, in-flight journeys finish.
func (c RunnerControl) Stop() error { c.Runner.Stop(); return nil }

// Kill cancels in-flight journeys at once.
func (c RunnerControl) Kill() error { c.Runner.Kill(); return nil }

var _ admin.Controller = RunnerControl{}
