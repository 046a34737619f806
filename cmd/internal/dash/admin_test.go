package dash

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/tui"
)

// An admin endpoint that cannot start names the config key and flag the
// operator set, the same in both binaries.
func TestStartAdminNamesTheKey(t *testing.T) {
	t.Parallel()
	src := tui.SourceFunc(func(context.Context) (tui.Snapshot, error) { return tui.Snapshot{}, nil })
	tests := []struct {
		name, addr, token string
		want              string // "" means it starts
	}{
		{"off loopback without a token", "0.0.0.0:0", "", `admin_token (--admin-token) is required when the admin endpoint listens off loopback ("0.0.0.0:0")`},
		{"off loopback with a short token", "0.0.0.0:0", "s3cret", `admin_token (--admin-token) is 6 bytes long: want at least 16 when the admin endpoint listens off loopback ("0.0.0.0:0")`},
		{"token with a space", "127.0.0.1:0", "two words", `admin_token (--admin-token) contains ' '`},
		{"address without a port", "127.0.0.1", "", `admin (--admin) "127.0.0.1" is not host:port`},
		{"short token on loopback", "127.0.0.1:0", "s3cret", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, stop, err := StartAdmin(context.Background(), AdminConfig{Addr: tt.addr, Token: tt.token, Source: src, Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				stop()
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("StartAdmin = %v, want it to start", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("StartAdmin = %v, want an error starting %q", err, tt.want)
			}
		})
	}
}
