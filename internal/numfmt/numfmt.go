// Package numfmt formats the numbers reports and verdicts print, one way
// everywhere: rates as percentages with at most two decimals ("1.25%"),
// latencies in milliseconds ("12.3 ms"), ratios with two decimals
// ("1.52×") and counts with thousands separators ("12,345").
package numfmt

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Pct formats a 0..1 rate as a percentage with at most two decimals,
// trailing zeros dropped: 0.0125 → "1.25%", 0.5 → "50%", 0 → "0%".
func Pct(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "-"
	}
	return trim(strconv.FormatFloat(math.Round(r*1e4)/100+0, 'f', 2, 64)) + "%" // +0: no "-0%"
}

// Ms formats a latency given in milliseconds: below 10 ms with two
// decimals, below 100 ms with one, above that whole: "0.85 ms", "12.3 ms",
// "145 ms". 0 is "-" (nothing measured).
func Ms(ms float64) string {
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0) || ms == 0:
		return "-"
	case math.Abs(ms) < 10:
		return trim(strconv.FormatFloat(ms, 'f', 2, 64)) + " ms"
	case math.Abs(ms) < 100:
		return trim(strconv.FormatFloat(ms, 'f', 1, 64)) + " ms"
	}
	return strconv.FormatFloat(math.Round(ms), 'f', 0, 64) + " ms"
}

// Dur formats a duration as Ms does.
func Dur(d time.Duration) string { return Ms(float64(d) / float64(time.Millisecond)) }

// Ratio formats a ratio with two decimals: 1.5 → "1.50×". A ratio that
// cannot be taken (NaN, infinite) is "-".
func Ratio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', 2, 64) + "×"
}

// Count formats a count with thousands separators: 1234567 → "1,234,567".
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) > 3 {
		var b strings.Builder
		lead := len(s) % 3
		b.WriteString(s[:lead])
		for i := lead; i < len(s); i += 3 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(s[i : i+3])
		}
		s = b.String()
	}
	if neg {
		return "-" + s
	}
	return s
}

// trim drops trailing zeros after a decimal point, and the point itself.
func trim(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}
