package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/cmd/internal/metrics"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
)

// defaultCaptureQueue is how many exchange records may wait for the
// capture file when capture.queue_size is 0.
const defaultCaptureQueue = 1024

// captureConfig is the capture section of the config: where exchange
// records are written and what is redacted, both from the files and from
// what the dashboard and reports show.
type captureConfig struct {
	// Dir is where capture files go; "" records nothing.
	Dir string `mapstructure:"dir"`
	// QueueSize bounds the records waiting for the file; when it is full a
	// record is dropped and counted. 0 means defaultCaptureQueue.
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

// recorder is the proxy's observer: a small fan-out that redacts each
// exchange for the engine, has the engine judge it, and queues it with its
// verdict for the capture file.
//
// The engine judges a redacted copy, so the dashboard and reports, which
// show the engine's exemplars, never show a secret. The capture Writer
// always redacts what it writes, with the same rules, so the file holds
// exactly what the engine saw; handing it the redacted copy instead would
// hash keyed secrets twice. With a key, equal secrets hash equal, so a
// secret that differs between primary and candidate still shows as a diff.
//
// Writing never holds up the proxy's workers: records wait in a bounded
// queue for one writer goroutine, and when the queue is full the record is
// dropped and counted.
type recorder struct {
	redactor *capture.Redactor
	engine   *compare.Engine
	logger   *slog.Logger
	// metrics, once set, counts every judged exchange.
	metrics atomic.Pointer[metrics.ShadowMetrics]

	// The fields below are nil when nothing is captured.
	w     recordWriter
	dir   string
	queue chan *capture.ExchangeRecord
	done  chan struct{}

	mu     sync.RWMutex // orders sends against close(queue)
	closed bool

	written, dropped, failed atomic.Int64
	closeErr                 error
}

// recordWriter is what the recorder needs of a capture.Writer.
type recordWriter interface {
	WriteExchange(*capture.ExchangeRecord) error
	Close() error
	Files() []string
}

// newRecorder returns a recorder for engine; with cfg.Dir set it starts
// the capture files there, with the labels in the files' header.
func newRecorder(engine *compare.Engine, cfg captureConfig, labels map[string]string, logger *slog.Logger) (*recorder, error) {
	red := cfg.Redact.redactor()
	if cfg.Dir == "" {
		return &recorder{redactor: red, engine: engine, logger: logger}, nil
	}
	w, err := capture.NewWriter(capture.WriterOptions{
		Dir: cfg.Dir, MaxFileBytes: cfg.MaxFileBytes, Redactor: red,
		Header: capture.Header{Tool: "shadow", Labels: labels},
	})
	if err != nil {
		return nil, err
	}
	return startRecorder(engine, red, w, cfg.Dir, cfg.QueueSize, logger), nil
}

// startRecorder returns a recorder that queues records (queueSize of
// them; 0 means defaultCaptureQueue) for w, and starts its writer
// goroutine.
func startRecorder(engine *compare.Engine, red *capture.Redactor, w recordWriter, dir string, queueSize int, logger *slog.Logger) *recorder {
	if queueSize == 0 {
		queueSize = defaultCaptureQueue
	}
	r := &recorder{
		redactor: red, engine: engine, logger: logger, w: w, dir: dir,
		queue: make(chan *capture.ExchangeRecord, queueSize), done: make(chan struct{}),
	}
	go r.loop()
	return r
}

// Observe judges x and queues it for the capture file. Every side of x
// must be equally redacted: raw, as the proxy sees them, or all read from
// a capture file.
func (r *recorder) Observe(x *exchange.Exchange) {
	shown := *x // Redact replaces, never writes into, what it redacts
	r.redactor.Redact(&shown)
	res := r.engine.Record(&shown)
	if m := r.metrics.Load(); m != nil {
		m.Record(&shown, res)
	}
	if r.queue == nil {
		return
	}
	rec := exchangeRecord(x, res)
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.dropped.Add(1)
		return
	}
	select {
	case r.queue <- rec:
	default:
		r.dropped.Add(1)
	}
}

// exchangeRecord pairs x with its judgement. Diff paths name body fields
// as "body.$.path", as capture.ExchangeRecord documents.
func exchangeRecord(x *exchange.Exchange, res compare.Result) *capture.ExchangeRecord {
	rec := &capture.ExchangeRecord{Exchange: *x, Endpoint: res.Endpoint.String(), Differs: res.Differs}
	for _, d := range res.Differences() {
		p := d.Path
		if strings.HasPrefix(p, "$") {
			p = "body." + p
		}
		if d.Noise {
			rec.Noise = append(rec.Noise, p)
		} else {
			rec.Diffs = append(rec.Diffs, p)
		}
	}
	return rec
}

// loop writes queued records until the queue is closed.
func (r *recorder) loop() {
	defer close(r.done)
	for rec := range r.queue {
		if err := r.w.WriteExchange(rec); err != nil {
			if r.failed.Add(1) == 1 {
				r.logger.Error("capture write failed; further records are counted as failed", "dir", r.dir, "err", err)
			}
			continue
		}
		r.written.Add(1)
	}
}

// Close writes what is queued and finishes the files (flushed, synced,
// renamed from .partial). Call it once the proxy has drained; records
// observed later are dropped and counted. Calling it again returns the
// first result.
func (r *recorder) Close() error {
	if r.queue == nil {
		return nil
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return r.closeErr
	}
	r.closed = true
	close(r.queue)
	r.mu.Unlock()
	<-r.done
	err := r.w.Close()
	if err == nil && r.failed.Load() > 0 {
		err = fmt.Errorf("%d records could not be written", r.failed.Load())
	}
	if err != nil {
		err = fmt.Errorf("capture to %q: %w", r.dir, err)
	}
	r.closeErr = err
	return err
}

// discard closes the recorder of a run that never started and removes
// its files, which hold no records.
func (r *recorder) discard() {
	if r.queue == nil {
		return
	}
	_ = r.Close()
	if r.written.Load() > 0 {
		return
	}
	for _, f := range r.w.Files() {
		os.Remove(f)
	}
}

// summary describes what was captured, for the final summary line; ""
// when nothing is.
func (r *recorder) summary() string {
	if r.queue == nil {
		return ""
	}
	s := fmt.Sprintf("capture: %d records written to %s, %d dropped (writer behind)", r.written.Load(), r.dir, r.dropped.Load())
	if n := r.failed.Load(); n > 0 {
		s += fmt.Sprintf(", %d failed to write", n)
	}
	return s
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
