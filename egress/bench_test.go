package egress

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/stats"
)

// BenchmarkPrimaryOutbound measures what egress adds to the primary's
// calls to a dependency. Every iteration sends one small JSON POST three
// ways, in rotating order, each on its own keep-alive client: straight to
// the dependency (direct), through a plain httputil.ReverseProxy (the cost
// of any extra hop), and through the primary's egress listener, traced so
// that it is recorded. It reports each way's p50 and p99 in µs and the
// ratios of egress to direct and to the plain proxy, all measured in the
// same run.
//
//	go test -run '^$' -bench BenchmarkPrimaryOutbound -benchtime 5000x ./egress/
func BenchmarkPrimaryOutbound(b *testing.B) {
	const answer = `{"id":"ch_000042","status":"succeeded","amount":3.33,"currency":"EUR"}`
	const body = `{"customer":"ann","amount":3.33,"currency":"EUR"}`
	dep := newDependency(b, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, answer)
	})
	e := start(b, config(dep.URL))
	target, _ := url.Parse(dep.URL)
	plainTransport := defaultTransport()
	b.Cleanup(plainTransport.CloseIdleConnections)
	plain := httptest.NewServer(&httputil.ReverseProxy{Transport: plainTransport, Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }})
	b.Cleanup(plain.Close)

	ways := []struct {
		name string
		url  string
		c    *http.Client
		h    stats.Histogram
	}{
		{name: "direct", url: dep.URL + "/charges", c: client(b)},
		{name: "reverseproxy", url: plain.URL + "/charges", c: client(b)},
		{name: "egress", url: e.URL("payments", exchange.Primary) + "/charges", c: client(b)},
	}
	call := func(i int, tp string, record bool) {
		w := &ways[i]
		req, _ := http.NewRequest("POST", w.url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Traceparent", tp)
		start := time.Now()
		resp, err := w.c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if record {
			w.h.Record(time.Since(start))
		}
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("%s: status %d", w.name, resp.StatusCode)
		}
	}
	for range 200 { // warm the connection pools
		tp, id := newTrace()
		for i := range ways {
			call(i, tp, false)
		}
		e.Take(id)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		tp, id := newTrace()
		for j := range ways {
			call((n+j)%len(ways), tp, true)
		}
		b.StopTimer()
		e.Take(id) // the observer's work, off the primary's path
		b.StartTimer()
	}
	b.StopTimer()
	us := func(i int, q float64) float64 { return float64(ways[i].h.Quantile(q).Microseconds()) }
	for i := range ways {
		b.ReportMetric(us(i, 0.5), ways[i].name+"-p50-µs")
		b.ReportMetric(us(i, 0.99), ways[i].name+"-p99-µs")
	}
	ratio := func(q float64, base int) float64 {
		if d := us(base, q); d > 0 {
			return us(2, q) / d
		}
		return 0
	}
	b.ReportMetric(ratio(0.5, 0), "p50-vs-direct")
	b.ReportMetric(ratio(0.99, 0), "p99-vs-direct")
	b.ReportMetric(ratio(0.5, 1), "p50-vs-reverseproxy")
	b.ReportMetric(ratio(0.99, 1), "p99-vs-reverseproxy")
	if st := e.Stats(); st.Primary.Recorded < int64(b.N) {
		b.Fatalf("recorded %d of %d calls", st.Primary.Recorded, b.N)
	}
}
