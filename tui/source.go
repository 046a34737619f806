package tui

import (
	"context"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// Source delivers snapshots to the dashboard. In process, cmd passes a
// SourceFunc that reads the proxy and runner; attached to a remote instance,
// it passes an admin client. Snapshot is called from a background goroutine,
// one call at a time, and should honour ctx. The snapshot it returns
// belongs to the dashboard: the source must not change it (or the slices
// and maps in it) afterwards.
type Source interface {
	Snapshot(ctx context.Context) (Snapshot, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) (Snapshot, error)

// Snapshot calls f.
func (f SourceFunc) Snapshot(ctx context.Context) (Snapshot, error) { return f(ctx) }

// Controller acts on the running instance from the dashboard's keys. Each
// method is called from a background goroutine; an error is shown in the
// status bar.
type Controller interface {
	// Pause stops starting new load (journeys, or mirroring when the
	// instance is a proxy); Resume starts again.
	Pause() error
	Resume() error
	// SetRate sets the target rate in journey starts per second and
	// returns the rate the instance applied.
	SetRate(perSecond float64) (applied float64, err error)
	// Kill stops the run at once (a proxy: stops mirroring at once, and
	// keeps serving).
	Kill() error
}

// Tuner is what a Controller also implements when it can tune a proxy's
// mirroring while it runs: the dashboard's sample keys ([ and ]) and route
// switches work only with a Controller that is also a Tuner, and only
// when the snapshot reports the proxy's Tuning. Like the Controller's, its
// methods are called from a background goroutine and an error is shown in
// the status bar.
type Tuner interface {
	// SetSamplePercent sets the share of eligible requests mirrored from
	// now on, in [0,100] (0 mirrors none).
	SetSamplePercent(percent float64) error
	// SetRouteDisabled turns mirroring off (disabled) or back on for the
	// configured route named name.
	SetRouteDisabled(name string, disabled bool) error
}

// MirrorController is what a Controller also implements when the load it
// steers is not the proxy's mirroring, as in shadow demo, where the
// Controller steers the synthetic load sent through the proxy. The shadow
// tab's pause and kill keys then act on the proxy's mirroring through it,
// and the synth tab's on the load through the Controller. Without it, a
// dashboard that shows both a proxy and a load refuses pause and kill on
// the shadow tab; one that shows only a proxy sends them to the
// Controller, which is then the proxy's. The proxy keeps serving every
// request whatever is paused or stopped. Like the Controller's, its
// methods are called from a background goroutine and an error is shown in
// the status bar.
type MirrorController interface {
	// PauseMirroring stops copying requests to the candidate and
	// secondary; ResumeMirroring starts again.
	PauseMirroring() error
	ResumeMirroring() error
	// StopMirroring is the candidate's kill switch: it stops mirroring at
	// once (ResumeMirroring starts it again).
	StopMirroring() error
}

// fetchTimeout bounds one Source call, so a hung remote instance shows up
// as an error and is retried instead of freezing the dashboard.
const fetchTimeout = 5 * time.Second

// maxRetryDelay bounds the back-off between calls to a failing Source.
const maxRetryDelay = 2 * time.Second

// snapshotMsg carries the result of one Source call.
type snapshotMsg struct {
	// seq numbers the call; calls are made one at a time, in order.
	seq  uint64
	snap Snapshot
	err  error
}

// pollMsg says it is time to call the Source again.
type pollMsg struct{}

// fetch returns a command that calls src once, bounded by fetchTimeout,
// stamping a zero snapshot time with the time of receipt. A panicking
// Source is reported as an error rather than ending the program.
func fetch(ctx context.Context, src Source, seq uint64) tea.Cmd {
	return func() (msg tea.Msg) {
		defer func() {
			if r := recover(); r != nil {
				msg = snapshotMsg{seq: seq, err: fmt.Errorf("snapshot source panicked: %v", r)}
			}
		}()
		cctx, cancel := context.WithTimeout(ctx, fetchTimeout)
		defer cancel()
		s, err := src.Snapshot(cctx)
		if err != nil {
			return snapshotMsg{seq: seq, err: err}
		}
		if s.Time.IsZero() {
			s.Time = time.Now()
		}
		return snapshotMsg{seq: seq, snap: s}
	}
}

// pollAfter returns a command that asks for the next poll after d.
func pollAfter(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return pollMsg{} })
}

// retryDelay is how long to wait before the next poll after failures
// consecutive errors: the interval, doubled per failure, at most
// maxRetryDelay (or the interval when that is longer).
func retryDelay(interval time.Duration, failures int) time.Duration {
	d := interval
	for i := 0; i < failures && d < maxRetryDelay; i++ {
		d *= 2
	}
	return min(d, max(interval, maxRetryDelay))
}
