package bench

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/observe"
)

// wholeAnswer is the upstreams' answer, the harness's small JSON.
const wholeAnswer = `{"id":42,"status":"shipped","items":[{"sku":"A-1","qty":2}]}`

// BenchmarkWholePath measures one small GET through the whole of shadow's
// path as `shadow run` wires it (mirror.Proxy, then an observe.Pipeline
// that redacts, has a compare.Engine judge and, with capture, queues a
// record for a capture.Writer), beside the same GET sent directly and
// through a plain httputil.ReverseProxy, all in this process. Each op is
// one request answered; before the timer stops, the copies of the last
// requests are waited for, so their work is in the figures. Besides ns/op
// and allocs/op (the client's and the upstreams' included: subtract
// "direct" for the proxy's own) it reports cpu-µs/op, the process's CPU
// time per request from getrusage. The Prometheus metrics shadow run feeds
// are left out: they live in cmd/internal, which bench cannot import.
//
//	go test -run '^$' -bench BenchmarkWholePath -benchmem ./bench/
func BenchmarkWholePath(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, wholeAnswer)
	})
	primary := httptest.NewServer(handler)
	defer primary.Close()
	candidate := httptest.NewServer(handler)
	defer candidate.Close()
	secondary := httptest.NewServer(handler)
	defer secondary.Close()

	cases := []struct {
		name string
		// setup returns the handler under test, a function that waits for
		// its copies, and a stop; nil talks to the primary directly.
		setup func(b *testing.B) (http.Handler, func(), func())
	}{
		{name: "direct"},
		{name: "reverseproxy", setup: func(b *testing.B) (http.Handler, func(), func()) {
			u, _ := url.Parse(primary.URL)
			t := &http.Transport{
				DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				MaxIdleConnsPerHost: 512, IdleConnTimeout: 90 * time.Second, DisableCompression: true,
			}
			rp := &httputil.ReverseProxy{ // tuned like bench/cmd/plainproxy and mirror's primary path
				Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
				Transport:  t,
				BufferPool: &copyBuffers{},
			}
			return rp, func() {}, t.CloseIdleConnections
		}},
		{name: "shadow-off", setup: shadowCase(mirror.Config{Primary: primary.URL, Candidate: candidate.URL, Routes: []mirror.Route{{Disabled: true}}}, false)},
		{name: "shadow-unjudged-transport", setup: unjudgedCase(mirror.Config{Primary: primary.URL, Candidate: candidate.URL, CopyClient: mirror.CopyClientTransport})},
		{name: "shadow-unjudged", setup: unjudgedCase(mirror.Config{Primary: primary.URL, Candidate: candidate.URL})},
		{name: "shadow", setup: shadowCase(mirror.Config{Primary: primary.URL, Candidate: candidate.URL}, false)},
		{name: "shadow-secondary", setup: shadowCase(mirror.Config{Primary: primary.URL, Candidate: candidate.URL, Secondary: secondary.URL}, false)},
		{name: "shadow-capture", setup: shadowCase(mirror.Config{Primary: primary.URL, Candidate: candidate.URL}, true)},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			target, drain := primary.URL+"/orders/42", func() {}
			if bc.setup != nil {
				h, wait, stop := bc.setup(b)
				front := httptest.NewServer(h)
				defer stop()
				defer front.Close() // before stop: no request left when the proxy stops
				target, drain = front.URL+"/orders/42", wait
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
			for range 100 { // warm up: connections open, pools and engine state filled
				get()
			}
			drain()
			b.ReportAllocs()
			cpu0 := processCPU()
			b.ResetTimer()
			for b.Loop() {
				get()
			}
			drain()
			b.StopTimer()
			b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		})
	}
}

// shadowCase builds shadow's path for BenchmarkWholePath: the proxy, the
// pipeline judging its exchanges and, with capture, a writer into a temp
// directory.
func shadowCase(cfg mirror.Config, withCapture bool) func(b *testing.B) (http.Handler, func(), func()) {
	return func(b *testing.B) (http.Handler, func(), func()) {
		engine, err := compare.New(compare.Config{})
		if err != nil {
			b.Fatal(err)
		}
		pcfg := observe.Config{Judge: engine}
		if withCapture {
			w, err := capture.NewWriter(capture.WriterOptions{Dir: b.TempDir(), Header: capture.Header{Tool: "bench"}})
			if err != nil {
				b.Fatal(err)
			}
			pcfg.Writer, pcfg.Dir = w, "bench"
		}
		pipe, err := observe.New(pcfg)
		if err != nil {
			b.Fatal(err)
		}
		cfg.Observer = pipe
		cfg.Logger = slog.New(slog.DiscardHandler)
		cfg.MaxQueueWait = -1 // a copy late behind a busy benchmark is still sent and judged
		p, err := mirror.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		// drain waits (at most 10 s) until every copy queued so far has
		// been judged or dropped.
		drain := func() {
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				s, ps := p.Stats(), pipe.Stats()
				if uint64(ps.Judged+ps.Busy)+s.Stale+s.Abandoned >= s.Mirrored {
					return
				}
			}
		}
		stop := func() {
			_ = p.Close()
			_ = pipe.Close()
		}
		return p, drain, stop
	}
}

// unjudgedCase is shadow's proxy mirroring to the candidate with an
// observer that only counts the exchanges: beside "shadow", what judging
// (redaction, the compare engine) costs; beside "shadow-off", what the
// copy itself costs (tee, queue, the candidate's round trip, and the
// candidate's server, which runs in this process).
func unjudgedCase(cfg mirror.Config) func(b *testing.B) (http.Handler, func(), func()) {
	return func(b *testing.B) (http.Handler, func(), func()) {
		var seen atomic.Uint64
		cfg.Observer = mirror.ObserverFunc(func(*exchange.Exchange) { seen.Add(1) })
		cfg.Logger = slog.New(slog.DiscardHandler)
		cfg.MaxQueueWait = -1
		p, err := mirror.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		drain := func() {
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				if s := p.Stats(); seen.Load()+s.Stale+s.Abandoned >= s.Mirrored {
					return
				}
			}
		}
		return p, drain, func() { _ = p.Close() }
	}
}

// processCPU is this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// copyBuffers lends ReverseProxy 32 KiB copy buffers, as mirror does.
type copyBuffers struct{ pool sync.Pool }

func (c *copyBuffers) Get() []byte {
	if v, ok := c.pool.Get().(*[32 << 10]byte); ok {
		return v[:]
	}
	return new([32 << 10]byte)[:]
}

func (c *copyBuffers) Put(buf []byte) {
	if len(buf) == 32<<10 {
		c.pool.Put((*[32 << 10]byte)(buf))
	}
}
