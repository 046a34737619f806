package tui

import (
	"math"
	"testing"
	"time"
)

func TestCounterRate(t *testing.T) {
	t.Parallel()
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	type obs struct {
		at time.Time
		v  uint64
	}
	cases := []struct {
		name   string
		obs    []obs
		want   float64
		wantOK bool
	}{
		{name: "no readings", wantOK: false},
		{name: "one reading", obs: []obs{{ms(0), 10}}, wantOK: false},
		{name: "two readings a second apart", obs: []obs{{ms(0), 100}, {ms(1000), 340}}, want: 240, wantOK: true},
		{name: "fast polls average over the last second",
			obs:  []obs{{ms(0), 0}, {ms(500), 100}, {ms(1000), 1000}, {ms(1100), 1010}, {ms(1500), 1100}},
			want: (1100 - 100) / 1.0, wantOK: true},
		{name: "a repeated snapshot is ignored", obs: []obs{{ms(0), 0}, {ms(1000), 50}, {ms(1000), 50}}, want: 50, wantOK: true},
		{name: "a restarted counter starts over", obs: []obs{{ms(0), 500}, {ms(1000), 900}, {ms(2000), 10}}, wantOK: false},
		{name: "a reading from the past is ignored", obs: []obs{{ms(0), 0}, {ms(1000), 100}, {ms(500), 7}}, want: 100, wantOK: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c counterRate
			for _, o := range tc.obs {
				c.add(o.at, o.v)
			}
			got, ok := c.rate()
			if ok != tc.wantOK || math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("rate() = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestCounterRateStaysBounded(t *testing.T) {
	t.Parallel()
	var c counterRate
	for i := range 10000 {
		c.add(t0.Add(time.Duration(i)*time.Microsecond), uint64(i))
	}
	if len(c.samples) > maxRateSamples {
		t.Fatalf("kept %d samples, want at most %d", len(c.samples), maxRateSamples)
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	sec := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Second))) }
	t.Run("one point per second, the latest value wins", func(t *testing.T) {
		t.Parallel()
		var h history
		h.add(sec(0), 1, 1)
		h.add(sec(0.5), 2, 2)
		h.add(sec(1), 3, 3)
		h.add(sec(1.9), 4, 5)
		got := h.points()
		want := []point{{sec(0.5), 2, 2}, {sec(1.9), 4, 5}}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("points = %v, want %v", got, want)
		}
	})
	t.Run("bounded to the newest points", func(t *testing.T) {
		t.Parallel()
		var h history
		for i := range historyLen + 30 {
			h.add(sec(float64(i)), float64(i), 0)
		}
		got := h.points()
		if len(got) != historyLen || got[0].A != 30 || got[len(got)-1].A != historyLen+29 {
			t.Fatalf("kept %d points from %v to %v, want %d from 30", len(got), got[0].A, got[len(got)-1].A, historyLen)
		}
	})
	t.Run("time going back starts over", func(t *testing.T) {
		t.Parallel()
		var h history
		h.add(sec(10), 1, 1)
		h.add(sec(11), 1, 1)
		h.add(sec(2), 9, 9)
		if got := h.points(); len(got) != 1 || got[0].A != 9 {
			t.Fatalf("points = %v, want only the new one", got)
		}
	})
	t.Run("nonsense values are made chartable", func(t *testing.T) {
		t.Parallel()
		var h history
		h.add(sec(0), math.NaN(), math.Inf(1))
		h.add(sec(1), -5, 1e300)
		for _, p := range h.points() {
			for _, v := range []float64{p.A, p.B} {
				if math.IsNaN(v) || v < 0 || v > maxChartValue {
					t.Fatalf("point %v holds an unchartable value", p)
				}
			}
		}
	})
}
