package main

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/egress"
	"github.com/understudy-dev/understudy/internal/atomicfile"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/notify"
	"github.com/understudy-dev/understudy/protoschema"
	"github.com/understudy-dev/understudy/wire"
)

// config is the effective configuration of `shadow run` and `shadow demo`:
// defaults, overridden by the YAML file (--config), then by SHADOW_* env
// vars (SHADOW_MIRROR_QUEUE_SIZE for mirror.queue_size), then by flags.
// The domain packages' Config structs are loaded as they are, by their
// tags (see loader for the keys written elsewhere).
type config struct {
	Listen          string          `mapstructure:"listen"`
	ListenTLS       wire.ServerTLS  `mapstructure:"listen_tls"`
	SummaryInterval time.Duration   `mapstructure:"summary_interval"`
	ShutdownTimeout time.Duration   `mapstructure:"shutdown_timeout"`
	NoTUI           bool            `mapstructure:"no_tui"`
	ReportOut       string          `mapstructure:"report_out"`
	ReportFormat    string          `mapstructure:"report_format"`
	Admin           string          `mapstructure:"admin"`
	AdminToken      string          `mapstructure:"admin_token"`
	Server          serverConfig    `mapstructure:"server"`
	Mirror          mirror.Config   `mapstructure:"mirror"`
	Compare         compare.Config  `mapstructure:"compare"`
	Capture         captureConfig   `mapstructure:"capture"`
	Log             cli.Log         `mapstructure:"log"`
	Notify          []notify.Target `mapstructure:"notify"`
	// Egress is the egress section: the top-level keys egress (the
	// dependencies), egress_proxy and egress_limits (see egress.go).
	Egress `mapstructure:",squash"`

	// GRPC says where the descriptors of gRPC methods come from (see
	// grpc.go).
	GRPC protoschema.Config `mapstructure:"grpc"`

	// origins says where each value came from, for errors.
	origins *cli.Origins
	// egress, when set, is the egress already listening that the session
	// serves (the demo binds it before starting its services); nil: the
	// session starts one from Egress.
	egress *egressRun
}

// Egress is egress.Config under a name of its own, so that config can
// embed it (the loader takes the keys of an embedded struct, squashed, as
// its own) as the field Egress.
type Egress = egress.Config

// serverConfig holds the timeouts of the listener clients talk to, so that
// slow clients (slowloris headers and bodies, idle keep-alives) cannot pin
// goroutines and memory. Zero values take the defaults; negative ones turn
// a timeout off. server.body_read_timeout is mirror.Config.BodyReadTimeout.
type serverConfig struct {
	// ReadHeaderTimeout bounds reading a request's head (and a TLS
	// handshake). 0 means 10s (wire.DefaultReadHeaderTimeout).
	ReadHeaderTimeout time.Duration `mapstructure:"read_header_timeout"`
	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request. 0 means 2m
	// (wire.DefaultIdleTimeout).
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
}

// loader loads config. The upstreams are top-level keys and the body read
// timeout a server one, though mirror.Config holds them.
var loader = cli.Loader{
	Prefix: "SHADOW",
	Flags:  flagKeys,
	Moved: map[string]string{
		"primary":                  "mirror.primary",
		"candidate":                "mirror.candidate",
		"candidates":               "mirror.candidates",
		"secondary":                "mirror.secondary",
		"server.body_read_timeout": "mirror.body_read_timeout",
	},
}

// flagKeys maps a flag to the config key it overrides.
var flagKeys = map[string]string{
	"listen":           "listen",
	"tls-cert":         "listen_tls.cert_file",
	"tls-key":          "listen_tls.key_file",
	"tls-client-ca":    "listen_tls.client_ca_file",
	"primary":          "primary",
	"candidate":        "candidate",
	"secondary":        "secondary",
	"summary-interval": "summary_interval",
	"shutdown-timeout": "shutdown_timeout",
	"no-tui":           "no_tui",
	"report-out":       "report_out",
	"report-format":    "report_format",
	"admin":            "admin",
	"admin-token":      "admin_token",
	"capture":          "capture.dir",
	"log-format":       "log.format",
	"log-level":        "log.level",
}

// addConfigFlags declares the flags shared by run and demo.
func addConfigFlags(cmd *cobra.Command, listen, adminAddr string) {
	f := cmd.Flags()
	f.String("config", "", "YAML config file (see README: Configuration)")
	f.String("listen", listen, "address the proxy listens on")
	f.String("tls-cert", "", "serve HTTPS (h2 and http/1.1) with this PEM certificate, re-read when it changes; needs --tls-key")
	f.String("tls-key", "", "the PEM key of --tls-cert")
	f.String("tls-client-ca", "", "require client certificates signed by a CA of this PEM file (mTLS)")
	f.String("admin", adminAddr, `admin endpoint (snapshot, control, metrics, pprof); "" turns it off; off loopback it needs --admin-token`)
	f.String("admin-token", "", "bearer token the admin endpoint requires (env SHADOW_ADMIN_TOKEN)")
	f.String("primary", "", "base URL of the live service (its answers go to clients)")
	f.String("candidate", "", "base URL of the version under test")
	f.String("secondary", "", "base URL of a second copy of the live service, to learn noise (optional)")
	f.Duration("summary-interval", 5*time.Second, "how often to print a summary line")
	f.Duration("shutdown-timeout", 10*time.Second, "how long shutdown may finish requests and drain copies")
	f.Bool("no-tui", false, "print plain summary lines instead of the dashboard")
	f.String("report-out", "", "write the diff report here at shutdown (.json, .md, .html or JUnit .xml)")
	f.String("report-format", "", "report format: json, md, html or xml (JUnit) (default: by --report-out extension)")
	f.String("capture", "", "record every compared exchange, redacted, to capture files in this directory (see README: Capture files)")
	cli.AddLogFlags(f)
	cli.AddPrintConfigFlag(cmd)
}

// loadConfig builds the effective config for cmd from defaults, file, env
// and flags, in rising order of precedence, and validates it.
func loadConfig(cmd *cobra.Command) (config, error) {
	cfg, err := decodeConfig(cmd)
	if err != nil {
		return config{}, err
	}
	if err := cfg.validate(); err != nil {
		return config{}, cli.ConfigError(err)
	}
	return cfg, nil
}

// decodeConfig is loadConfig without validation, for callers that fill in
// fields of their own first, or use only some sections.
func decodeConfig(cmd *cobra.Command) (config, error) {
	var cfg config
	o, err := loader.Load(cmd, &cfg)
	if err != nil {
		return config{}, cli.ConfigError(err)
	}
	cfg.origins = o
	return cfg, nil
}

// explain points each error about a key at where its value came from
// (cli.Origins.Explain).
func (c config) explain(err error) error { return c.origins.Explain(err) }

// validate reports every bad field at once, each named by its key and
// where its value came from.
func (c config) validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %w", err))
	}
	if err := c.ListenTLS.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("listen_tls: %w", err))
	}
	if c.SummaryInterval <= 0 {
		errs = append(errs, fmt.Errorf("summary_interval: must be positive, got %s", c.SummaryInterval))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown_timeout: must be positive, got %s", c.ShutdownTimeout))
	}
	errs = append(errs, cli.Under("mirror", c.Mirror.Validate()), cli.Under("compare", c.Compare.Validate()), c.Capture.validate())
	if _, err := c.reportFormat(); err != nil {
		errs = append(errs, err)
	} else if c.ReportOut != "" {
		// Found now, not after an hour of traffic with the report lost.
		if err := atomicfile.CheckWritable(c.ReportOut); err != nil {
			errs = append(errs, fmt.Errorf("report_out: the report could not be written: %w", err))
		}
	}
	errs = append(errs, c.Log.Validate(), c.validateEgress())
	for i, t := range c.Notify {
		for _, p := range t.Check() {
			errs = append(errs, fmt.Errorf("notify[%d].%s: %s", i, p.Key, p.Msg))
		}
	}
	errs = append(errs, problems(c.GRPC.Validate()))
	return c.explain(errors.Join(errs...))
}

// resolved is c with every zero value that stands for a default replaced
// by that default, as the proxy, the engine and the listener will run:
// what --print-config shows. logLevel is the command's default level.
func (c config) resolved(logLevel slog.Level) config {
	c.Mirror = c.Mirror.WithDefaults()
	c.Compare = c.Compare.WithDefaults()
	c.Server.ReadHeaderTimeout = cmp.Or(c.Server.ReadHeaderTimeout, wire.DefaultReadHeaderTimeout)
	c.Server.IdleTimeout = cmp.Or(c.Server.IdleTimeout, wire.DefaultIdleTimeout)
	c.Capture = c.Capture.resolved()
	c.Log = c.Log.Resolved(logLevel)
	if c.egressOn() {
		c.Egress.Limits = c.Egress.Limits.WithDefaults()
		c.Egress.Trace = cmp.Or(c.Egress.Trace, egress.TraceRequest)
	}
	return c
}

// reportFormat is the format of the report file: the configured one, or
// the one the file name's extension says.
func (c config) reportFormat() (string, error) {
	f := c.ReportFormat
	if f == "" && c.ReportOut != "" {
		f = strings.ToLower(strings.TrimPrefix(filepath.Ext(c.ReportOut), "."))
	}
	switch f {
	case "", "json", "md", "html", "xml":
		return f, nil
	case "markdown":
		return "md", nil
	case "htm":
		return "html", nil
	case "junit":
		return "xml", nil
	}
	return "", fmt.Errorf("report_format: %q is not json, md, html or xml (JUnit)", f)
}
