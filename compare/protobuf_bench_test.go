package compare

import (
	"fmt"
	"strings"
	"testing"
)

// benchOrder is a realistic order of about 1 KiB on the wire (32 items,
// about 190 tree nodes against the 63 of testdata/order.json's 1 KiB of
// JSON), written in protojson, with variants like those of benchBodies.
func benchOrder(b *testing.B) (order, priceChanged, traceChanged []byte) {
	b.Helper()
	var items []string
	for i := range 32 {
		items = append(items, fmt.Sprintf(`{"sku":"SKU-%04d","qty":%d,"unit_price":%d.%02d}`, 1000+i, i%5+1, 3+i*7, i*13%100))
	}
	js := `{"id":"ord-000123","state":"SHIPPED","items":[` + strings.Join(items, ",") + `],
		"labels":{"channel":"web","region":"eu-west-1","tier":"gold","campaign":"spring-sale"},
		"stock":{"1001":{"sku":"SKU-1001","qty":40},"1002":{"sku":"SKU-1002","qty":7}},
		"note":"leave at the door, ring twice","total_cents":"17954","signature":"c2lnbmF0dXJlLWJ5dGVz",
		"created_at":"2024-05-01T12:34:56.789Z","coupon":"SPRING5","card":{"number":"4242424242424242","expiry_year":2030},
		"parent":{"id":"ord-000100","state":"PLACED"},"trace_id":"6f1c2a9e-8d3b-4c5e-9f7a-1b2c3d4e5f60"}`
	order = orderMsg(b, js)
	priceChanged = orderMsg(b, strings.Replace(js, `"unit_price":10.13`, `"unit_price":10.14`, 1))
	traceChanged = orderMsg(b, strings.Replace(js, `1b2c3d4e5f60`, `1b2c3d4e5f61`, 1))
	if string(priceChanged) == string(order) || string(traceChanged) == string(order) || len(order) < 1000 || len(order) > 1100 {
		b.Fatalf("the variants do not differ, or the order is not about 1 KiB (%d bytes)", len(order))
	}
	return order, priceChanged, traceChanged
}

// BenchmarkCompareProtobuf judges one pair of 1 KiB gRPC answers on one
// goroutine, decoded with their descriptor or by field number, in the
// cases BenchmarkCompareJSON measures. Goal: at least the JSON figure.
func BenchmarkCompareProtobuf(b *testing.B) {
	order, priceChanged, traceChanged := benchOrder(b)
	norms := []Normalizer{{Kind: Ignore, Path: "$.trace_id"}}
	cases := []struct {
		name   string
		cfg    Config
		p, c   []byte
		second []byte
	}{
		{"identical", Config{}, order, order, nil},
		{"one-field-differs", Config{}, order, priceChanged, nil},
		{"normalized-equal", Config{Normalizers: norms}, order, traceChanged, nil},
		{"with-secondary", Config{}, order, priceChanged, traceChanged},
	}
	for _, schemas := range []struct {
		name string
		r    MessageResolver
	}{{"descriptor", shopSchemas(b)}, {"field-numbers", nil}} {
		for _, tc := range cases {
			b.Run(schemas.name+"/"+tc.name, func(b *testing.B) {
				tc.cfg.Schemas = schemas.r
				e := mustEngine(b, tc.cfg)
				x := grpcPair(getOrder, grpcAnswer(0, frames(tc.p)), grpcAnswer(0, frames(tc.c)))
				if tc.second != nil {
					s := grpcAnswer(0, frames(tc.second))
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
}
