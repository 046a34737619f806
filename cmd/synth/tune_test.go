package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestProcsFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rate  float64
		limit int
		want  int
	}{
		{0, 8, 1},
		{2000, 8, 1},
		{ratePerProc, 8, 1},
		{ratePerProc + 1, 8, 2},
		{10 * ratePerProc, 8, 8},
		{3 * ratePerProc, 2, 2},
		{math.Inf(1), 4, 1}, // not a rate to size by: the busy check raises it
		{math.NaN(), 4, 1},
	}
	for _, tt := range tests {
		if got := procsFor(tt.rate, tt.limit); got != tt.want {
			t.Errorf("procsFor(%v, %d) = %d, want %d", tt.rate, tt.limit, got, tt.want)
		}
	}
}

func TestNextProcs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		cur, want, floor       int
		busy                   float64
		limit                  int
		wantNext, wantNewFloor int
	}{
		{"idle, the rate's need", 1, 1, 1, 0.1, 4, 1, 1},
		{"the rate rises", 1, 3, 1, 0.1, 4, 3, 1},
		{"busy: one more, kept", 1, 1, 1, 0.9, 4, 2, 2},
		{"the floor stays when idle again", 2, 1, 2, 0.1, 4, 2, 2},
		{"busy again: one more", 2, 1, 2, 1.8, 4, 3, 3},
		{"never above the limit", 4, 1, 4, 3.9, 4, 4, 4},
		{"the rate falls: back to the floor", 3, 1, 1, 0.5, 4, 1, 1},
	}
	for _, tt := range tests {
		next, floor := nextProcs(tt.cur, tt.want, tt.floor, tt.busy, tt.limit)
		if next != tt.wantNext || floor != tt.wantNewFloor {
			t.Errorf("%s: nextProcs = %d, floor %d; want %d, floor %d", tt.name, next, floor, tt.wantNext, tt.wantNewFloor)
		}
	}
}

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

// TestTuneRuntime: a run at a low rate gets one P and GC headroom, and
// the defaults come back when it ends.
func TestTuneRuntime(t *testing.T) {
	if os.Getenv("GOMAXPROCS") != "" || os.Getenv("GOGC") != "" || runtime.GOMAXPROCS(0) < 2 {
		t.Skip("GOMAXPROCS or GOGC set by the environment, or one P already")
	}
	def := runtime.GOMAXPROCS(0)
	stop := tuneRuntime(func() float64 { return 100 })
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS during a run at 100/s = %d, want 1", got)
	}
	gc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gc) // as it was
	if gc <= 100 {
		t.Errorf("GOGC during a small run = %d, want more than 100", gc)
	}
	stop()
	if got := runtime.GOMAXPROCS(0); got != def {
		t.Errorf("GOMAXPROCS after the run = %d, want the default %d", got, def)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC after the run = %d, want 100", got)
	}
}
