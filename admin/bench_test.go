package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/stats"
)

// benchSnapshot is shaped like a shadow dashboard's state: per-endpoint
// counts and latency digests for 50 endpoints.
func benchSnapshot() func() any {
	type endpoint struct {
		Route     string        `json:"route"`
		Requests  int64         `json:"requests"`
		Diffs     int64         `json:"diffs"`
		Errors    int64         `json:"errors"`
		Primary   stats.Summary `json:"primary"`
		Candidate stats.Summary `json:"candidate"`
	}
	var h stats.Histogram
	for i := range 1000 {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	sum := h.Summary()
	eps := make([]endpoint, 50)
	for i := range eps {
		eps[i] = endpoint{Route: fmt.Sprintf("GET /orders/{id}/items/%d", i), Requests: 1e6, Diffs: 12, Errors: 3, Primary: sum, Candidate: sum}
	}
	snap := map[string]any{"uptime": "1h0m0s", "queue": 12, "endpoints": eps}
	return func() any { return snap }
}

func BenchmarkSnapshotHandler(b *testing.B) {
	srv, err := New(Config{Snapshot: benchSnapshot()})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	req := httptest.NewRequest(http.MethodGet, "/snapshot", nil)
	req.Host = "127.0.0.1:9090" // httptest's example.com is refused without a token
	var n int
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("GET /snapshot = %d %s", w.Code, w.Body)
		}
		n = w.Body.Len()
	}
	b.SetBytes(int64(n))
}

func BenchmarkClientSnapshotLoopback(b *testing.B) {
	srv, err := New(Config{Addr: "127.0.0.1:0", Snapshot: benchSnapshot()})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	c := &Client{BaseURL: ts.URL, HTTP: ts.Client()}
	ctx := context.Background()
	for b.Loop() {
		var v map[string]any
		if err := c.Snapshot(ctx, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkControlLoopback(b *testing.B) {
	srv, err := New(Config{Control: &nopController{}, Logger: testLogger(&syncBuffer{})})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	c := &Client{BaseURL: ts.URL, HTTP: ts.Client()}
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Control(ctx, "rate", 120); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeCommand(b *testing.B) {
	const body = `{"action":"rate","rate":120}`
	for b.Loop() {
		if _, err := DecodeCommand(strings.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

// nopController accepts everything and records nothing, so a benchmark
// measures the admin path only.
type nopController struct{}

func (nopController) Pause() error                       { return nil }
func (nopController) Resume() error                      { return nil }
func (nopController) SetRate(r float64) (float64, error) { return r, nil }
func (nopController) Stop() error                        { return nil }
func (nopController) Kill() error                        { return nil }
