package dash

import (
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
func NewAttachCmd(binary string) *cobra.Command {
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
The token, when the instance needs one, comes from --token or ` + tokenEnv + `.`,
		Example: "  " + binary + " tui --attach http://127.0.0.1:9090",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				return fmt.Errorf("attach: --attach URL is required")
			}
			if token == "" {
				token = os.Getenv(tokenEnv)
			}
			remote := Remote{Client: &admin.Client{BaseURL: url, Token: token}}
			d := Display{
				Title: binary + " @ " + url, Source: remote, Controller: remote,
				Plain: plain, Interval: interval, Out: cmd.OutOrStdout(),
			}
			return d.Show(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&url, "attach", "", "admin endpoint of the running instance, like http://127.0.0.1:9090")
	f.StringVar(&token, "token", "", "bearer token for the admin endpoint (env "+tokenEnv+")")
	f.BoolVar(&plain, "no-tui", false, "print plain lines instead of the dashboard")
	f.DurationVar(&interval, "interval", 2*time.Second, "time between plain lines")
	return cmd
}
