package bench

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/understudy-dev/understudy/internal/grpctest"
	"github.com/understudy-dev/understudy/mirror"
	"github.com/understudy-dev/understudy/stats"
	"github.com/understudy-dev/understudy/wire"
)

// BenchmarkGRPCUnary measures the latency a unary gRPC call (a
// SimpleRequest for a 256-byte payload, to the grpc-go interop server)
// gains through shadow, beside the same call made directly and through a
// plain httputil.ReverseProxy over h2c (FlushInterval -1, as gRPC needs),
// all served by wire's listener and called by a grpc-go client, in one
// run. "shadow-off" forwards without mirroring; "shadow" mirrors every
// call to a second interop server. Read p50 and p99 as ratios to direct
// and to reverseproxy within the run.
//
//	go test -run '^$' -bench BenchmarkGRPCUnary -benchtime 5000x ./bench/
func BenchmarkGRPCUnary(b *testing.B) {
	primary := grpctest.Start(b, grpctest.NoReflection)
	candidate := grpctest.Start(b, grpctest.NoReflection)
	primaryURL, _ := url.Parse("http://" + primary.Addr)
	quiet := slog.New(slog.DiscardHandler)

	shadowCase := func(cfg mirror.Config) func(b *testing.B) (http.Handler, func()) {
		return func(b *testing.B) (http.Handler, func()) {
			cfg.Primary, cfg.Candidate, cfg.Logger = primaryURL.String(), "http://"+candidate.Addr, quiet
			p, err := mirror.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			return p, func() { _ = p.Close() }
		}
	}
	cases := []struct {
		name  string
		setup func(b *testing.B) (http.Handler, func()) // nil: the primary directly
	}{
		{name: "direct"},
		{name: "reverseproxy", setup: func(b *testing.B) (http.Handler, func()) {
			tr := &http.Transport{Protocols: &http.Protocols{}, MaxIdleConnsPerHost: 512, DisableCompression: true}
			tr.Protocols.SetUnencryptedHTTP2(true)
			rp := &httputil.ReverseProxy{
				Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(primaryURL) },
				Transport:     tr,
				FlushInterval: -1,
				BufferPool:    &copyBuffers{},
			}
			return rp, tr.CloseIdleConnections
		}},
		{name: "shadow-off", setup: shadowCase(mirror.Config{Routes: []mirror.Route{{Disabled: true}}})},
		{name: "shadow", setup: shadowCase(mirror.Config{})},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			addr := primary.Addr
			if bc.setup != nil {
				h, stop := bc.setup(b)
				defer stop()
				addr = serveWire(b, h)
			}
			cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer cc.Close()
			client := testgrpc.NewTestServiceClient(cc)
			req := &testgrpc.SimpleRequest{ResponseSize: 256}
			call := func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				m, err := client.UnaryCall(ctx, req)
				if err != nil || len(m.GetPayload().GetBody()) != 256 {
					b.Fatalf("UnaryCall: %v, %v", m, err)
				}
			}
			call() // warm up: connections made

			var lat stats.Histogram
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				call()
				lat.Record(time.Since(start))
			}
			b.StopTimer()
			b.ReportMetric(float64(lat.Quantile(0.50).Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat.Quantile(0.99).Nanoseconds())/1e3, "p99-µs")
		})
	}
}

// serveWire serves h with wire's listener (HTTP/1.1 and h2c) on loopback
// until the benchmark ends, and returns its address.
func serveWire(b *testing.B, h http.Handler) string {
	b.Helper()
	s, err := wire.NewServer(wire.ServerConfig{Logger: slog.New(slog.DiscardHandler)}, h)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	b.Cleanup(func() {
		_ = s.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			b.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}
