package bench

import (
	"bytes"
	"strings"
	"testing"
)

// TestInstructions reads run.sh's instruction lines as Go benchmarks and
// checks the stage row and table made of them: each stage the difference
// of its two cases, as a share of the plain proxy's hop.
func TestInstructions(t *testing.T) {
	t.Parallel()
	lines := strings.Join([]string{
		"BenchmarkWholePathInstructions/direct 1200 100000 instr/op",
		"BenchmarkWholePathInstructions/reverseproxy 1200 240000 instr/op",
		"BenchmarkWholePathInstructions/shadow-off 1200 243500 instr/op",
		"BenchmarkWholePathInstructions/shadow-unjudged 1200 393000 instr/op",
		"BenchmarkWholePathInstructions/shadow 1200 442000 instr/op",
	}, "\n")
	bs, err := ParseGoBench([]byte(lines))
	if err != nil {
		t.Fatal(err)
	}
	r := &Run{GoBench: bs}
	g, ok := r.instructionsGoal()
	if !ok {
		t.Fatal("no instructions row from five counted cases")
	}
	for _, want := range []string{"hop 140k", "mirroring off +3.5k (+2% of the hop)", "a copy, unjudged +149.5k (+107% of the hop)", "judging +49.0k (+35% of the hop)"} {
		if !strings.Contains(g.Figure, want) {
			t.Errorf("figure %q, want %q in it", g.Figure, want)
		}
	}
	if strings.Contains(g.Figure, "secondary") || g.Verdict != Unknown {
		t.Errorf("figure %q verdict %s: want no secondary (not counted) and no verdict", g.Figure, g.Verdict)
	}
	var buf bytes.Buffer
	writeInstructions(&printer{w: &buf}, r)
	for _, want := range []string{"| shadow | 442,000 | 1.84× |", "| judging (redaction, compare engine) | shadow − shadow-unjudged | 49,000 | 35% |"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table:\n%s\nwant the line %q", buf.String(), want)
		}
	}
	if _, ok := (&Run{}).instructionsGoal(); ok {
		t.Error("a row without instruction counts")
	}
}
