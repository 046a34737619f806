package main

import (
	"fmt"
	"time"

	"github.com/understudy-dev/understudy/scenarios"
)

// progressLine is the plain one-line progress printed while a run goes:
// rate target/achieved, in flight, journeys ok/failed, recent p99 and
// dropped starts.
func progressLine(s scenarios.Snapshot) string {
	return fmt.Sprintf("synth %v %s: rate %.1f/%.1f per s, in flight %d, ok %d, failed %d, p99 %v, dropped %d",
		s.Elapsed.Round(time.Second), s.State, s.CurrentTarget, s.CurrentRate, s.InFlight,
		s.Journeys.Succeeded, s.Journeys.Failed, s.Guardrail.Window.P99, s.Journeys.Dropped)
}
