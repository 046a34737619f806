package mirror

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// BenchmarkWebSocketEcho measures a WebSocket echo round trip (a small
// JSON text message and its echo, on one long-lived connection) sent
// directly to the primary, through a plain httputil.ReverseProxy, and
// through the proxy: on a route that does not mirror WebSockets, and on
// one that does, with an echoing candidate and with one whose socket
// never reads. The ratios come from one run. Besides ns/op it reports
// the round trip's latency percentiles (p50-µs, p99-µs) and, when
// mirrored, the messages compared and dropped per round trip.
//
//	go test -run '^$' -bench BenchmarkWebSocketEcho -benchtime 5000x ./mirror/
func BenchmarkWebSocketEcho(b *testing.B) {
	primary := httptest.NewServer(wsEchoHandler(b))
	defer primary.Close()
	cand := httptest.NewServer(wsEchoHandler(b))
	defer cand.Close()
	stop := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		<-stop
	}))
	defer hung.Close()
	defer close(stop)
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
		setup func(b *testing.B) (http.Handler, func() Stats, func()) // nil: directly
	}{
		{name: "direct"},
		{name: "reverseproxy", setup: func(b *testing.B) (http.Handler, func() Stats, func()) {
			t := newTransport(512)
			rp := &httputil.ReverseProxy{
				Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(primaryURL); pr.SetXForwarded() },
				Transport: t,
			}
			return rp, nil, t.CloseIdleConnections
		}},
		{name: "proxy-not-mirrored", setup: proxyCase(Config{Candidate: cand.URL})},
		{name: "proxy-mirrored", setup: proxyCase(Config{Candidate: cand.URL, Routes: wsRoutes})},
		{name: "proxy-mirrored-hung-candidate", setup: proxyCase(Config{Candidate: hung.URL, Routes: wsRoutes})},
	}
	msg := []byte(`{"id":42,"status":"shipped","items":[{"sku":"A-1","qty":2}]}`)
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			addr := strings.TrimPrefix(primary.URL, "http://")
			var proxyStats func() Stats
			if bc.setup != nil {
				h, st, stop := bc.setup(b)
				front := httptest.NewServer(h)
				defer stop()
				defer front.Close()
				addr, proxyStats = strings.TrimPrefix(front.URL, "http://"), st
			}
			ctx := context.Background()
			tr := &http.Transport{DialContext: (&net.Dialer{}).DialContext}
			defer tr.CloseIdleConnections()
			c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseNow()
			echo := func() {
				if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.Read(ctx); err != nil {
					b.Fatal(err)
				}
			}
			echo() // warm up: the mirrored connections are up
			measureLatency(b, echo)
			if proxyStats != nil {
				if ws := proxyStats().WebSockets; len(ws) > 0 {
					b.ReportMetric(float64(ws[0].Messages)/float64(b.N+1), "compared/op")
					b.ReportMetric(float64(ws[0].Dropped)/float64(b.N+1), "dropped/op")
				}
			}
			_ = c.Close(websocket.StatusNormalClosure, "")
		})
	}
}
