package main

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/observe"
)

// captureConfig is the capture section of the config: where exchange
// records are written (observe.Config and capture.WriterOptions) and what
// is redacted, both from the files and from what the dashboard and
// reports show.
type captureConfig struct {
	// Dir is where capture files go; "" records nothing.
	Dir string `mapstructure:"dir"`
	// QueueSize bounds the records waiting for the file; when it is full a
	// record is dropped and counted. 0 means observe.DefaultQueueSize.
	QueueSize int `mapstructure:"queue_size"`
	// MaxFileBytes starts a new file past this size; 0 means
	// capture.DefaultMaxFileBytes.
	MaxFileBytes int64 `mapstructure:"max_file_bytes"`
	// Redact adds to the default redaction rules; its key (at least 16
	// bytes) replaces secrets with a keyed hash, env
	// SHADOW_CAPTURE_REDACT_KEY.
	Redact capture.Redactor `mapstructure:"redact"`
}

// validate reports every bad capture field, named by its config key.
func (c captureConfig) validate() error {
	var errs []error
	if c.QueueSize < 0 {
		errs = append(errs, fmt.Errorf("capture.queue_size: must not be negative, got %d", c.QueueSize))
	}
	if c.MaxFileBytes < 0 {
		errs = append(errs, fmt.Errorf("capture.max_file_bytes: must not be negative, got %d", c.MaxFileBytes))
	}
	errs = append(errs, cli.Under("capture.redact", c.Redact.Validate()))
	return errors.Join(errs...)
}

// resolved is c with its defaults filled in (see config.resolved).
func (c captureConfig) resolved() captureConfig {
	c.QueueSize = cmp.Or(c.QueueSize, observe.DefaultQueueSize)
	c.MaxFileBytes = cmp.Or(c.MaxFileBytes, capture.DefaultMaxFileBytes)
	return c
}

// newPipeline returns the observer pipeline for engine; with cfg.Dir set
// it starts the capture files there, with the labels in the files' header,
// gRPC records referring to the descriptors g knows (nil: none). Each of
// opts then adjusts the pipeline's config.
func newPipeline(engine *compare.Engine, cfg captureConfig, labels map[string]string, logger *slog.Logger, g *grpcSchemas, opts ...func(*observe.Config)) (*observe.Pipeline, error) {
	red := &cfg.Redact
	pcfg := observe.Config{Judge: engine, Redactor: red, Dir: cfg.Dir, QueueSize: cfg.QueueSize, Logger: logger}
	for _, o := range opts {
		o(&pcfg)
	}
	if cfg.Dir != "" {
		w, err := capture.NewWriter(capture.WriterOptions{
			Dir: cfg.Dir, MaxFileBytes: cfg.MaxFileBytes, Redactor: red,
			Header: capture.Header{Tool: "shadow", Labels: labels},
		})
		if err != nil {
			return nil, err
		}
		pcfg.Writer = w
		if g != nil {
			pcfg.Writer = descriptorWriter{w, g}
		}
	}
	p, err := observe.New(pcfg)
	if err != nil && pcfg.Writer != nil {
		pcfg.Writer.Close()
	}
	return p, err
}

// captureLabels describes a run in the capture files' header: the
// command and the upstreams, without userinfo or query.
func captureLabels(command string, upstreams map[string]string) map[string]string {
	labels := map[string]string{"command": command}
	for k, v := range upstreams {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err == nil {
			u.User, u.RawQuery, u.Fragment = nil, "", ""
			v = u.String()
		}
		labels[k] = v
	}
	return labels
}
