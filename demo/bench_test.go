package demo

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const benchCart = `{"customer":"Ada Lovelace","items":[{"sku":"pizza","qty":2},{"sku":"soda","qty":2},{"sku":"dip","qty":1}]}`

// BenchmarkCreateOrder measures POST /orders in process, store bound
// included.
func BenchmarkCreateOrder(b *testing.B) {
	for _, version := range []int{1, 2} {
		b.Run(map[int]string{1: "v1", 2: "v2"}[version], func(b *testing.B) {
			svc := New(Options{Version: version, Seed: 1, MaxOrders: 10_000, SlowDelay: -1, ErrorRate: -1})
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				svc.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(benchCart)))
				if rec.Code != http.StatusCreated {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// BenchmarkGetOrderParallel measures GET /orders/{id} from many goroutines
// against one store.
func BenchmarkGetOrderParallel(b *testing.B) {
	svc := New(Options{Version: 1, Seed: 1})
	rec := httptest.NewRecorder()
	svc.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(benchCart)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			svc.ServeHTTP(rec, httptest.NewRequest("GET", "/orders/ord-000001", nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}
