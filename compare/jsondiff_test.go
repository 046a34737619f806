package compare

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wI2L/jsondiff"

	"github.com/understudy-dev/understudy/exchange"
)

// The JSON format is measured against github.com/wI2L/jsondiff, a
// well-kept RFC 6902 diff library, on the same small random pairs: the
// benchmark runs both, and TestAgreesWithJSONDiff checks that they find
// the same differing paths on every pair.

// randomPairs returns n pairs of small JSON objects, the second a mutated
// copy of the first (values changed, types changed, keys added and
// removed, arrays grown and shrunk), the same for a given seed. Numbers
// are integers and short decimals in canonical form, so that exact
// decimals and float64 agree on which are equal.
func randomPairs(seed uint64, n int) [][2][]byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := &jsonGen{rng: rng}
	out := make([][2][]byte, n)
	for i := range out {
		a := g.object(0)
		b := g.mutate(clone(a), 0)
		out[i] = [2][]byte{mustMarshal(a), mustMarshal(b)}
	}
	return out
}

type jsonGen struct{ rng *rand.Rand }

var genKeys = []string{"id", "name", "status", "price", "qty", "items", "tags", "meta", "total", "sku", "eta", "order-id", "a b", "flag"}

func (g *jsonGen) value(depth int) any {
	switch k := g.rng.IntN(10); {
	case k < 2 && depth < 3:
		return g.object(depth + 1)
	case k < 3 && depth < 3:
		arr := make([]any, g.rng.IntN(5))
		for i := range arr {
			arr[i] = g.value(depth + 1)
		}
		return arr
	default:
		return g.scalar()
	}
}

func (g *jsonGen) scalar() any {
	switch g.rng.IntN(6) {
	case 0:
		return json.Number(strconv.Itoa(g.rng.IntN(10000)))
	case 1:
		return json.Number(strconv.FormatFloat(float64(g.rng.IntN(100000))/100, 'f', -1, 64))
	case 2:
		return fmt.Sprintf("v%d", g.rng.IntN(50))
	case 3:
		return g.rng.IntN(2) == 0
	case 4:
		return nil
	}
	return strings.Repeat("x", g.rng.IntN(12))
}

func (g *jsonGen) object(depth int) map[string]any {
	m := map[string]any{}
	for range 3 + g.rng.IntN(6) {
		m[genKeys[g.rng.IntN(len(genKeys))]] = g.value(depth)
	}
	return m
}

// mutate changes v in place (and returns it, or its replacement): each
// node has a small chance of each kind of change.
func (g *jsonGen) mutate(v any, depth int) any {
	if g.rng.IntN(12) == 0 {
		return g.value(depth) // replaced, often by another type
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			switch g.rng.IntN(14) {
			case 0:
				delete(x, k)
			case 1:
				x[genKeys[g.rng.IntN(len(genKeys))]] = g.value(depth + 1)
			default:
				x[k] = g.mutate(x[k], depth+1)
			}
		}
		return x
	case []any:
		switch g.rng.IntN(8) {
		case 0:
			x = append(x, g.value(depth+1))
		case 1:
			if len(x) > 0 {
				x = x[:len(x)-1]
			}
		}
		for i := range x {
			x[i] = g.mutate(x[i], depth+1)
		}
		return x
	}
	if g.rng.IntN(6) == 0 {
		return g.scalar()
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = clone(e)
		}
		return a
	}
	return v
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// versusExchanges wraps the pairs as exchanges, built once.
func versusExchanges(pairs [][2][]byte) []*exchange.Exchange {
	xs := make([]*exchange.Exchange, len(pairs))
	for i, p := range pairs {
		xs[i] = pairOf("GET", "/orders/ord-000123", answer(200, string(p[0])), answer(200, string(p[1])))
	}
	return xs
}

// BenchmarkVersusJSONDiff judges the same 2,000 small random pairs with
// the engine (status, headers and JSON bodies, no secondary) and with
// jsondiff.CompareJSON (bodies only), one goroutine each. Goal: the
// engine's pairs/s at least jsondiff's. "interleaved" runs both by turns,
// 100 pairs at a time, so that both see the same load on a shared
// machine, and reports their speed ratio (engine over jsondiff).
func BenchmarkVersusJSONDiff(b *testing.B) {
	pairs := randomPairs(1, 2000)
	b.Run("interleaved", func(b *testing.B) {
		e := mustEngine(b, Config{})
		xs := versusExchanges(pairs)
		const batch = 100
		var engine, other time.Duration
		i := 0
		for b.Loop() {
			start := time.Now()
			for j := range batch {
				e.Compare(xs[(i+j)%len(xs)])
			}
			mid := time.Now()
			for j := range batch {
				p := pairs[(i+j)%len(pairs)]
				if _, err := jsondiff.CompareJSON(p[0], p[1]); err != nil {
					b.Fatal(err)
				}
			}
			engine, other = engine+mid.Sub(start), other+time.Since(mid)
			i += batch
		}
		n := float64(b.N * batch)
		b.ReportMetric(n/engine.Seconds(), "engine-pairs/s")
		b.ReportMetric(n/other.Seconds(), "jsondiff-pairs/s")
		b.ReportMetric(other.Seconds()/engine.Seconds(), "speed-ratio")
	})
	b.Run("engine", func(b *testing.B) {
		e := mustEngine(b, Config{})
		xs := versusExchanges(pairs)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e.Compare(xs[i%len(xs)])
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
	})
	b.Run("jsondiff", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p := pairs[i%len(pairs)]
			if _, err := jsondiff.CompareJSON(p[0], p[1]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
	})
}

// TestAgreesWithJSONDiff checks, on every benchmark pair, that the engine
// and jsondiff find the same differing paths.
func TestAgreesWithJSONDiff(t *testing.T) {
	t.Parallel()
	pairs := randomPairs(1, 2000)
	e := mustEngine(t, Config{})
	differing := 0
	for i, p := range pairs {
		res := e.Compare(pairOf("GET", "/x", answer(200, string(p[0])), answer(200, string(p[1]))))
		if res.Omitted > 0 || res.TooLarge {
			t.Fatalf("pair %d: %d omitted, too large %v: pairs must be small", i, res.Omitted, res.TooLarge)
		}
		var got []string
		for _, d := range res.Body {
			got = append(got, d.Path)
		}
		patch, err := jsondiff.CompareJSON(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		want := patchPaths(t, p[0], patch)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("pair %d:\n%s\n%s\nengine:   %q\njsondiff: %q", i, p[0], p[1], got, want)
		}
		if len(got) > 0 {
			differing++
		}
	}
	if differing < len(pairs)/2 {
		t.Fatalf("only %d of %d pairs differ: the generator mutates too little", differing, len(pairs))
	}
}

// patchPaths turns a JSON patch into the engine's paths. jsondiff removes
// array elements at the first removed index again and again and appends
// at "-"; the engine names each index.
func patchPaths(t *testing.T, src []byte, patch jsondiff.Patch) []string {
	t.Helper()
	root, ok := decodeJSON(src)
	if !ok {
		t.Fatalf("source does not decode: %s", src)
	}
	next := map[string]int{} // parent pointer → next index for "-" and repeated removals
	var out []string
	for _, op := range patch {
		tokens := strings.Split(op.Path, "/")[1:]
		path, node := []byte("$"), root
		for j, tok := range tokens {
			tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
			arr, isArr := node.([]any)
			if !isArr {
				path = appendKeyStep(path, tok)
				node = node.(map[string]any)[tok]
				continue
			}
			parent := strings.Join(tokens[:j], "/")
			idx := len(arr)
			if tok != "-" {
				idx, _ = strconv.Atoi(tok)
			}
			if j == len(tokens)-1 && (tok == "-" || op.Type == jsondiff.OperationRemove) {
				if n, seen := next[parent+op.Type]; seen {
					idx = n
				}
				next[parent+op.Type] = idx + 1
			}
			path = append(strconv.AppendInt(append(path, '['), int64(idx), 10), ']')
			if idx < len(arr) {
				node = arr[idx]
			}
		}
		out = append(out, string(path))
	}
	return out
}
