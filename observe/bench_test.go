package observe

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/capture"
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

// BenchmarkPipeline measures the wired observer: redact, judge, queue,
// and the writer goroutine encoding to disk, until Close has synced the
// files. records/s is over the whole, drain included; the queue is large
// enough that nothing is dropped. "judge-only" is the same without a
// capture, to show what capturing adds.
func BenchmarkPipeline(b *testing.B) {
	for _, withCapture := range []bool{false, true} {
		name := "judge-only"
		if withCapture {
			name = "judge+capture"
		}
		b.Run(name, func(b *testing.B) {
			red := &capture.Redactor{Key: []byte("bench-key-0123456789")}
			cfg := Config{Judge: newEngine(b), Redactor: red, QueueSize: b.N + 1, Logger: discardLogger()}
			if withCapture {
				w, err := capture.NewWriter(capture.WriterOptions{Dir: b.TempDir(), Redactor: red})
				if err != nil {
					b.Fatal(err)
				}
				cfg.Writer = w
			}
			p, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			xs := make([]*exchange.Exchange, b.N)
			for i := range xs {
				xs[i] = benchExchange()
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for _, x := range xs {
				p.Observe(x)
			}
			if err := p.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
			if st := p.Stats(); st.Dropped > 0 || st.Busy > 0 {
				b.Fatalf("stats %+v: nothing may be dropped", st)
			}
		})
	}
}

// BenchmarkPipelineParallel has many workers observe at once, as the
// proxy's do, with the judge bound (the default) and without it (as many
// judges as workers). max-judges is the most judged at once, counted.
func BenchmarkPipelineParallel(b *testing.B) {
	for _, bounded := range []bool{true, false} {
		name := fmt.Sprintf("judges=%d", DefaultJudges())
		judges := 0
		if !bounded {
			judges = 64 * runtime.GOMAXPROCS(0)
			name = "unbounded"
		}
		b.Run(name, func(b *testing.B) {
			j := &countingJudge{engine: newEngine(b)}
			p, err := New(Config{Judge: j, Judges: judges, JudgeWait: time.Minute, Logger: discardLogger()})
			if err != nil {
				b.Fatal(err)
			}
			x := benchExchange()
			b.SetParallelism(64 / runtime.GOMAXPROCS(0)) // 64 workers, the proxy's default
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					p.Observe(x)
				}
			})
			b.ReportMetric(float64(j.most.Load()), "max-judges")
			if st := p.Stats(); st.Busy > 0 {
				b.Fatalf("stats %+v: nothing may be dropped", st)
			}
		})
	}
}

// BenchmarkPipelineSmall judges one small JSON GET shaped as the proxy
// hands it over (bench's BenchmarkWholePath): the headers net/http gives
// each side, what the proxy injected on each, the default Redactor and
// Engine, no capture. Under callgrind its slope is judging's instructions
// per exchange without the proxy around it.
func BenchmarkPipelineSmall(b *testing.B) {
	p, err := New(Config{Judge: newEngine(b), Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"id":42,"status":"shipped","items":[{"sku":"A-1","qty":2}]}`)
	resp := func(side exchange.Side, injected map[string]string) exchange.Response {
		h := http.Header{"Content-Length": {"60"}, "Content-Type": {"application/json"}, "Date": {"Wed, 02 Dec 2026 04:26:41 GMT"}}
		return exchange.Response{Side: side, Status: 200, Header: h, Trailer: http.Header{}, Body: body, Size: int64(len(body)),
			Latency: time.Millisecond, Injected: injected}
	}
	fwd := func(host string) map[string]string {
		return map[string]string{"Host": host, "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": "127.0.0.1:38873", "X-Forwarded-Proto": "http"}
	}
	cand := fwd("127.0.0.1:43289")
	cand["X-Shadow-Request"] = "1"
	x := &exchange.Exchange{
		Request: exchange.Request{ID: "3adceb27-1", Method: "GET", URL: "/orders/42", Host: "127.0.0.1:38873",
			Header: http.Header{"Accept-Encoding": {"gzip"}, "User-Agent": {"Go-http-client/1.1"}}, Received: time.Now()},
		Primary: resp(exchange.Primary, fwd("127.0.0.1:32857")), Candidate: resp(exchange.Candidate, cand),
	}
	p.Observe(x)
	b.ReportAllocs()
	for b.Loop() {
		p.Observe(x)
	}
}
