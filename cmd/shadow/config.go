package main

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"

	"github.com/spf13/cobra"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/mirror"
)

// config is the effective configuration of `shadow run` and `shadow demo`:
// defaults, overridden by the YAML file (--config), then by SHADOW_* env
// vars (SHADOW_MIRROR_QUEUE_SIZE for mirror.queue_size), then by flags.
type config struct {
	Listen          string         `mapstructure:"listen"`
	Primary         string         `mapstructure:"primary"`
	Candidate       string         `mapstructure:"candidate"`
	Secondary       string         `mapstructure:"secondary"`
	SummaryInterval time.Duration  `mapstructure:"summary_interval"`
	ShutdownTimeout time.Duration  `mapstructure:"shutdown_timeout"`
	NoTUI           bool           `mapstructure:"no_tui"`
	ReportOut       string         `mapstructure:"report_out"`
	ReportFormat    string         `mapstructure:"report_format"`
	Admin           string         `mapstructure:"admin"`
	AdminToken      string         `mapstructure:"admin_token"`
	Server          serverConfig   `mapstructure:"server"`
	Mirror          mirrorConfig   `mapstructure:"mirror"`
	Compare         compare.Config `mapstructure:"compare"`
	Capture         captureConfig  `mapstructure:"capture"`
	Log             cli.Log        `mapstructure:"log"`
}

// serverConfig holds the timeouts of the listener clients talk to, so that
// slow clients (slowloris headers and bodies, idle keep-alives) cannot pin
// goroutines and memory. Zero values take the defaults; negative ones turn
// a timeout off.
type serverConfig struct {
	// ReadHeaderTimeout bounds reading a request's head. 0 means 10s.
	ReadHeaderTimeout time.Duration `mapstructure:"read_header_timeout"`
	// BodyReadTimeout bounds each read of a request body: the longest a
	// client may pause while sending one (mirror.Config.BodyReadTimeout).
	// 0 means 30s.
	BodyReadTimeout time.Duration `mapstructure:"body_read_timeout"`
	// IdleTimeout bounds how long a keep-alive connection waits for its
	// next request. 0 means 2m.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
}

// Listener defaults; the body read timeout's is mirror's.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultIdleTimeout       = 2 * time.Minute
)

// mirrorConfig is the file form of mirror.Config; zero values take
// mirror's documented defaults.
type mirrorConfig struct {
	MaxBodyBytes     int64         `mapstructure:"max_body_bytes"`
	MaxResponseBytes int64         `mapstructure:"max_response_bytes"`
	QueueSize        int           `mapstructure:"queue_size"`
	Workers          int           `mapstructure:"workers"`
	CandidateTimeout time.Duration `mapstructure:"candidate_timeout"`
	MaxQueueWait     time.Duration `mapstructure:"max_queue_wait"`
	SamplePercent    float64       `mapstructure:"sample_percent"`
	SampleBy         string        `mapstructure:"sample_by"`
	MaxStreamBytes   int64         `mapstructure:"max_stream_body_bytes"`
	MaxSpooledBodies int           `mapstructure:"max_spooled_bodies"`
	MaxBufferedBytes int64         `mapstructure:"max_buffered_bytes"`
	PrimaryTarget    targetConfig  `mapstructure:"primary_target"`
	SecondaryTarget  targetConfig  `mapstructure:"secondary_target"`
	CandidateTarget  targetConfig  `mapstructure:"candidate_target"`
	MarkerHeader     string        `mapstructure:"marker_header"`
	MarkerValue      string        `mapstructure:"marker_value"`
	Routes           []routeConfig `mapstructure:"routes"`
}

// targetConfig is the file form of mirror.Target.
type targetConfig struct {
	Host          string            `mapstructure:"host"`
	PreserveHost  bool              `mapstructure:"preserve_host"`
	HostSuffix    string            `mapstructure:"host_suffix"`
	SetHeaders    map[string]string `mapstructure:"set_headers"`
	RemoveHeaders []string          `mapstructure:"remove_headers"`
}

func (t targetConfig) target() mirror.Target {
	return mirror.Target{
		Host: t.Host, PreserveHost: t.PreserveHost, HostSuffix: t.HostSuffix,
		SetHeaders: t.SetHeaders, RemoveHeaders: t.RemoveHeaders,
	}
}

type routeConfig struct {
	Name     string            `mapstructure:"name"`
	Methods  []string          `mapstructure:"methods"`
	Path     string            `mapstructure:"path"`
	Headers  map[string]string `mapstructure:"headers"`
	Disabled bool              `mapstructure:"disabled"`
	Unsafe   bool              `mapstructure:"unsafe"`
}

// flagKeys maps a flag to the config key it overrides.
var flagKeys = map[string]string{
	"listen":           "listen",
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
// fields of their own first.
func decodeConfig(cmd *cobra.Command) (config, error) {
	var cfg config
	if err := (cli.Loader{Prefix: "SHADOW", Flags: flagKeys}).Load(cmd, &cfg); err != nil {
		return config{}, cli.ConfigError(err)
	}
	return cfg, nil
}

// validate reports every bad field at once.
func (c config) validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %w", err))
	}
	if c.SummaryInterval <= 0 {
		errs = append(errs, fmt.Errorf("summary_interval: must be positive, got %s", c.SummaryInterval))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown_timeout: must be positive, got %s", c.ShutdownTimeout))
	}
	if err := c.mirrorConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Compare.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("compare: %w", err))
	}
	if err := c.Capture.validate(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.reportFormat(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Log.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
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

// mirrorConfig converts the file form to the proxy's config.
func (c config) mirrorConfig() mirror.Config {
	m := c.Mirror
	routes := make([]mirror.Route, len(m.Routes))
	for i, r := range m.Routes {
		routes[i] = mirror.Route{
			Name: r.Name, Methods: r.Methods, Path: r.Path, Headers: r.Headers,
			Disabled: r.Disabled, Unsafe: r.Unsafe,
		}
	}
	return mirror.Config{
		Primary:            c.Primary,
		Candidate:          c.Candidate,
		Secondary:          c.Secondary,
		MaxBodyBytes:       m.MaxBodyBytes,
		MaxResponseBytes:   m.MaxResponseBytes,
		QueueSize:          m.QueueSize,
		Workers:            m.Workers,
		CandidateTimeout:   m.CandidateTimeout,
		MaxQueueWait:       m.MaxQueueWait,
		SamplePercent:      m.SamplePercent,
		SampleBy:           m.SampleBy,
		MaxStreamBodyBytes: m.MaxStreamBytes,
		MaxSpooledBodies:   m.MaxSpooledBodies,
		MaxBufferedBytes:   m.MaxBufferedBytes,
		BodyReadTimeout:    c.Server.BodyReadTimeout,
		PrimaryTarget:      m.PrimaryTarget.target(),
		SecondaryTarget:    m.SecondaryTarget.target(),
		CandidateTarget:    m.CandidateTarget.target(),
		Routes:             routes,
		MarkerHeader:       m.MarkerHeader,
		MarkerValue:        m.MarkerValue,
	}
}
