package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
)

// benchBody is a 1 KiB JSON answer with a secret-looking field, so
// redaction has work to do.
func benchBody(price string) []byte {
	var b strings.Builder
	b.WriteString(`{"id": "ord-000123", "token": "t-0123456789", "price": ` + price + `, "items": [`)
	for i := range 16 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"sku": "sku-%03d", "qty": %d}`, i, i%5+1)
	}
	b.WriteString(`], "note": "`)
	b.WriteString(strings.Repeat("x", 1024-b.Len()-2))
	b.WriteString(`"}`)
	return []byte(b.String())
}

func benchExchange() *exchange.Exchange {
	h := http.Header{"Content-Type": {"application/json"}, "Set-Cookie": {"s=abc"}}
	resp := func(side exchange.Side, price string) exchange.Response {
		body := benchBody(price)
		return exchange.Response{Side: side, Status: 200, Header: h, Body: body, Size: int64(len(body)), Latency: 3 * time.Millisecond}
	}
	sec := resp(exchange.Secondary, "10.00")
	return &exchange.Exchange{
		Request: exchange.Request{ID: "1", Method: "GET", URL: "/orders/123?api_key=k", Host: "shop",
			Header: http.Header{"Authorization": {"Bearer x"}, "Accept": {"application/json"}}, Received: time.Now()},
		Primary: resp(exchange.Primary, "10.00"), Secondary: &sec, Candidate: resp(exchange.Candidate, "10.01"),
	}
}

// BenchmarkCaptureRead measures reading a capture back: decoding only
// (what any reader pays), and decoding plus judging (shadow report).
func BenchmarkCaptureRead(b *testing.B) {
	const records = 2000
	dir := b.TempDir()
	w, err := capture.NewWriter(capture.WriterOptions{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	x := benchExchange()
	for range records {
		if err := w.WriteExchange(&capture.ExchangeRecord{Exchange: *x, Endpoint: "GET /orders/{id}"}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := capture.ReadFiles([]string{dir}, func(capture.Record) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("decode+judge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := offlineReport(context.Background(), compare.Config{}, []string{dir}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
