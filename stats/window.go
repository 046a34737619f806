package stats

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// DefaultWindowSpan is the span of a Window whose span was not set.
const DefaultWindowSpan = 10 * time.Second

// Window counts events, failures and latencies over the last few seconds,
// so a guardrail can ask "what is the error rate and p99 right now?" rather
// than since the start of a run. It keeps a ring of one-second buckets, each
// with a count, a failure count and an HDR latency histogram (same range and
// precision as Histogram); a bucket is reused once its second has left the
// span, so memory stays fixed however long the run. The figures cover the
// whole seconds of the span plus the current, partial second, so the
// sample never shrinks to nothing at a second boundary.
//
// Times are passed in by the caller, which keeps the window deterministic in
// tests and lets the caller decide what "now" means (usually time.Now).
// Events older than the span are ignored.
//
// The zero value is an empty window spanning DefaultWindowSpan. A Window is
// safe for concurrent use and must not be copied after first use.
type Window struct {
	mu      sync.Mutex
	span    time.Duration
	buckets []windowBucket
	scratch *hdrhistogram.Histogram
}

// WindowStats is what a Window holds at one instant.
type WindowStats struct {
	// Span is the window's span; the figures cover it plus the part of the
	// current second that has passed.
	Span time.Duration `json:"span"`
	// Count is the number of events in the span.
	Count int64 `json:"count"`
	// Failures is how many of them failed.
	Failures int64 `json:"failures"`
	// ErrorRate is Failures/Count, or 0 when Count is 0.
	ErrorRate float64 `json:"error_rate"`
	// Rate is Count per second over the time covered.
	Rate float64 `json:"rate"`
	// P50, P99 and Max are latency quantiles of the events that had a
	// latency (see Window.Record); 0 when there were none.
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
}

type windowBucket struct {
	sec      int64 // unix second this bucket holds; 0 when unused
	count    int64
	failures int64
	h        *hdrhistogram.Histogram // allocated on the first latency
}

// NewWindow returns an empty window covering span, rounded up to whole
// seconds (at least one). A span of zero or less gives DefaultWindowSpan.
func NewWindow(span time.Duration) *Window {
	w := &Window{span: span}
	w.init()
	return w
}

func (w *Window) init() {
	if w.buckets != nil {
		return
	}
	if w.span <= 0 {
		w.span = DefaultWindowSpan
	}
	n := int((w.span + time.Second - 1) / time.Second)
	w.span = time.Duration(n) * time.Second
	w.buckets = make([]windowBucket, n+1) // the span, and the current second
}

// Span returns how much time the window covers.
func (w *Window) Span() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.init()
	return w.span
}

// bucket returns the bucket for the second of at, emptied if it held an
// older second, or nil when at is older than what the bucket now holds.
func (w *Window) bucket(at time.Time) *windowBucket {
	w.init()
	sec := at.Unix()
	n := int64(len(w.buckets))
	b := &w.buckets[((sec%n)+n)%n]
	switch {
	case b.sec == sec:
		return b
	case b.sec > sec:
		return nil // too old: its slot already holds a later second
	}
	b.sec, b.count, b.failures = sec, 0, 0
	if b.h != nil {
		b.h.Reset()
	}
	return b
}

// Record adds one event that happened at at and took latency; failed says
// whether it counts as a failure.
func (w *Window) Record(at time.Time, latency time.Duration, failed bool) {
	v := latency.Microseconds()
	v = max(lowestMicros, min(v, highestMicros))
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.bucket(at)
	if b == nil {
		return
	}
	b.count++
	if failed {
		b.failures++
	}
	if b.h == nil {
		b.h = newHDR()
	}
	_ = b.h.RecordValue(v) // cannot fail: v is clamped to the range
}

// Mark adds one event without a latency (a journey start, a dropped
// start): it counts towards Count, Failures and Rate but not the quantiles.
func (w *Window) Mark(at time.Time, failed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.bucket(at)
	if b == nil {
		return
	}
	b.count++
	if failed {
		b.failures++
	}
}

// Stats returns the figures for the span that ends at now: the whole
// seconds of the span before the second that holds now, and that second up
// to now.
func (w *Window) Stats(now time.Time) WindowStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.init()
	st := WindowStats{Span: w.span}
	newest := now.Unix()
	oldest := newest - int64(len(w.buckets)) + 1
	covered := w.span + now.Sub(now.Truncate(time.Second))
	merged := false
	for i := range w.buckets {
		b := &w.buckets[i]
		if b.sec < oldest || b.sec > newest || b.count == 0 {
			continue
		}
		st.Count += b.count
		st.Failures += b.failures
		if b.h == nil || b.h.TotalCount() == 0 {
			continue
		}
		if w.scratch == nil {
			w.scratch = newHDR()
		}
		if !merged {
			w.scratch.Reset()
			merged = true
		}
		w.scratch.Merge(b.h)
	}
	if st.Count > 0 {
		st.ErrorRate = float64(st.Failures) / float64(st.Count)
		st.Rate = float64(st.Count) / covered.Seconds()
	}
	if merged {
		st.P50 = micros(w.scratch.ValueAtQuantile(50))
		st.P99 = micros(w.scratch.ValueAtQuantile(99))
		st.Max = micros(w.scratch.Max())
	}
	return st
}

// Reset empties the window.
func (w *Window) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range w.buckets {
		b := &w.buckets[i]
		b.sec, b.count, b.failures = 0, 0, 0
		if b.h != nil {
			b.h.Reset()
		}
	}
}
