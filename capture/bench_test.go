package capture

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// kibJSON returns a JSON body of about 1 KiB with one secret field.
func kibJSON(seed int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"id":%d,"customer":{"name":"Ann Example","email":"ann@example.com","token":"tok-%d"},"items":[`, seed, seed)
	for i := 0; b.Len() < 1000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%04d","qty":%d,"price":"%d.99"}`, i, i%5+1, i*3)
	}
	b.WriteString(`]}`)
	return []byte(b.String()[:min(b.Len(), 1024)])
}

// benchExchange is a typical mirrored POST: request and three answers,
// each with a 1 KiB JSON body and everyday headers.
func benchExchange() *ExchangeRecord {
	resp := func(side exchange.Side, seed int) exchange.Response {
		body := kibJSON(seed)
		return exchange.Response{
			Side: side, Status: 200,
			Header: http.Header{
				"Content-Type": {"application/json"}, "Date": {"Mon, 02 Jan 2006 15:04:05 GMT"},
				"X-Request-Id": {"0af7651916cd43dd8448eb211c80319c"}, "Cache-Control": {"no-store"},
			},
			Body: body, Size: int64(len(body)), Latency: 12 * time.Millisecond,
		}
	}
	sec := resp(exchange.Secondary, 2)
	return &ExchangeRecord{
		Exchange: exchange.Exchange{
			Request: exchange.Request{
				ID: "0af7651916cd43dd", Method: http.MethodPost, URL: "/orders?expand=items&page=2",
				Host: "orders.internal",
				Header: http.Header{
					"Authorization": {"Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc"}, "Content-Type": {"application/json"},
					"Accept": {"application/json"}, "User-Agent": {"shop-web/4.2"},
					"Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
				},
				Body:     kibJSON(0),
				Received: base,
			},
			Route:     "orders",
			Primary:   resp(exchange.Primary, 1),
			Secondary: &sec,
			Candidate: resp(exchange.Candidate, 3),
		},
		Endpoint: "POST /orders", Differs: true,
		Diffs: []string{"body.$.items[3].price"}, Noise: []string{"header.Date"},
	}
}

// reportRate reports records per wall-clock second and per CPU second (all
// threads, GC included), the latter being what a shared machine distorts
// least.
func reportRate(b *testing.B, n int, cpu0 time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "records/cpu-s")
	}
}

// BenchmarkWrite measures records written per second by one goroutine,
// redaction included (the default redactor finds the Authorization header
// and a token in every body).
func BenchmarkWrite(b *testing.B) {
	w, err := NewWriter(WriterOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	rec := benchExchange()
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		if err := w.WriteExchange(rec); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	reportRate(b, n, cpu0)
}

// BenchmarkWriteSynth measures synth step records written per second by
// one goroutine, redaction included.
func BenchmarkWriteSynth(b *testing.B) {
	w, err := NewWriter(WriterOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	rec := &SynthRecord{
		RunID: "run-0af7651916cd43dd", Scenario: "checkout", Journey: "buy", JourneyID: "j-000042", Step: "pay",
		Tags:   map[string]string{"X-Synthetic": "true", "X-Synthetic-Run": "run-0af7651916cd43dd"},
		Method: http.MethodPost, URL: "https://shop.example/pay?order=42", Status: 201,
		Latency: 42 * time.Millisecond, Intended: base, Passed: true,
	}
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		if err := w.WriteSynth(rec); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	reportRate(b, n, cpu0)
}

// BenchmarkWriteParallel measures records written per second by
// concurrent goroutines sharing one Writer.
func BenchmarkWriteParallel(b *testing.B) {
	w, err := NewWriter(WriterOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	rec := benchExchange()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := w.WriteExchange(rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	reportRate(b, b.N, cpu0)
}

// BenchmarkRead measures records read (and decoded) per second.
func BenchmarkRead(b *testing.B) {
	const perFile = 2000
	w, err := NewWriter(WriterOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	rec := benchExchange()
	for range perFile {
		if err := w.WriteExchange(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	path := w.Files()[0]
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		r, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
	}
	reportRate(b, n, cpu0)
}

// BenchmarkRedact measures Redactor.Redact on one exchange, preparing the
// configuration included, as a caller redacting before showing would.
func BenchmarkRedact(b *testing.B) {
	red := testRedactor()
	rec := benchExchange()
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		x := rec.Exchange
		red.Redact(&x)
		n++
	}
	reportRate(b, n, cpu0)
}

// BenchmarkRedactGzip measures Redactor.Redact on benchExchange with
// every body gzip-encoded: "secret" finds a token in each body (decode,
// redact, encode again), "clean" finds none (decode only).
func BenchmarkRedactGzip(b *testing.B) {
	rec := benchExchange()
	x := rec.Exchange
	gz := func(body []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		return buf.Bytes()
	}
	x.Request.Body = gz(x.Request.Body)
	x.Request.Header = x.Request.Header.Clone()
	x.Request.Header.Set("Content-Encoding", "gzip")
	for _, r := range []*exchange.Response{&x.Primary, x.Secondary, &x.Candidate} {
		r.Body = gz(r.Body)
		r.Header = r.Header.Clone()
		r.Header.Set("Content-Encoding", "gzip")
	}
	for _, tc := range []struct {
		name string
		red  *Redactor
	}{
		{"secret", testRedactor()},
		{"clean", &Redactor{NoDefaultFieldNames: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			cpu0 := cpuTime()
			for b.Loop() {
				y := x
				tc.red.Redact(&y)
				n++
			}
			reportRate(b, n, cpu0)
		})
	}
}
