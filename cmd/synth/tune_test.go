package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestGCPercentFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		live uint64
		want int
	}{
		{0, 225},          // before the first collection: as if 1 MiB, goal 9 MiB
		{2 << 20, 250},    // a small scenario: goal 10 MiB (the minimum heap's 4 MiB * 2.5)
		{4 << 20, 200},    // goal 12 MiB
		{gcHeadroom, 100}, // from there on, GOGC's default
		{1 << 30, 100},    // a big feeder file
	}
	for _, tt := range tests {
		if got := gcPercentFor(tt.live); got != tt.want {
			t.Errorf("gcPercentFor(%d) = %d, want %d", tt.live, got, tt.want)
		}
	}
}

// TestTuneRuntime: a run gets GC headroom, and the default comes back
// when it ends.
func TestTuneRuntime(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC set by the environment")
	}
	stop := tuneRuntime()
	gc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gc) // as it was
	if gc <= 100 {
		t.Errorf("GOGC during a small run = %d, want more than 100", gc)
	}
	stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC after the run = %d, want 100", got)
	}
}
