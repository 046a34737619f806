package stats

import (
	"math"
	"sync"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestWindowZeroValue(t *testing.T) {
	t.Parallel()
	var w Window
	if got := w.Stats(t0); got != (WindowStats{Span: DefaultWindowSpan}) {
		t.Errorf("Stats on zero value = %+v, want empty with default span", got)
	}
	if got := w.Span(); got != DefaultWindowSpan {
		t.Errorf("Span = %v, want %v", got, DefaultWindowSpan)
	}
	w.Record(t0, time.Millisecond, true)
	if got := w.Stats(t0); got.Count != 1 || got.Failures != 1 {
		t.Errorf("after one failed record: %+v, want count 1, failures 1", got)
	}
}

func TestNewWindowRoundsSpan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want time.Duration
	}{
		{0, DefaultWindowSpan},
		{-time.Second, DefaultWindowSpan},
		{time.Millisecond, time.Second},
		{time.Second, time.Second},
		{1500 * time.Millisecond, 2 * time.Second},
		{time.Minute, time.Minute},
	}
	for _, tt := range tests {
		if got := NewWindow(tt.in).Span(); got != tt.want {
			t.Errorf("NewWindow(%v).Span() = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestWindowSlides(t *testing.T) {
	t.Parallel()
	w := NewWindow(3 * time.Second)
	// Second 0: 10 fast successes. Second 1: 10 slow failures.
	for i := 0; i < 10; i++ {
		w.Record(t0.Add(time.Duration(i)*50*time.Millisecond), time.Millisecond, false)
		w.Record(t0.Add(time.Second+time.Duration(i)*50*time.Millisecond), time.Second, true)
	}
	tests := []struct {
		name      string
		now       time.Time
		count     int64
		failures  int64
		errorRate float64
		p99       time.Duration
	}{
		{"both seconds in span", t0.Add(1500 * time.Millisecond), 20, 10, 0.5, time.Second},
		{"still both: three whole seconds back", t0.Add(3999 * time.Millisecond), 20, 10, 0.5, time.Second},
		{"first second slid out", t0.Add(4 * time.Second), 10, 10, 1, time.Second},
		{"everything slid out", t0.Add(5 * time.Second), 0, 0, 0, 0},
		{"before the events", t0.Add(-10 * time.Second), 0, 0, 0, 0},
	}
	for _, tt := range tests {
		got := w.Stats(tt.now)
		if got.Count != tt.count || got.Failures != tt.failures || got.ErrorRate != tt.errorRate {
			t.Errorf("%s: got count %d failures %d rate %v, want %d %d %v",
				tt.name, got.Count, got.Failures, got.ErrorRate, tt.count, tt.failures, tt.errorRate)
		}
		if d := got.P99 - tt.p99; d < -tt.p99/500 || d > tt.p99/500 {
			t.Errorf("%s: p99 = %v, want %v", tt.name, got.P99, tt.p99)
		}
	}
	rates := []struct {
		now  time.Time
		want float64
	}{
		{t0.Add(time.Second), 20.0 / 3},                            // 3 whole seconds, none of the current
		{t0.Add(1500 * time.Millisecond), 20.0 / 3.5},              // and half of the current one
		{t0.Add(3 * time.Second), 20.0 / 3},                        // seconds 0, 1, 2 whole
		{t0.Add(4*time.Second + 500*time.Millisecond), 10.0 / 3.5}, // seconds 1..3, half of 4
	}
	for _, tt := range rates {
		if got := w.Stats(tt.now).Rate; math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Rate at %v = %v, want %v", tt.now.Sub(t0), got, tt.want)
		}
	}
}

func TestWindowReusesBucketsAndIgnoresStaleEvents(t *testing.T) {
	t.Parallel()
	w := NewWindow(2 * time.Second)
	w.Record(t0, time.Second, true)
	// Three seconds later (span plus the current second) the same slot is
	// reused: the old failure must go.
	later := t0.Add(3 * time.Second)
	w.Record(later, time.Millisecond, false)
	if got := w.Stats(later); got.Count != 1 || got.Failures != 0 || got.Max > 2*time.Millisecond {
		t.Errorf("after slot reuse: %+v, want one fast success", got)
	}
	// An event from t0 now maps to a slot holding a later second: ignored.
	w.Record(t0, time.Second, true)
	w.Mark(t0, true)
	if got := w.Stats(later); got.Count != 1 || got.Failures != 0 {
		t.Errorf("after stale events: %+v, want them ignored", got)
	}
	w.Reset()
	if got := w.Stats(later); got.Count != 0 {
		t.Errorf("after Reset: %+v, want empty", got)
	}
}

func TestWindowMarkHasNoLatency(t *testing.T) {
	t.Parallel()
	w := NewWindow(time.Second)
	w.Mark(t0, false)
	w.Mark(t0, true)
	got := w.Stats(t0)
	want := WindowStats{Span: time.Second, Count: 2, Failures: 1, ErrorRate: 0.5, Rate: 2}
	if got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

func TestWindowConcurrent(t *testing.T) {
	t.Parallel()
	var w Window
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				w.Record(t0, time.Duration(i)*time.Microsecond, i%10 == 0)
				_ = w.Stats(t0)
			}
		}()
	}
	wg.Wait()
	if got := w.Stats(t0); got.Count != 4000 || got.Failures != 400 {
		t.Errorf("Stats = %+v, want count 4000, failures 400", got)
	}
}

func BenchmarkWindowRecord(b *testing.B) {
	w := NewWindow(10 * time.Second)
	at := t0
	for i := 0; b.Loop(); i++ {
		w.Record(at.Add(time.Duration(i)*time.Microsecond), time.Millisecond, false)
	}
}
