package dash

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/understudy-dev/understudy/admin"
	"github.com/understudy-dev/understudy/tui"
)

// AdminConfig says where and how to serve an instance's admin endpoint.
type AdminConfig struct {
	// Addr is where to listen; "" means no admin server.
	Addr string
	// Token is the bearer token; required off loopback.
	Token string
	// Source gives the snapshots served at /snapshot.
	Source tui.Source
	// Controller is what /control acts on; nil means none.
	Controller Controller
	// Metrics, when set, registers the instance's own metrics on the
	// registry /metrics serves (beside the Go runtime and process ones)
	// before the server starts.
	Metrics func(prometheus.Registerer) error
	// Handlers are the instance's own endpoints (admin.Config.Handlers).
	Handlers map[string]http.Handler
	Logger   *slog.Logger
}

// StartAdmin starts the admin server in the background and returns its
// address (nil when Addr is empty) and a function that stops it and waits
// for it to end.
func StartAdmin(ctx context.Context, c AdminConfig) (net.Addr, func(), error) {
	if c.Addr == "" {
		return nil, func() {}, nil
	}
	cfg := admin.Config{
		Addr:  c.Addr,
		Token: c.Token,
		Snapshot: func() any {
			s, err := c.Source.Snapshot(ctx)
			if err != nil {
				return map[string]string{"error": err.Error()}
			}
			return s
		},
		Handlers: c.Handlers,
		Logger:   c.Logger,
	}
	if c.Controller != nil {
		cfg.Control = c.Controller
	}
	srv, err := admin.New(cfg)
	if err != nil {
		return nil, nil, AdminConfigError(err)
	}
	if c.Metrics != nil {
		if err := c.Metrics(srv.Registry()); err != nil {
			return nil, nil, fmt.Errorf("admin: %w", err)
		}
	}
	if err := srv.Listen(); err != nil {
		return nil, nil, fmt.Errorf("admin: %w", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Run(runCtx); err != nil {
			c.Logger.Warn("admin server", "err", err)
		}
	}()
	return srv.Addr(), func() { cancel(); <-done }, nil
}

// adminKeys are the config keys and flags, the same in both binaries, that
// set the admin.Config fields an operator writes.
var adminKeys = map[string]string{"Addr": "admin (--admin)", "Token": "admin_token (--admin-token)"}

// AdminConfigError names the config key and flag in an error from
// admin.Config.Validate ("admin_token (--admin-token) is 6 bytes long:
// ..."), so that the operator knows what to change.
func AdminConfigError(err error) error {
	var ce *admin.ConfigError
	if errors.As(err, &ce) {
		if key, ok := adminKeys[ce.Field]; ok {
			return fmt.Errorf("%s %w", key, ce.Err)
		}
	}
	return fmt.Errorf("admin: %w", err)
}
