package admin

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults used for the zero values of Config fields.
const (
	// DefaultAddr is where the server listens when Config.Addr is empty:
	// loopback only, so nothing outside the machine can reach it.
	DefaultAddr = "127.0.0.1:9090"
	// DefaultStreamInterval is the time between two snapshots on a stream.
	DefaultStreamInterval = 500 * time.Millisecond
	// DefaultMaxSnapshotBytes is the largest encoded snapshot the server
	// sends and the client accepts.
	DefaultMaxSnapshotBytes = 4 << 20
	// DefaultMaxStreams is how many snapshot streams may be open at once.
	DefaultMaxStreams = 16
	// DefaultShutdownTimeout is how long Run waits for requests in flight
	// after its context is done before it closes their connections.
	DefaultShutdownTimeout = 5 * time.Second
)

// MinStreamInterval is the shortest Config.StreamInterval accepted: a
// dashboard has no use for more, and each tick encodes a whole snapshot.
const MinStreamInterval = 10 * time.Millisecond

// Config describes an admin server. The zero value is valid: a server on
// 127.0.0.1:9090 with health, readiness, metrics and profiles, and no
// snapshot or control endpoints.
type Config struct {
	// Addr is the host:port to listen on. Empty means DefaultAddr. A host
	// that is not a loopback address or "localhost" (an empty host, as in
	// ":9090", means every interface) requires a Token.
	Addr string

	// Token, when set, is the bearer token that /snapshot, /control and
	// /debug/pprof require; off loopback it is required and at least
	// MinTokenBytes long. Empty means no token, allowed only on loopback,
	// where the guarded endpoints answer only requests a web page cannot
	// send (see RequestHeader).
	Token string

	// Snapshot returns the instance's current state, encoded as JSON for
	// /snapshot and the stream. It is called from request goroutines, so it
	// must be safe for concurrent use. Nil means /snapshot answers 404.
	Snapshot func() any

	// Control is what /control acts on. Nil means /control answers 404.
	Control Controller

	// Registry is what /metrics serves. Nil means a new registry with the Go
	// runtime and process collectors, available from Server.Registry so the
	// instance can add its own metrics. A non-nil registry is served as is.
	Registry *prometheus.Registry

	// Ready reports whether the instance can do its work; /readyz answers
	// 503 with its error. Nil means always ready.
	Ready func() error

	// Logger receives control actions, refused requests and serving errors.
	// Nil means slog.Default().
	Logger *slog.Logger

	// StreamInterval is the time between two snapshots on a stream. Zero
	// means DefaultStreamInterval; below MinStreamInterval is an error.
	StreamInterval time.Duration

	// MaxSnapshotBytes bounds one encoded snapshot; a larger one is refused
	// with an error instead of sent. Zero means DefaultMaxSnapshotBytes.
	MaxSnapshotBytes int

	// MaxStreams bounds how many snapshot streams are open at once; more
	// are refused with 503. Zero means DefaultMaxStreams.
	MaxStreams int

	// ShutdownTimeout is how long Run waits for requests in flight once its
	// context is done. Zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration

	// Handlers are the instance's own endpoints, by path ("/history"):
	// served behind the same guard as /snapshot (token, or loopback Host)
	// and listed on the index page. A path ending in "/" serves the tree
	// under it too. Paths are plain and clean, and not the server's own.
	// Nil means none.
	Handlers map[string]http.Handler
}

// MinTokenBytes is the shortest Config.Token accepted when the server
// listens off loopback, where anyone on the network may guess at it.
const MinTokenBytes = 16

// ConfigError is what Validate returns for a Config field an operator sets
// (Addr, Token), so that a command can name the flag or key the operator
// wrote instead of the field.
type ConfigError struct {
	// Field names the Config field: "Addr" or "Token".
	Field string
	// Err says what is wrong with it, as a phrase that follows the name:
	// "is required when ...".
	Err error
}

// Error names the field and says what is wrong.
func (e *ConfigError) Error() string { return "admin config: " + e.Field + " " + e.Err.Error() }

// Unwrap returns Err.
func (e *ConfigError) Unwrap() error { return e.Err }

func fieldError(field, format string, args ...any) error {
	return &ConfigError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Validate reports the first field of c that cannot work, by name. Errors
// about Addr and Token are a *ConfigError.
func (c Config) Validate() error {
	addr := c.addr()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fieldError("Addr", "%q is not host:port (like %q): %w", addr, DefaultAddr, err)
	}
	if port != "" {
		if _, err := net.LookupPort("tcp", port); err != nil {
			return fieldError("Addr", "%q has a bad port %q: %w", addr, port, err)
		}
	}
	if err := checkToken(c.Token); err != nil {
		return &ConfigError{Field: "Token", Err: err}
	}
	if !isLoopbackHost(host) {
		switch {
		case c.Token == "":
			return fieldError("Token", "is required when the admin endpoint listens off loopback (%q): "+
				"anyone who can reach it could read snapshots and stop the instance "+
				"(set a token of at least %d bytes, like the output of openssl rand -hex 16, or listen on 127.0.0.1)", addr, MinTokenBytes)
		case len(c.Token) < MinTokenBytes:
			return fieldError("Token", "is %d bytes long: want at least %d when the admin endpoint listens off loopback (%q), "+
				"where anyone who can reach it may guess (make one with openssl rand -hex 16)", len(c.Token), MinTokenBytes, addr)
		}
	}
	switch {
	case c.StreamInterval < 0:
		return fmt.Errorf("admin config: StreamInterval %v is negative", c.StreamInterval)
	case c.StreamInterval != 0 && c.StreamInterval < MinStreamInterval:
		return fmt.Errorf("admin config: StreamInterval %v is below the minimum %v", c.StreamInterval, MinStreamInterval)
	case c.MaxSnapshotBytes < 0:
		return fmt.Errorf("admin config: MaxSnapshotBytes %d is negative", c.MaxSnapshotBytes)
	case c.MaxStreams < 0:
		return fmt.Errorf("admin config: MaxStreams %d is negative", c.MaxStreams)
	case c.ShutdownTimeout < 0:
		return fmt.Errorf("admin config: ShutdownTimeout %v is negative", c.ShutdownTimeout)
	}
	return checkHandlers(c.Handlers)
}

// withDefaults returns c with every zero value replaced by its default.
func (c Config) withDefaults() Config {
	c.Addr = c.addr()
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.StreamInterval == 0 {
		c.StreamInterval = DefaultStreamInterval
	}
	if c.MaxSnapshotBytes == 0 {
		c.MaxSnapshotBytes = DefaultMaxSnapshotBytes
	}
	if c.MaxStreams == 0 {
		c.MaxStreams = DefaultMaxStreams
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	return c
}

func (c Config) addr() string {
	if c.Addr == "" {
		return DefaultAddr
	}
	return c.Addr
}

// checkToken rejects tokens that cannot travel intact in an Authorization
// header.
func checkToken(token string) error {
	if token != strings.TrimSpace(token) {
		return errors.New("has leading or trailing spaces")
	}
	for _, r := range token {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("contains %q: want printable ASCII without spaces", r)
		}
	}
	return nil
}

// isLoopbackHost reports whether host names only this machine: a loopback IP
// or "localhost". An empty host (every interface) and other names are not.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
