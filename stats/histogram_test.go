package stats

import (
	"sync"
	"testing"
	"time"
)

func TestHistogramZeroValue(t *testing.T) {
	t.Parallel()
	var h Histogram
	if got := h.Quantile(0.99); got != 0 {
		t.Errorf("Quantile on empty = %v, want 0", got)
	}
	if got := h.Summary(); got != (Summary{}) {
		t.Errorf("Summary on empty = %+v, want zero", got)
	}
	if h.Export() != nil {
		t.Error("Export on empty is not nil")
	}
}

func TestHistogramPercentiles(t *testing.T) {
	t.Parallel()
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 500 * time.Millisecond},
		{0.9, 900 * time.Millisecond},
		{0.99, 990 * time.Millisecond},
		{1, 1000 * time.Millisecond},
	}
	for _, tt := range tests {
		got := h.Quantile(tt.q)
		if diff := got - tt.want; diff < -tt.want/500 || diff > tt.want/500 {
			t.Errorf("Quantile(%v) = %v, want %v ±0.2%%", tt.q, got, tt.want)
		}
	}
	s := h.Summary()
	if s.Count != 1000 || s.Min != time.Millisecond {
		t.Errorf("Summary = %+v, want count 1000, min 1ms", s)
	}
}

func TestHistogramClampsOutOfRange(t *testing.T) {
	t.Parallel()
	var h Histogram
	h.Record(0)
	h.Record(time.Hour)
	s := h.Summary()
	if s.Count != 2 || s.Min != time.Microsecond || s.Max < 9*time.Minute {
		t.Errorf("Summary = %+v, want both values clamped and counted", s)
	}
}

// Merging must give the percentiles of the union, not an average of the
// parts' percentiles.
func TestHistogramMergeIsExact(t *testing.T) {
	t.Parallel()
	var fast, slow, all Histogram
	for i := 0; i < 990; i++ {
		fast.Record(time.Millisecond)
		all.Record(time.Millisecond)
	}
	for i := 0; i < 10; i++ {
		slow.Record(time.Second)
		all.Record(time.Second)
	}
	var merged Histogram
	merged.Merge(&fast)
	merged.Merge(Import(slow.Export()))
	if got, want := merged.Summary(), all.Summary(); got != want {
		t.Errorf("merged = %+v, want %+v", got, want)
	}
	merged.Merge(&merged) // merging into itself is a no-op, not a deadlock
	if got := merged.Count(); got != 1000 {
		t.Errorf("Count after self-merge = %d, want 1000", got)
	}
}

func TestHistogramConcurrent(t *testing.T) {
	t.Parallel()
	var h Histogram
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				h.Record(time.Millisecond)
				_ = h.Quantile(0.5)
			}
		}()
	}
	wg.Wait()
	if got := h.Count(); got != 4000 {
		t.Errorf("Count = %d, want 4000", got)
	}
}
