package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// shrinkLine joins parts with sep into a line of at most w cells, for a
// line that holds more than a narrow terminal has room for. Each part is
// its forms, fullest first; an empty form leaves the part out. While the
// line is too wide, the next step of order shortens a part: a step is a
// part's index, and the part takes its next form (a step past its last
// form does nothing). When no step is left, the line is cut. So order says
// what matters least: what is shortened or left out first.
func shrinkLine(parts [][]string, order []int, sep string, w int) string {
	at := make([]int, len(parts))
	for step := 0; ; step++ {
		line := joinForms(parts, at, sep)
		if ansi.StringWidth(line) <= w {
			return line
		}
		if step == len(order) {
			return truncate(line, w)
		}
		if i := order[step]; i >= 0 && i < len(parts) && at[i] < len(parts[i])-1 {
			at[i]++
		}
	}
}

// joinForms joins the form at[i] of each part i with sep, leaving out the
// empty ones.
func joinForms(parts [][]string, at []int, sep string) string {
	shown := make([]string, 0, len(parts))
	for i, forms := range parts {
		if len(forms) == 0 {
			continue
		}
		if f := forms[at[i]]; f != "" {
			shown = append(shown, f)
		}
	}
	return strings.Join(shown, sep)
}
