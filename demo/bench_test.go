package demo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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

// BenchmarkTrafficLoopback drives Traffic's whole mix over loopback HTTP
// against a Start()ed instance at a rate no instance keeps up with, and
// reports what got through: sent/s is the capacity of generator and service
// together on this machine; the rest of the starts are dropped by design.
func BenchmarkTrafficLoopback(b *testing.B) {
	srv, err := Start(Options{Version: 1, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	b.ReportAllocs()
	tr := &Traffic{BaseURL: srv.URL, Rate: MaxTrafficRate, Seed: 1, MaxInFlight: 8, MaxRequests: b.N}
	b.ResetTimer()
	start := time.Now()
	if err := tr.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	st := tr.Stats()
	b.ReportMetric(float64(st.Sent)/elapsed.Seconds(), "sent/s")
	b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
	if st.Failed != 0 {
		b.Fatalf("%d requests failed", st.Failed)
	}
}
