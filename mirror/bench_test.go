package mirror

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/stats"
)

// benchAnswer is a small JSON answer, typical of an API.
const benchAnswer = `{"id":42,"status":"shipped","items":[{"sku":"A-1","qty":2}]}`

func benchHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, benchAnswer)
}

// BenchmarkProxy measures a small GET through the proxy against the same
// GET sent directly and through a plain httputil.ReverseProxy, so the
// ratios can be read from one run. Besides ns/op it reports each
// request's latency percentiles (p50-µs, p99-µs) and, for the mirroring
// cases, the share of copies dropped.
//
//	go test -run '^$' -bench BenchmarkProxy -benchtime 5000x ./mirror/
func BenchmarkProxy(b *testing.B) {
	primary := httptest.NewServer(http.HandlerFunc(benchHandler))
	defer primary.Close()
	fast := httptest.NewServer(http.HandlerFunc(benchHandler))
	defer fast.Close()
	fast2 := httptest.NewServer(http.HandlerFunc(benchHandler))
	defer fast2.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // slow, but bounded: the proxy's timeout or the sleep ends it
		case <-time.After(20 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		benchHandler(w, r)
	}))
	defer slow.Close()
	primaryURL, _ := url.Parse(primary.URL)

	proxyCase := func(cfg Config) func(b *testing.B) (http.Handler, func() Stats, func()) {
		return func(b *testing.B) (http.Handler, func() Stats, func()) {
			cfg.Primary, cfg.Logger = primary.URL, discardLogger
			p, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			return p, p.Stats, func() { _ = p.Close() }
		}
	}
	cases := []struct {
		name  string
		setup func(b *testing.B) (h http.Handler, stats func() Stats, stop func()) // nil: talk to the primary directly
	}{
		{name: "direct"},
		{name: "reverseproxy", setup: func(b *testing.B) (http.Handler, func() Stats, func()) {
			t := newTransport(512)
			rp := &httputil.ReverseProxy{
				Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(primaryURL); pr.SetXForwarded() },
				Transport:  t,
				BufferPool: &bufferPool{},
			}
			return rp, nil, t.CloseIdleConnections
		}},
		{name: "proxy-no-mirror", setup: proxyCase(Config{Candidate: fast.URL, Routes: []Route{{Disabled: true}}})},
		{name: "proxy-fast-candidate", setup: proxyCase(Config{Candidate: fast.URL})},
		{name: "proxy-slow-candidate", setup: proxyCase(Config{Candidate: slow.URL, CandidateTimeout: 100 * time.Millisecond})},
		// Several candidates: a second fast one, and a slow one beside a
		// fast one (the slow one's lane alone waits).
		{name: "proxy-two-fast-candidates", setup: proxyCase(Config{Candidates: []Candidate{{Name: "a", URL: fast.URL}, {Name: "b", URL: fast2.URL}}})},
		{name: "proxy-fast-and-slow-candidates", setup: proxyCase(Config{CandidateTimeout: 100 * time.Millisecond,
			Candidates: []Candidate{{Name: "fast", URL: fast.URL}, {Name: "slow", URL: slow.URL}}})},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			target := primary.URL
			var proxyStats func() Stats
			if bc.setup != nil {
				h, st, stop := bc.setup(b)
				front := httptest.NewServer(h)
				defer stop()
				defer front.Close() // before stop: no client request left when the proxy stops
				target, proxyStats = front.URL+"/orders/42", st
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}}
			defer client.CloseIdleConnections()
			get := func() {
				resp, err := client.Get(target)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			get() // warm up: connections open, pools filled
			measureLatency(b, get)
			reportDropped(b, proxyStats)
		})
	}
}

// measureLatency times op once per benchmark iteration, allocations
// reported, and reports the p50 and p99 of its latency.
func measureLatency(b *testing.B, op func()) {
	b.Helper()
	var lat stats.Histogram
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		op()
		lat.Record(time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(lat.Quantile(0.50).Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat.Quantile(0.99).Nanoseconds())/1e3, "p99-µs")
}

// reportDropped reports the share of copies the proxy dropped, when
// proxyStats is set and there were copies.
func reportDropped(b *testing.B, proxyStats func() Stats) {
	if proxyStats == nil {
		return
	}
	if s := proxyStats(); s.Mirrored+s.Dropped > 0 {
		b.ReportMetric(float64(s.Dropped)/float64(s.Mirrored+s.Dropped), "dropped-ratio")
	}
}
