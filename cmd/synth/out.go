package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/scenarios"
)

// outQueue is how many step records may wait for the --out file; when it
// is full a record is dropped and counted rather than holding up a
// journey.
const outQueue = 8192

// resultWriter records every request of a run as a capture.SynthRecord:
// the runner hands results to a bounded queue, one goroutine writes them.
type resultWriter struct {
	out    string // --out: a file, or a directory to write into
	dir    bool
	w      *capture.Writer
	logger *slog.Logger
	queue  chan *capture.SynthRecord
	done   chan struct{}

	mu     sync.RWMutex // orders sends against close(queue)
	closed bool

	written, dropped, failed atomic.Int64
}

// newResultWriter starts the result file for --out. A path that is a
// directory (or ends in a separator) gets files named by capture, so that
// many runners can share it; otherwise the finished file is renamed to
// the path.
func newResultWriter(out string, info scenarios.RunInfo, logger *slog.Logger) (*resultWriter, error) {
	rw := &resultWriter{out: out, logger: logger,
		queue: make(chan *capture.SynthRecord, outQueue), done: make(chan struct{})}
	dir, prefix := out, "synth"
	if isDirPath(out) {
		rw.dir = true
	} else {
		dir = filepath.Dir(out)
		prefix = strings.TrimPrefix(strings.TrimSuffix(filepath.Base(out), capture.FileSuffix), ".")
	}
	w, err := capture.NewWriter(capture.WriterOptions{
		Dir: dir, Prefix: prefix, Header: capture.Header{Tool: "synth", Labels: info.Labels()},
	})
	if err != nil {
		return nil, fmt.Errorf("out: %w", err)
	}
	rw.w = w
	go rw.loop()
	return rw, nil
}

// OnResult queues one request's record; it never waits for the disk.
func (rw *resultWriter) OnResult(r scenarios.StepResult) {
	rec := &capture.SynthRecord{
		RunID: r.RunID, Scenario: r.Scenario, Journey: r.Journey, JourneyID: r.JourneyID, Step: r.Step,
		Tags: r.Tags, Method: r.Method, URL: r.URL, Status: r.Status, Latency: r.Latency, Intended: r.Start,
		ErrorKind: r.ErrorKind, Passed: r.Passed(),
	}
	for _, f := range r.Failures {
		rec.Failures = append(rec.Failures, f.Check+": "+f.Msg)
	}
	rw.mu.RLock()
	defer rw.mu.RUnlock()
	if rw.closed {
		rw.dropped.Add(1)
		return
	}
	select {
	case rw.queue <- rec:
	default:
		rw.dropped.Add(1)
	}
}

func (rw *resultWriter) loop() {
	defer close(rw.done)
	for rec := range rw.queue {
		if err := rw.w.WriteSynth(rec); err != nil {
			if rw.failed.Add(1) == 1 {
				rw.logger.Error("result file write failed; further records are counted as failed", "out", rw.out, "err", err)
			}
			continue
		}
		rw.written.Add(1)
	}
}

// Close writes what is queued, finishes the file and, for a file path,
// renames it into place. It returns the files written.
func (rw *resultWriter) Close() ([]string, error) {
	rw.mu.Lock()
	if rw.closed {
		rw.mu.Unlock()
		return nil, nil
	}
	rw.closed = true
	close(rw.queue)
	rw.mu.Unlock()
	<-rw.done
	if err := rw.w.Close(); err != nil {
		return nil, fmt.Errorf("out %q: %w", rw.out, err)
	}
	files := rw.w.Files()
	if !rw.dir && len(files) == 1 {
		if err := os.Rename(files[0], rw.out); err != nil {
			return files, fmt.Errorf("out %q: %w", rw.out, err)
		}
		files = []string{rw.out}
	}
	if n := rw.failed.Load(); n > 0 {
		return files, fmt.Errorf("out %q: %d records could not be written", rw.out, n)
	}
	return files, nil
}

// summary says what was recorded, for the run's output.
func (rw *resultWriter) summary(files []string) string {
	return fmt.Sprintf("results: %d requests recorded to %s, %d dropped (writer behind)",
		rw.written.Load(), strings.Join(files, ", "), rw.dropped.Load())
}

// stepResult reads a result file's record back as the request it records.
// A record marked failed that names no failed check (a damaged file) gets
// one, so it still counts as failed.
func stepResult(rec *capture.SynthRecord) scenarios.StepResult {
	r := scenarios.StepResult{
		Scenario: rec.Scenario, RunID: rec.RunID, JourneyID: rec.JourneyID, Journey: rec.Journey, Step: rec.Step,
		Method: rec.Method, URL: rec.URL, Tags: rec.Tags, Status: rec.Status, Start: rec.Intended,
		Latency: rec.Latency, ErrorKind: rec.ErrorKind,
	}
	for _, f := range rec.Failures {
		check, msg, ok := strings.Cut(f, ": ")
		if !ok {
			check, msg = "check", f
		}
		r.Failures = append(r.Failures, scenarios.CheckFailure{Check: check, Msg: msg})
	}
	if !rec.Passed && rec.ErrorKind == "" && len(r.Failures) == 0 {
		r.Failures = []scenarios.CheckFailure{{Check: "check", Msg: "failed (the record names no check)"}}
	}
	return r
}
