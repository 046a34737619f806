package compare

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/exchange"
)

// benchBodies returns the realistic 1 KiB order body and variants.
func benchBodies(b *testing.B) (order, reformatted, priceChanged, tsChanged []byte) {
	b.Helper()
	order, err := os.ReadFile("testdata/order.json")
	if err != nil {
		b.Fatal(err)
	}
	order = bytes.TrimSpace(order)
	reformatted = bytes.ReplaceAll(order, []byte(`"price":12.50`), []byte(`"price":12.5`))
	priceChanged = bytes.ReplaceAll(order, []byte(`"price":3.10`), []byte(`"price":3.15`))
	tsChanged = bytes.ReplaceAll(order, []byte(`12:35:02.001Z`), []byte(`12:35:02.417Z`))
	return order, reformatted, priceChanged, tsChanged
}

// BenchmarkCompareJSON measures judging one pair of realistic 1 KiB
// order bodies (nested items) on one goroutine. Goal: ≥ 20,000 pairs/s.
func BenchmarkCompareJSON(b *testing.B) {
	order, reformatted, priceChanged, tsChanged := benchBodies(b)
	norms := []Normalizer{
		{Kind: Replace, Builtin: "rfc3339", Path: "$..updated_at"},
		{Kind: Ignore, Path: "$.trace"},
	}
	cases := []struct {
		name  string
		cfg   Config
		p, c  []byte
		noise []byte // secondary body; nil for none
	}{
		{"identical", Config{}, order, order, nil},
		{"equal-after-decoding", Config{}, order, reformatted, nil},
		{"one-field-differs", Config{}, order, priceChanged, nil},
		{"normalized-equal", Config{Normalizers: norms}, order, tsChanged, nil},
		{"normalized-differs", Config{Normalizers: norms}, order, priceChanged, nil},
		{"with-secondary", Config{}, order, priceChanged, tsChanged},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			e := mustEngine(b, tc.cfg)
			x := pairOf("GET", "/orders/ord-000123", answer(200, string(tc.p)), answer(200, string(tc.c)))
			if tc.noise != nil {
				s := answer(200, string(tc.noise))
				x.Secondary = &s
			}
			b.SetBytes(int64(len(tc.p) + len(tc.c)))
			b.ReportAllocs()
			for b.Loop() {
				e.Compare(x)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
		})
	}
}

// BenchmarkObserve measures judging plus aggregation, from many
// goroutines, as the proxy calls it.
func BenchmarkObserve(b *testing.B) {
	order, _, priceChanged, tsChanged := benchBodies(b)
	e := mustEngine(b, Config{Seed: 1})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		s := answer(200, string(tsChanged))
		x := &exchange.Exchange{
			Request:   exchange.Request{ID: "b", Method: "GET", URL: "/orders/ord-000123"},
			Primary:   answer(200, string(order)),
			Secondary: &s,
			Candidate: answer(200, string(priceChanged)),
		}
		for pb.Next() {
			e.Observe(x)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}

// BenchmarkReport measures building a report from a busy engine.
func BenchmarkReport(b *testing.B) {
	e := mustEngine(b, Config{Seed: 1})
	for _, x := range fixture() {
		e.Observe(x)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Report()
	}
}

// BenchmarkWideJSON judges one pair of objects of 1,000 to 100,000 keys
// (about 15 bytes each): with one value changed, and with every value's
// type changed (the comparison stops at Budget.MaxDifferences). The cost
// per field (ns/field) is to stay flat as the objects grow.
func BenchmarkWideJSON(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		p := wideObject(n, false)
		for _, tc := range []struct{ name, c string }{
			{"one-changed", strings.Replace(p, `"k00000":0`, `"k00000":1`, 1)},
			{"all-types-changed", wideObject(n, true)},
		} {
			b.Run(fmt.Sprintf("%s/fields=%d", tc.name, n), func(b *testing.B) {
				e := mustEngine(b, Config{})
				x := pairOf("GET", "/wide", answer(200, p), answer(200, tc.c))
				b.SetBytes(int64(len(p) + len(tc.c)))
				for b.Loop() {
					e.Compare(x)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/field")
			})
		}
	}
}

// BenchmarkProxyClass measures what classing the proxy's own differences
// costs on a pair whose service echoes its request: with the injections
// recorded (the Host and marker differences classed proxy) against the
// same pair without them (the differences counted), and against an
// identical pair with injections (nothing differs: only the check that
// the sides got different ones).
func BenchmarkProxyClass(b *testing.B) {
	echo := func(host string, marker bool) string {
		h := `{"Accept":["*/*"],"User-Agent":["curl/8"],"X-Forwarded-For":["10.0.0.1"]`
		if marker {
			h += `,"X-Shadow-Request":["1"]`
		}
		return fmt.Sprintf(`{"host":%q,"path":"/orders/1","headers":%s},"items":[{"sku":"a","qty":1},{"sku":"b","qty":2}]}`, host, h)
	}
	pi := map[string]string{"Host": "primary:80", "X-Forwarded-For": "10.0.0.1"}
	ci := map[string]string{"Host": "candidate:81", "X-Forwarded-For": "10.0.0.1", "X-Shadow-Request": "1"}
	for _, bc := range []struct {
		name   string
		p, c   string
		pi, ci map[string]string
	}{
		{"echo/no-injections", echo("primary:80", false), echo("candidate:81", true), nil, nil},
		{"echo/proxy-class", echo("primary:80", false), echo("candidate:81", true), pi, ci},
		{"same/injections", echo("primary:80", false), echo("primary:80", false), pi, ci},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := mustEngine(b, Config{Seed: 1})
			x := pairOf("GET", "/orders/1", answer(200, bc.p), answer(200, bc.c))
			x.Primary.Injected, x.Candidate.Injected = bc.pi, bc.ci
			b.ReportAllocs()
			for b.Loop() {
				e.Observe(x)
			}
		})
	}
}
