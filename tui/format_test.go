package tui

import (
	"math"
	"testing"
	"time"
)

func TestFormatters(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, got, want string
	}{
		{"count small", fmtCount(999), "999"},
		{"count thousands", fmtCount(1234567), "1,234,567"},
		{"count exact", fmtCount(100000), "100,000"},
		{"rate small", fmtRate(9.87), "9.9"},
		{"rate hundreds", fmtRate(240.4), "240"},
		{"rate thousands", fmtRate(12345.6), "12,346"},
		{"rate NaN", fmtRate(math.NaN()), "-"},
		{"rate huge", fmtRate(1e300), "1e+300"},
		{"pct", fmtPct(0.125), "12.5%"},
		{"pct inf", fmtPct(math.Inf(1)), "-"},
		{"dur zero", fmtDur(0), "-"},
		{"dur µs", fmtDur(850 * time.Microsecond), "850µs"},
		{"dur ms", fmtDur(2500 * time.Microsecond), "2.50ms"},
		{"dur tens of ms", fmtDur(41 * time.Millisecond), "41.0ms"},
		{"dur hundreds of ms", fmtDur(145 * time.Millisecond), "145ms"},
		{"dur s", fmtDur(1250 * time.Millisecond), "1.25s"},
		{"dur min", fmtDur(125 * time.Second), "2m05s"},
		{"span", fmtSpan(3723 * time.Second), "1h02m03s"},
		{"span negative", fmtSpan(-time.Second), "0s"},
		{"clock is UTC", fmtClock(time.Date(2025, 1, 1, 13, 4, 5, 0, time.FixedZone("X", 3600))), "12:04:05"},
		{"clock zero", fmtClock(time.Time{}), "-"},
		{"pad right", pad("42", 5, true), "   42"},
		{"pad cuts", pad("abcdefgh", 5, false), "abcd…"},
		{"truncate wide runes", truncate("日本語テキスト", 6), "日本…"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in           string
		keepNewlines bool
		want         string
	}{
		{"plain text", false, "plain text"},
		{"a\x1b[2Jb", false, "a\uFFFD[2Jb"},
		{"osc\x1b]0;title\x07", false, "osc\uFFFD]0;title\uFFFD"},
		{"c1 \u009b2J", false, "c1 \uFFFD2J"},
		{"bad \xff utf8", false, "bad \uFFFD utf8"},
		{"del\x7f", false, "del\uFFFD"},
		{"line\nbreak\r\ttab", false, "line break  tab"},
		{"line\nbreak\ttab", true, "line\nbreak    tab"},
	}
	for _, tc := range cases {
		if got := sanitize(tc.in, tc.keepNewlines); got != tc.want {
			t.Errorf("sanitize(%q, %v) = %q, want %q", tc.in, tc.keepNewlines, got, tc.want)
		}
	}
}

func TestFit(t *testing.T) {
	t.Parallel()
	got := fit("abcdef\nxy\n1\n2\n3", 4, 3)
	if want := "abc…\nxy\n1"; got != want {
		t.Errorf("fit cut = %q, want %q", got, want)
	}
	if got, want := fit("a", 4, 3), "a\n\n"; got != want {
		t.Errorf("fit padded = %q, want %q", got, want)
	}
}

func TestNextRate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                          string
		current, start, step, ceiling float64
		dir                           int
		want                          float64
	}{
		{"up", 50, 50, 6, 60, 1, 56},
		{"up clamps", 56, 50, 6, 60, 1, 60},
		{"up at ceiling", 60, 50, 6, 60, 1, 60},
		{"up without ceiling", 50, 50, 5, 0, 1, 55},
		{"down", 50, 50, 6, 60, -1, 44},
		{"down from the ceiling back on the ladder", 60, 50, 6, 60, -1, 56},
		{"down to the start", 70, 20, 50, 500, -1, 20},
		{"down at the start stays when a step would reach zero", 20, 20, 50, 500, -1, 20},
		{"down stops at the lowest rung", 8, 14, 6, 60, -1, 2},
		{"down below the lowest rung stays", 1, 14, 6, 60, -1, 1},
		{"off the ladder, down goes to the rung below", 33, 20, 50, 500, -1, 20},
		{"off the ladder, up goes to the rung above", 33, 20, 50, 500, 1, 70},
		{"down above ceiling clamps", 90, 50, 6, 60, -1, 60},
		{"no start: the ladder is the steps", 7, 0, 5, 0, -1, 5},
		{"tenths stay tidy", 0.3, 0.1, 0.1, 0, 1, 0.4},
	}
	for _, tc := range cases {
		if got := nextRate(tc.current, tc.start, tc.step, tc.ceiling, tc.dir); got != tc.want {
			t.Errorf("%s: nextRate(%v, %v, %v, %v, %d) = %v, want %v", tc.name, tc.current, tc.start, tc.step, tc.ceiling, tc.dir, got, tc.want)
		}
	}
	steps := []struct{ configured, ceiling, start, want float64 }{
		{5, 60, 50, 5}, {0, 60, 50, 6}, {0, 0, 50, 5}, {0, 0, 0, 1},
	}
	for _, s := range steps {
		if got := rateStep(s.configured, s.ceiling, s.start); got != s.want {
			t.Errorf("rateStep(%v, %v, %v) = %v, want %v", s.configured, s.ceiling, s.start, got, s.want)
		}
	}
}

// After any presses of +, presses of - lead back to the starting rate,
// whatever the step and ceiling: the ladder has a rung there. As many
// presses of - as there were of + that changed the rate reach it.
func TestRateKeysReturnToTheStart(t *testing.T) {
	t.Parallel()
	cases := []struct{ start, step, ceiling float64 }{
		{20, 50, 500}, {10, 50, 500}, {7, 5, 50}, {50, 5, 0}, {0.3, 0.1, 0}, {33.3, 6, 60}, {59, 6, 60},
	}
	for _, tc := range cases {
		for ups := 1; ups <= 12; ups++ {
			r, moved := tc.start, 0
			for range ups {
				next := nextRate(r, tc.start, tc.step, tc.ceiling, 1)
				if next != r {
					moved++
				}
				r = next
			}
			for range moved {
				r = nextRate(r, tc.start, tc.step, tc.ceiling, -1)
			}
			if r != tc.start {
				t.Errorf("start %v, step %v, ceiling %v: %d × + (%d moved) then %d × - = %v, want the start",
					tc.start, tc.step, tc.ceiling, ups, moved, moved, r)
			}
		}
	}
}
