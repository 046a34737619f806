package dash

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/understudy-dev/understudy/tui"
)

// Controller is what an operator can do to a running instance, from the
// dashboard's keys or the admin endpoint. Methods an instance does not
// support return admin.ErrUnsupported.
type Controller interface {
	tui.Controller
	Stop() error
}

// Display says how a running instance is shown.
type Display struct {
	// Title names the dashboard.
	Title string
	// Source gives the snapshots to show.
	Source tui.Source
	// Controller acts on the instance; nil shows a read-only dashboard.
	Controller Controller
	// Plain prints plain progress lines instead of the dashboard. Lines
	// are printed anyway when Out is not a terminal.
	Plain bool
	// Interval is the time between plain lines.
	Interval time.Duration
	// Out is where the dashboard or the lines go.
	Out io.Writer
}

// Show shows the instance until ctx is done or the user quits the
// dashboard. While the dashboard is shown, the lines of every TerminalLog
// wait, and are written once it is gone.
func (d Display) Show(ctx context.Context) error {
	if d.Plain || !isTerminal(d.Out) {
		return d.lines(ctx)
	}
	opts := tui.Options{Title: d.Title, Output: d.Out, AltScreen: true}
	if d.Controller != nil {
		opts.Controller = d.Controller
	}
	// Log lines written meanwhile would scroll the dashboard's screen.
	defer holdLogs()()
	return tui.Run(ctx, d.Source, opts)
}

// lines prints one plain progress line per kind every Interval. A failing
// Source is asked again each Interval, its error printed once until it
// changes or the Source recovers; an error that asking again cannot cure
// (a Remote's permanentError) ends the lines and is returned.
func (d Display) lines(ctx context.Context) error {
	tick := time.NewTicker(d.Interval)
	defer tick.Stop()
	var shown string // the error last printed, until a snapshot arrives
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			s, err := d.Source.Snapshot(ctx)
			if err != nil {
				var perm permanentError
				switch {
				case ctx.Err() != nil:
					return nil
				case errors.As(err, &perm):
					return perm.error
				case err.Error() != shown:
					shown = err.Error()
					fmt.Fprintf(d.Out, "snapshot: %v (asking again every %v)\n", err, d.Interval)
				}
				continue
			}
			shown = ""
			if line := tui.Plain(s); line != "" {
				fmt.Fprintln(d.Out, line)
			}
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}
