package dash

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/admin"
)

// NewAttachCmd is the `tui` command of a binary: it opens the dashboard on
// an instance running elsewhere, through its admin endpoint. binary names
// the program ("shadow", "synth"); its token env var is BINARY_ADMIN_TOKEN.
//
// The command ends when its context is done, and, when interrupts is not
// nil, at the first value from it: synth's main delivers SIGINT and SIGTERM
// on a channel (its run stops gracefully on the first and is killed on the
// second), so its commands' context never ends; shadow's main cancels the
// context instead and passes nil.
//
// It asks for one snapshot before it shows anything: a URL that is not an
// admin endpoint, a missing or wrong token, or an instance it cannot reach
// ends the command at once with an error that says which. Once attached,
// errors are shown (in plain lines, once each until they change) and the
// snapshot is asked for again, except those that asking again cannot cure.
func NewAttachCmd(binary string, interrupts <-chan os.Signal) *cobra.Command {
	var (
		url      string
		token    string
		plain    bool
		interval time.Duration
	)
	tokenEnv := strings.ToUpper(binary) + "_ADMIN_TOKEN"
	cmd := &cobra.Command{
		Use:   "tui --attach URL",
		Short: "Open the dashboard on a running " + binary + " through its admin endpoint",
		Long: `Open the dashboard on an instance running elsewhere: it polls the admin
endpoint's /snapshot and sends the dashboard's controls to /control.
The token, when the instance needs one, comes from --token or ` + tokenEnv + `.
A URL that is not an admin endpoint, a wrong token or an instance that does
not answer ends the command with an error; SIGINT or SIGTERM ends it too.`,
		Example: "  " + binary + " tui --attach http://127.0.0.1:9090",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				return fmt.Errorf("attach: --attach URL is required")
			}
			if interval <= 0 {
				return fmt.Errorf("attach: --interval %v: want a positive duration", interval)
			}
			if token == "" {
				token = os.Getenv(tokenEnv)
			}
			ctx := cmd.Context()
			if interrupts != nil {
				var stop context.CancelFunc
				ctx, stop = untilInterrupt(ctx, interrupts)
				defer stop()
			}
			remote := Remote{Client: &admin.Client{BaseURL: url, Token: token}}
			if _, err := remote.Snapshot(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return attachError(url, tokenEnv, err)
			}
			d := Display{
				Title: binary + " @ " + url, Source: remote, Controller: remote,
				Plain: plain, Interval: interval, Out: cmd.OutOrStdout(),
			}
			if err := d.Show(ctx); err != nil {
				return attachError(url, tokenEnv, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&url, "attach", "", "admin endpoint of the running instance, like http://127.0.0.1:9090")
	f.StringVar(&token, "token", "", "bearer token for the admin endpoint (env "+tokenEnv+")")
	f.BoolVar(&plain, "no-tui", false, "print plain lines instead of the dashboard")
	f.DurationVar(&interval, "interval", 2*time.Second, "time between plain lines")
	return cmd
}

// untilInterrupt returns a context that is also done at the first value
// from interrupts. Its cancel function ends the goroutine that waits.
func untilInterrupt(ctx context.Context, interrupts <-chan os.Signal) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-interrupts:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// attachError says in the operator's words why attaching to url failed.
func attachError(url, tokenEnv string, err error) error {
	var se *admin.StatusError
	isStatus := errors.As(err, &se)
	switch {
	case errors.Is(err, admin.ErrNotAdmin) && isStatus:
		return fmt.Errorf("attach: %s answered %d: %w (want the address shadow run or synth run prints as \"admin on http://...\")",
			url, se.StatusCode, admin.ErrNotAdmin)
	case errors.Is(err, admin.ErrNotAdmin):
		return fmt.Errorf("attach: %s: %w", url, err)
	case isStatus && se.StatusCode == 401:
		return fmt.Errorf("attach: %s wants its token (--token or %s): %w", url, tokenEnv, err)
	}
	return fmt.Errorf("attach: %w", err)
}
