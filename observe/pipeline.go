package observe

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
)

// DefaultQueueSize is how many records may wait for the capture writer
// when Config.QueueSize is 0.
const DefaultQueueSize = 1024

// MaxRecordedPaths bounds the diff and the noise paths kept in one
// capture record; the bodies are kept whole, so `shadow report` finds
// every difference again.
const MaxRecordedPaths = 1000

// Judge is what a Pipeline needs of the compare engine (*compare.Engine).
type Judge interface {
	Record(x *exchange.Exchange) compare.Result
}

// RecordWriter is what a Pipeline needs of a capture.Writer.
type RecordWriter interface {
	WriteExchange(*capture.ExchangeRecord) error
	Close() error
	Files() []string
}

// Config configures a Pipeline.
type Config struct {
	// Judge judges each redacted exchange. Required.
	Judge Judge
	// Redactor removes secrets before the exchange is judged. Nil means
	// the zero Redactor (the defaults).
	Redactor *capture.Redactor
	// Writer receives each exchange with its verdict; it redacts what it
	// writes itself (a capture.Writer does, with the same rules). Nil
	// captures nothing.
	Writer RecordWriter
	// Dir names where Writer writes, in the summary and errors.
	Dir string
	// QueueSize bounds the records waiting for Writer; when it is full a
	// record is dropped and counted. 0 means DefaultQueueSize.
	QueueSize int
	// Judges bounds the exchanges judged at once. 0 means
	// DefaultJudges(): GOMAXPROCS-1, at least 1.
	Judges int
	// JudgeWait bounds how long an exchange waits for a free judge
	// before it is dropped and counted in Stats.Busy. 0 means
	// DefaultJudgeWait (1s).
	JudgeWait time.Duration
	// Logger receives the first write failure. Nil discards.
	Logger *slog.Logger
	// Outbound, when set, supplies each exchange's outbound calls
	// (exchange.Exchange.Outbound) by its trace id, taken when the
	// exchange is observed, so that they are judged and recorded with it.
	// Nil leaves Outbound as the exchange has it.
	Outbound OutboundSource
}

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	switch {
	case c.Judge == nil:
		return errors.New("observe: Judge is nil")
	case c.QueueSize < 0:
		return fmt.Errorf("observe: QueueSize %d is negative", c.QueueSize)
	case c.Judges < 0:
		return fmt.Errorf("observe: Judges %d is negative", c.Judges)
	case c.JudgeWait < 0:
		return fmt.Errorf("observe: JudgeWait %v is negative", c.JudgeWait)
	}
	if c.Redactor != nil {
		if err := c.Redactor.Validate(); err != nil {
			return fmt.Errorf("observe: %w", err)
		}
	}
	return nil
}

// Stats counts what a Pipeline did.
type Stats struct {
	// Judged exchanges reached the engine.
	Judged int64
	// Busy exchanges found every judge busy for JudgeWait and were
	// dropped unjudged (and unrecorded).
	Busy int64
	// Written records reached the capture writer.
	Written int64
	// Dropped records found the writer's queue full (or the Pipeline
	// closed).
	Dropped int64
	// TooLarge records were refused by the writer (capture's
	// ErrRecordTooLarge); the exchange was judged all the same.
	TooLarge int64
	// Failed records could not be written (disk full, ...).
	Failed int64
}

// Pipeline is the proxy's observer (mirror.Observer): redact, judge,
// record. It is safe for concurrent use.
type Pipeline struct {
	cfg      Config
	red      *capture.Redactor
	judges   judges
	logger   *slog.Logger
	onJudged atomic.Pointer[func(*exchange.Exchange, compare.Result)]

	// queue and done are nil when nothing is captured.
	queue chan *capture.ExchangeRecord
	done  chan struct{}

	mu       sync.RWMutex // orders sends against close(queue)
	closed   bool
	closeErr error

	judged, busy, written, dropped, tooLarge, failed atomic.Int64
}

// New validates cfg and returns a Pipeline, with its writer goroutine
// started when cfg.Writer is set.
func New(cfg Config) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Judges == 0 {
		cfg.Judges = DefaultJudges()
	}
	if cfg.JudgeWait == 0 {
		cfg.JudgeWait = DefaultJudgeWait
	}
	p := &Pipeline{cfg: cfg, red: cfg.Redactor, judges: newJudges(cfg.Judges, cfg.JudgeWait), logger: cfg.Logger}
	if p.red == nil {
		p.red = &capture.Redactor{}
	}
	if p.logger == nil {
		p.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Writer != nil {
		p.queue = make(chan *capture.ExchangeRecord, cfg.QueueSize)
		p.done = make(chan struct{})
		go p.loop()
	}
	return p, nil
}

// OnJudged has fn called with every judged (redacted) exchange and its
// result from now on, as metrics want; nil stops it.
func (p *Pipeline) OnJudged(fn func(*exchange.Exchange, compare.Result)) {
	if fn == nil {
		p.onJudged.Store(nil)
		return
	}
	p.onJudged.Store(&fn)
}

// Observe judges x and queues it for the capture file. Every side of x
// must be equally redacted: raw, as the proxy sees them, or all read from
// a capture file. x is not modified. It waits at most JudgeWait for a
// judge and never for the writer.
func (p *Pipeline) Observe(x *exchange.Exchange) {
	if p.cfg.Outbound != nil {
		// Taken even when the exchange is dropped below, so that its
		// calls are not held until they expire.
		x = withOutbound(x, p.cfg.Outbound)
	}
	if !p.judges.acquire() {
		p.busy.Add(1)
		return
	}
	shown := *x // Redact replaces, never writes into, what it redacts
	var sealed *capture.SealedExchange
	if p.queue != nil {
		sealed = p.red.Seal(&shown) // redacted as Redact does, and kept for the writer
	} else {
		p.red.Redact(&shown)
	}
	res := p.cfg.Judge.Record(&shown)
	p.judges.release()
	p.judged.Add(1)
	if fn := p.onJudged.Load(); fn != nil {
		(*fn)(&shown, res)
	}
	if p.queue == nil {
		return
	}
	rec := Record(x, res)
	rec.Sealed = sealed // a capture.Writer of the same rules does not redact it again
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		p.dropped.Add(1)
		return
	}
	select {
	case p.queue <- rec:
	default:
		p.dropped.Add(1)
	}
}

// Record pairs x with its judgement as a capture record. Diff paths name
// body fields as "body.$.path", as capture.ExchangeRecord documents; at
// most MaxRecordedPaths of each kind are kept.
// With several candidates, the verdicts on the others (res.Others) go in
// rec.Candidates, each named.
func Record(x *exchange.Exchange, res compare.Result) *capture.ExchangeRecord {
	rec := &capture.ExchangeRecord{Exchange: *x, Endpoint: res.Endpoint.String(), Differs: res.Differs}
	rec.Diffs, rec.Noise = recordedPaths(res)
	for _, o := range res.Others {
		c := capture.CandidateVerdict{Name: o.Candidate, Differs: o.Differs}
		c.Diffs, c.Noise = recordedPaths(o)
		rec.Candidates = append(rec.Candidates, c)
	}
	return rec
}

// recordedPaths returns res's differing and noise paths as a capture
// record holds them.
func recordedPaths(res compare.Result) (diffs, noise []string) {
	for _, d := range res.Differences() {
		p := d.Path
		if strings.HasPrefix(p, "$") {
			p = "body." + p
		}
		switch {
		case (d.Noise || d.Proxy) && len(noise) < MaxRecordedPaths: // the proxy's own: not the candidate's
			noise = append(noise, p)
		case !d.Noise && !d.Proxy && len(diffs) < MaxRecordedPaths:
			diffs = append(diffs, p)
		}
	}
	return diffs, noise
}

// loop writes queued records until the queue is closed.
func (p *Pipeline) loop() {
	defer close(p.done)
	for rec := range p.queue {
		err := p.cfg.Writer.WriteExchange(rec)
		switch {
		case err == nil:
			p.written.Add(1)
		case errors.Is(err, capture.ErrRecordTooLarge):
			p.tooLarge.Add(1)
		default:
			if p.failed.Add(1) == 1 {
				p.logger.Error("capture write failed; further records are counted as failed", "dir", p.cfg.Dir, "err", err)
			}
		}
	}
}

// Close writes what is queued and closes the writer (for a capture.Writer:
// flushed, synced, renamed from .partial). Call it once the proxy has
// drained; exchanges observed later are judged but their records dropped
// and counted. Calling it again returns the first result.
func (p *Pipeline) Close() error {
	if p.queue == nil {
		return nil
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return p.closeErr
	}
	p.closed = true
	close(p.queue)
	p.mu.Unlock()
	<-p.done
	err := p.cfg.Writer.Close()
	if err == nil && p.failed.Load() > 0 {
		err = fmt.Errorf("%d records could not be written", p.failed.Load())
	}
	if err != nil {
		err = fmt.Errorf("capture to %q: %w", p.cfg.Dir, err)
	}
	p.closeErr = err
	return err
}

// Discard closes the Pipeline of a run that never started and removes
// the writer's files when they hold no record.
func (p *Pipeline) Discard() {
	if p.queue == nil {
		return
	}
	_ = p.Close()
	if p.written.Load() > 0 {
		return
	}
	for _, f := range p.cfg.Writer.Files() {
		os.Remove(f)
	}
}

// Stats returns the counts so far.
func (p *Pipeline) Stats() Stats {
	return Stats{
		Judged: p.judged.Load(), Busy: p.busy.Load(), Written: p.written.Load(),
		Dropped: p.dropped.Load(), TooLarge: p.tooLarge.Load(), Failed: p.failed.Load(),
	}
}

// Summary describes what was judged and captured for a final summary
// line; "" when nothing was captured and nothing dropped.
func (p *Pipeline) Summary() string {
	s := p.Stats()
	var parts []string
	if s.Busy > 0 {
		parts = append(parts, fmt.Sprintf("judge: %d exchanges dropped unjudged (all %d judges busy)", s.Busy, p.cfg.Judges))
	}
	if p.queue != nil {
		c := fmt.Sprintf("capture: %d records written to %s, %d dropped (writer behind)", s.Written, p.cfg.Dir, s.Dropped)
		if s.TooLarge > 0 {
			c += fmt.Sprintf(", %d too large", s.TooLarge)
		}
		if s.Failed > 0 {
			c += fmt.Sprintf(", %d failed to write", s.Failed)
		}
		parts = append(parts, c)
	}
	return strings.Join(parts, "; ")
}
