// Package stats holds the measuring instruments shared by the proxy and the
// synthetic runner: latency histograms that merge exactly, and sliding
// windows for rates and guardrails.
package stats

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds between these bounds, with three
// significant figures: 0.1% error at any magnitude.
const (
	lowestMicros  = 1
	highestMicros = int64(10 * time.Minute / time.Microsecond)
	sigFigs       = 3
)

// Histogram records latencies and answers percentile questions about them.
// Values above ten minutes are recorded as ten minutes. It is safe for
// concurrent use. The zero value is an empty histogram ready to use.
type Histogram struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

// Summary is a point-in-time digest of a Histogram.
type Summary struct {
	Count int64         `json:"count"`
	Min   time.Duration `json:"min"`
	Mean  time.Duration `json:"mean"`
	P50   time.Duration `json:"p50"`
	P90   time.Duration `json:"p90"`
	P99   time.Duration `json:"p99"`
	Max   time.Duration `json:"max"`
}

func newHDR() *hdrhistogram.Histogram {
	return hdrhistogram.New(lowestMicros, highestMicros, sigFigs)
}

func (h *Histogram) init() {
	if h.h == nil {
		h.h = newHDR()
	}
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	v := d.Microseconds()
	if v < lowestMicros {
		v = lowestMicros
	}
	if v > highestMicros {
		v = highestMicros
	}
	h.mu.Lock()
	h.init()
	_ = h.h.RecordValue(v) // cannot fail: v is clamped to the range
	h.mu.Unlock()
}

// Count returns how many latencies were recorded.
func (h *Histogram) Count() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.h == nil {
		return 0
	}
	return h.h.TotalCount()
}

// Quantile returns the latency at quantile q, between 0 and 1 (0.99 for
// p99). It returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.h == nil {
		return 0
	}
	return micros(h.h.ValueAtQuantile(q * 100))
}

// Summary returns the count and the usual percentiles.
func (h *Histogram) Summary() Summary {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.h == nil || h.h.TotalCount() == 0 {
		return Summary{}
	}
	return Summary{
		Count: h.h.TotalCount(),
		Min:   micros(h.h.Min()),
		Mean:  time.Duration(h.h.Mean() * float64(time.Microsecond)),
		P50:   micros(h.h.ValueAtQuantile(50)),
		P90:   micros(h.h.ValueAtQuantile(90)),
		P99:   micros(h.h.ValueAtQuantile(99)),
		Max:   micros(h.h.Max()),
	}
}

// Merge adds every value recorded in o to h. Percentiles of the merged
// histogram are exact, which averaging percentiles never is.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o == h {
		return
	}
	s := o.Export()
	if s == nil {
		return
	}
	other := hdrhistogram.Import(s)
	h.mu.Lock()
	h.init()
	h.h.Merge(other)
	h.mu.Unlock()
}

// Reset empties the histogram.
func (h *Histogram) Reset() {
	h.mu.Lock()
	if h.h != nil {
		h.h.Reset()
	}
	h.mu.Unlock()
}

// Export returns a serialisable copy of the histogram (for result files),
// or nil when it is empty.
func (h *Histogram) Export() *hdrhistogram.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.h == nil || h.h.TotalCount() == 0 {
		return nil
	}
	return h.h.Export()
}

// Import builds a Histogram from a snapshot made by Export. A nil snapshot
// gives an empty histogram.
func Import(s *hdrhistogram.Snapshot) *Histogram {
	if s == nil {
		return &Histogram{}
	}
	return &Histogram{h: hdrhistogram.Import(s)}
}

func micros(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
