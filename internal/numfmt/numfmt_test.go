package numfmt

import (
	"math"
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ got, want string }{
		{Pct(0), "0%"},
		{Pct(0.0125), "1.25%"},
		{Pct(0.5), "50%"},
		{Pct(1), "100%"},
		{Pct(0.000049), "0%"},
		{Pct(-0.00001), "0%"},
		{Pct(0.123456), "12.35%"},
		{Pct(math.NaN()), "-"},
		{Ms(0), "-"},
		{Ms(0.85), "0.85 ms"},
		{Ms(5), "5 ms"},
		{Ms(12.34), "12.3 ms"},
		{Ms(145.4), "145 ms"},
		{Dur(80 * time.Millisecond), "80 ms"},
		{Ratio(1.5), "1.50×"},
		{Ratio(math.Inf(1)), "-"},
		{Count(0), "0"},
		{Count(999), "999"},
		{Count(1000), "1,000"},
		{Count(1234567), "1,234,567"},
		{Count(-12345), "-12,345"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
