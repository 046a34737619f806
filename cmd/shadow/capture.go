package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/observe"
)

// captureConfig is the capture section of the config: where exchange
// records are written and what is redacted, both from the files and from
// what the dashboard and reports show.
type captureConfig struct {
	// Dir is where capture files go; "" records nothing.
	Dir string `mapstructure:"dir"`
	// QueueSize bounds the records waiting for the file; when it is full a
	// record is dropped and counted. 0 means observe.DefaultQueueSize.
	QueueSize int `mapstructure:"queue_size"`
	// MaxFileBytes starts a new file past this size; 0 means capture's
	// default (256 MiB).
	MaxFileBytes int64 `mapstructure:"max_file_bytes"`
	// Redact adds to the default redaction rules.
	Redact redactConfig `mapstructure:"redact"`
}

// redactConfig is the file form of capture.Redactor.
type redactConfig struct {
	Headers     []string `mapstructure:"headers"`
	QueryParams []string `mapstructure:"query_params"`
	FieldNames  []string `mapstructure:"field_names"`
	FieldPaths  []string `mapstructure:"field_paths"`
	// Key, when set (at least 16 bytes), replaces secrets with a keyed
	// hash instead of "[REDACTED]"; env SHADOW_CAPTURE_REDACT_KEY.
	Key string `mapstructure:"key"`
}

// redactor converts the file form.
func (r redactConfig) redactor() *capture.Redactor {
	red := &capture.Redactor{
		Headers: r.Headers, QueryParams: r.QueryParams, FieldNames: r.FieldNames, FieldPaths: r.FieldPaths,
	}
	if r.Key != "" {
		red.Key = []byte(r.Key)
	}
	return red
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
	if err := c.Redact.redactor().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("capture.redact: %w", err))
	}
	return errors.Join(errs...)
}

// newPipeline returns the observer pipeline for engine; with cfg.Dir set
// it starts the capture files there, with the labels in the files' header.
func newPipeline(engine *compare.Engine, cfg captureConfig, labels map[string]string, logger *slog.Logger) (*observe.Pipeline, error) {
	red := cfg.Redact.redactor()
	pcfg := observe.Config{Judge: engine, Redactor: red, Dir: cfg.Dir, QueueSize: cfg.QueueSize, Logger: logger}
	if cfg.Dir != "" {
		w, err := capture.NewWriter(capture.WriterOptions{
			Dir: cfg.Dir, MaxFileBytes: cfg.MaxFileBytes, Redactor: red,
			Header: capture.Header{Tool: "shadow", Labels: labels},
		})
		if err != nil {
			return nil, err
		}
		pcfg.Writer = w
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
