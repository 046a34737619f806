package compare

import (
	"fmt"
	"strings"
	"testing"
)

// splitLineDiff is lineDiff as it was, splitting both texts into slices
// of lines: the reference that the scanning lineDiff must match.
func splitLineDiff(a, b string) Difference {
	la, lb := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	pre := 0
	for pre < len(la) && pre < len(lb) && la[pre] == lb[pre] {
		pre++
	}
	suf := 0
	for suf < len(la)-pre && suf < len(lb)-pre && la[len(la)-1-suf] == lb[len(lb)-1-suf] {
		suf++
	}
	ma, mb := la[pre:len(la)-suf], lb[pre:len(lb)-suf]
	var d strings.Builder
	fmt.Fprintf(&d, "@@ -%d,%d +%d,%d @@\n", pre+1, len(ma), pre+1, len(mb))
	write := func(mark string, lines []string) {
		for i, l := range lines {
			if i == maxDiffLines {
				fmt.Fprintf(&d, "%s… %d more lines\n", mark, len(lines)-i)
				return
			}
			d.WriteString(mark + clipTo(strings.TrimRight(l, "\r\n"), maxLineLen) + "\n")
		}
	}
	write("-", ma)
	write("+", mb)
	diff := Difference{Path: bodyPath, Kind: Changed, Detail: strings.TrimSuffix(d.String(), "\n")}
	if len(ma) > 0 {
		diff.Primary = clipTo(strings.TrimRight(ma[0], "\r\n"), maxLineLen)
	}
	if len(mb) > 0 {
		diff.Candidate = clipTo(strings.TrimRight(mb[0], "\r\n"), maxLineLen)
	}
	return diff
}

var lineDiffSeeds = [][2]string{
	{"", ""},
	{"", "\n"},
	{"a", "b"},
	{"a\n", "a"},
	{"a\nb\nc\n", "a\nx\nc\n"},
	{"x\n", "x\n\n"},
	{"same\nsame\n", "same\n"},
	{"\n\n\n", "\n\n"},
	{"a\r\nb\r\n", "a\r\nc\r\n"},
	{"1\n2\n3\n4\n5\n6\n7\n8\n9\n", "0\n"},
	{"head\n" + strings.Repeat("l\n", 20) + "tail", "head\n" + strings.Repeat("m\n", 3) + "tail"},
}

func TestLineDiffMatchesSplitting(t *testing.T) {
	t.Parallel()
	for _, s := range lineDiffSeeds {
		for _, p := range [][2]string{s, {s[1], s[0]}} {
			if got, want := lineDiff(p[0], p[1]), splitLineDiff(p[0], p[1]); got != want {
				t.Errorf("lineDiff(%q, %q):\n got %+v\nwant %+v", p[0], p[1], got, want)
			}
		}
	}
}

// FuzzLineDiff: the scanning line diff matches the splitting one.
func FuzzLineDiff(f *testing.F) {
	for _, s := range lineDiffSeeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := lineDiff(a, b), splitLineDiff(a, b); got != want {
			t.Fatalf("lineDiff(%q, %q):\n got %+v\nwant %+v", a, b, got, want)
		}
	})
}
