package tui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// fmtCount formats a count with thousands separators: 1234567 → 1,234,567.
func fmtCount(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// fmtRate formats a per-second rate with precision that suits its size.
func fmtRate(r float64) string {
	switch {
	case math.IsNaN(r) || math.IsInf(r, 0):
		return "-"
	case math.Abs(r) >= 1e15:
		return strconv.FormatFloat(r, 'g', 3, 64)
	case r >= 1000:
		return fmtCount(uint64(math.Round(r)))
	case r >= 100:
		return strconv.FormatFloat(r, 'f', 0, 64)
	default:
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
}

// fmtPct formats a 0..1 fraction as a percentage with one decimal.
func fmtPct(f float64) string {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "-"
	case math.Abs(f) >= 1e10:
		return strconv.FormatFloat(f*100, 'g', 3, 64) + "%"
	}
	return strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
}

// fmtPercent formats a share already in percent (0..100), with at most
// two decimals: 90 → 90%, 12.5 → 12.5%.
func fmtPercent(p float64) string {
	switch {
	case math.IsNaN(p) || math.IsInf(p, 0):
		return "-"
	case math.Abs(p) >= 1e6:
		return strconv.FormatFloat(p, 'g', 3, 64) + "%"
	}
	return strconv.FormatFloat(math.Round(p*100)/100+0, 'f', -1, 64) + "%" // +0: no "-0%"
}

// fmtDur formats a latency compactly: 850µs, 12.3ms, 145ms, 1.25s, 2m05s;
// zero is "-" (nothing measured).
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d/time.Microsecond)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	default:
		return fmtSpan(d)
	}
}

// fmtSpan formats a span of wall time to the second: 45s, 3m05s, 1h02m03s.
func fmtSpan(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	h, m, sec := s/3600, s/60%60, s%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, sec)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, sec)
	default:
		return fmt.Sprintf("%ds", sec)
	}
}

// fmtClock formats a snapshot time of day, in UTC so frames do not depend
// on the machine's zone.
func fmtClock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("15:04:05")
}

// truncate cuts s (which may hold ANSI styles) to at most w cells, ending
// with an ellipsis when cut.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// pad fills s (which may hold ANSI styles) with spaces to w cells, on the
// left when right is set; it truncates s when it is wider.
func pad(s string, w int, right bool) string {
	s = truncate(s, w)
	gap := w - ansi.StringWidth(s)
	if gap <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", gap) + s
	}
	return s + strings.Repeat(" ", gap)
}

// fit makes s exactly h lines of at most w cells: longer lines are cut,
// missing lines are added empty, extra lines are dropped.
func fit(s string, w, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = truncate(l, w)
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// oneLine makes producer text safe for a single line (a table cell, a
// title): newlines and tabs become spaces and other control characters
// become U+FFFD, so a hostile body cannot move the cursor or restyle the
// terminal.
func oneLine(s string) string { return sanitize(s, false) }

// sanitize replaces control characters (C0, DEL, C1) in s, which may be
// invalid UTF-8, with U+FFFD; tabs become four spaces, and newlines are
// kept when keepNewlines is set, else they become spaces with tabs and
// carriage returns.
func sanitize(s string, keepNewlines bool) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' && keepNewlines:
			b.WriteRune(r)
		case r == '\t' && keepNewlines:
			b.WriteString("    ")
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r) // invalid bytes arrive as RuneError already
		}
	}
	return b.String()
}

// failureText renders failures for one line: each upstream's kinds and
// counts, with the first failure's reason, which says what to fix.
func failureText(fs []UpstreamFailure) string {
	if len(fs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("failing: ")
	for i, f := range fs {
		switch {
		case i == 0:
			b.WriteString(f.Upstream + " ")
		case f.Upstream != fs[i-1].Upstream:
			b.WriteString("; " + f.Upstream + " ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(f.Kind + " " + fmtCount(f.Count))
	}
	if fs[0].Reason != "" {
		b.WriteString(" (" + fs[0].Reason + ")")
	}
	return oneLine(b.String())
}
