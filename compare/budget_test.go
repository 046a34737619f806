package compare

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/exchange"
)

// wideObject returns an object of n keys whose values are numbers, or
// the same numbers as strings: every value changes type.
func wideObject(n int, asStrings bool) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if asStrings {
			fmt.Fprintf(&b, `"k%05d":"%d"`, i, i)
		} else {
			fmt.Fprintf(&b, `"k%05d":%d`, i, i)
		}
	}
	b.WriteByte('}')
	return b.String()
}

// visited diffs two parsed documents of format f within b and returns
// the outcome and the nodes the diff visited.
func visited(f format, a, b any, bud Budget) (bodyDiff, int) {
	c := newCollector(bud)
	f.diff(a, b, c)
	return c.done(), bud.MaxNodes - c.nodesLeft
}

// A 1 MB object of 70,000 keys whose values all change type is the
// candidate that stalled shadow: its comparison stops at the budget of
// differences, visits fewer nodes than the node budget, keeps the first
// differences in key order and counts every one it found.
func TestBudgetWideTypeChange(t *testing.T) {
	t.Parallel()
	const keys = 70_000
	p, c := wideObject(keys, false), wideObject(keys, true)
	if len(c) < 1<<20 {
		t.Fatalf("candidate body is %d bytes, want at least 1 MB", len(c))
	}
	bud := Budget{}.withDefaults()
	x, _ := decodeJSON([]byte(p))
	y, _ := decodeJSON([]byte(c))
	d, nodes := visited(jsonFormat{}, x, y, bud)
	if !d.tooLarge || nodes > bud.MaxNodes {
		t.Fatalf("too large %v after %d nodes, want true within %d", d.tooLarge, nodes, bud.MaxNodes)
	}
	if got := len(d.diffs) + d.omitted; got != bud.MaxDifferences {
		t.Errorf("%d differences found, want the budget of %d", got, bud.MaxDifferences)
	}

	res := mustEngine(t, Config{}).Compare(pairOf("GET", "/wide", answer(200, p), answer(200, c)))
	if !res.TooLarge || !res.Differs {
		t.Fatalf("TooLarge %v, Differs %v, want both", res.TooLarge, res.Differs)
	}
	want := []brief{{"$.k00000", TypeChanged, "0", `"0"`}, {"$.k00001", TypeChanged, "1", `"1"`}}
	if diff := cmp.Diff(want, briefs(res.Body[:2])); diff != "" {
		t.Errorf("first differences (-want +got):\n%s", diff)
	}
	if len(res.Body) != maxDifferences || res.Omitted != bud.MaxDifferences-maxDifferences || len(res.fields) != bud.MaxDifferences {
		t.Errorf("%d listed, %d omitted, %d fields; want %d, %d, %d", len(res.Body), res.Omitted, len(res.fields),
			maxDifferences, bud.MaxDifferences-maxDifferences, bud.MaxDifferences)
	}
	if !cmp.Equal(briefs(d.diffs), briefs(res.Body)) {
		t.Error("two walks kept different differences: the cut is not deterministic")
	}
}

// Each format stops at the node budget, having visited no more than it.
func TestBudgetNodes(t *testing.T) {
	t.Parallel()
	var xa, xb, fa, fb strings.Builder
	xa.WriteString("<r>")
	xb.WriteString("<r>")
	for i := range 5000 {
		fmt.Fprintf(&xa, "<i>%d</i>", i)
		fmt.Fprintf(&xb, "<i>%d</i>", i+1)
		fmt.Fprintf(&fa, "k%d=%d&", i, i)
		fmt.Fprintf(&fb, "k%d=%d&", i, i+1)
	}
	xa.WriteString("</r>")
	xb.WriteString("</r>")
	arr := "[" + strings.Repeat("0,", 9999) + "0]"
	tests := []struct {
		name string
		f    format
		a, b string
	}{
		{"json array", jsonFormat{}, arr, strings.Replace(arr, "0]", "1]", 1)},
		{"json object", jsonFormat{}, wideObject(5000, false), wideObject(5000, true)},
		{"xml", xmlFormat{}, xa.String(), xb.String()},
		{"form", formFormat{}, fa.String(), fb.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x, okA := tt.f.parse([]byte(tt.a))
			y, okB := tt.f.parse([]byte(tt.b))
			if !okA || !okB {
				t.Fatal("bodies do not parse")
			}
			bud := Budget{MaxNodes: 1000, MaxDifferences: 1 << 20}
			d, nodes := visited(tt.f, x, y, bud)
			if !d.tooLarge || nodes > bud.MaxNodes {
				t.Errorf("too large %v after %d nodes, want true within %d", d.tooLarge, nodes, bud.MaxNodes)
			}
			if d, _ := visited(tt.f, x, y, Budget{MaxNodes: DefaultMaxNodes, MaxDifferences: 1 << 20}); d.tooLarge || len(d.fields) == 0 {
				t.Errorf("within the default budget: too large %v, %d fields; want a complete diff", d.tooLarge, len(d.fields))
			}
		})
	}
}

// Normalizers count too: a Set normalizer that reaches arrays nested
// 5,000 deep renders each level's elements again, about 12.5 million
// nodes in all; the budget stops it, and the exchange is too large and
// not diffed.
func TestBudgetNormalizers(t *testing.T) {
	t.Parallel()
	const depth = 5000
	nested := strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth)
	cfg := Config{Normalizers: []Normalizer{{Kind: Set, Path: "$..*"}}}
	e := mustEngine(t, cfg)
	res := e.Compare(pairOf("GET", "/deep", answer(200, nested), answer(200, strings.Replace(nested, "1", "2", 1))))
	if !res.TooLarge || len(res.Body) != 0 {
		t.Fatalf("TooLarge %v with %d differences, want true and none", res.TooLarge, len(res.Body))
	}
	v, _ := decodeJSON([]byte(nested))
	ns, _ := compileNormalizers(cfg.Normalizers)
	bud := newBudget(Budget{}.withDefaults())
	jsonFormat{}.normalize(v, ns, &bud)
	if !bud.spent || bud.nodesLeft < 0 {
		t.Errorf("spent %v with %d nodes left, want spent within the budget", bud.spent, bud.nodesLeft)
	}
	// Within the budget the same normalizer works as before.
	small := strings.Repeat("[", 20) + "[2,1,1]" + strings.Repeat("]", 20)
	res = e.Compare(pairOf("GET", "/deep", answer(200, small), answer(200, strings.Replace(small, "2,1,1", "1,2", 1))))
	if res.TooLarge || len(res.Body) != 0 {
		t.Errorf("small: TooLarge %v, %v; want an equal pair", res.TooLarge, res.Body)
	}
}

// Too large exchanges are counted per endpoint and in the totals, and the
// report says so; a secondary's comparison has its own budget.
func TestBudgetCounted(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{Seed: 1, Budget: Budget{MaxDifferences: 10}})
	wideA, wideB := wideObject(50, false), wideObject(50, true)
	small := func(v string) exchange.Response { return answer(200, `{"v":`+v+`}`) }
	for i := range 30 {
		x := pairOf("GET", "/wide", answer(200, wideA), answer(200, wideB))
		if i%3 == 0 {
			x = pairOf("GET", "/wide", small("1"), small("2"))
		}
		if i == 1 {
			x = tripleOf("GET", "/wide", small("1"), answer(200, wideB), small("1"))
		}
		res := e.Record(x)
		if want := i%3 != 0; res.TooLarge != want {
			t.Fatalf("exchange %d: TooLarge %v, want %v", i, res.TooLarge, want)
		}
	}
	rep := e.Report()
	if rep.Totals.TooLarge != 20 || rep.Endpoints[0].TooLarge != 20 {
		t.Errorf("too large: totals %d, endpoint %d; want 20", rep.Totals.TooLarge, rep.Endpoints[0].TooLarge)
	}
	var md strings.Builder
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| Pairs too large to compare completely | 20 |", "20 pairs were too large to compare completely"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestBudgetValidate(t *testing.T) {
	t.Parallel()
	for _, b := range []Budget{{MaxNodes: -1}, {MaxDifferences: -1}} {
		if err := (Config{Budget: b}).Validate(); err == nil || !strings.Contains(err.Error(), "budget.max_") {
			t.Errorf("Validate(%+v) = %v, want an error naming the field", b, err)
		}
	}
	if got := (Config{}).withDefaults().Budget; got != (Budget{DefaultMaxNodes, DefaultMaxDifferences}) {
		t.Errorf("defaults %+v", got)
	}
}
