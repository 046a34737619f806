package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// TestUpload sends slow uploads to a real server that reads every byte,
// watching this process, in both modes.
func TestUpload(t *testing.T) {
	t.Parallel()
	var bodies, bytes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		bytes.Add(n)
		if err == nil {
			bodies.Add(1)
		}
		if r.URL.Path == "/metrics" {
			_, _ = io.WriteString(w, "# TYPE go_memstats_heap_inuse_bytes gauge\ngo_memstats_heap_inuse_bytes 2.097152e+06\n")
		}
	}))
	defer srv.Close()
	cfg := config{url: srv.URL + "/upload", mode: "body", target: "t", conns: 8, watch: os.Getpid(), round: 1,
		body: 64 << 10, duration: 400 * time.Millisecond, answerTimeout: 5 * time.Second, metrics: srv.URL + "/metrics"}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	rec, err := upload(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Opened != 8 || rec.Answered != 8 || rec.Statuses["200"] != 8 || rec.Failed != 0 {
		t.Errorf("body mode: %+v; want 8 connected and answered 200", rec)
	}
	if got := bytes.Load(); got < 8*(64<<10) {
		t.Errorf("server read %d bytes, want all of 8 × 64 KiB", got)
	}
	if rec.PeakKB < rec.IdleKB || rec.IdleKB <= 0 || rec.PeakHeapKB != 2048 {
		t.Errorf("memory idle %d, peak %d, heap %d kB; want peak ≥ idle > 0 and the heap read from /metrics (2048)", rec.IdleKB, rec.PeakKB, rec.PeakHeapKB)
	}

	cfg.mode = "hold"
	rec, err = upload(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Opened != 8 || rec.Answered != 0 || rec.Failed != 0 {
		t.Errorf("hold mode: %+v; want 8 connected, none answered (the bodies never end), none counted failed", rec)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := config{url: "http://127.0.0.1:1/u", mode: "body", conns: 1, watch: 1, body: 10, duration: time.Second, answerTimeout: time.Second}
	for _, tc := range []struct {
		name string
		mod  func(*config)
	}{
		{"url", func(c *config) { c.url = "ftp://x" }},
		{"conns", func(c *config) { c.conns = maxConns + 1 }},
		{"body", func(c *config) { c.body = maxBody + 1 }},
		{"duration", func(c *config) { c.duration = 0 }},
		{"mode", func(c *config) { c.mode = "fast" }},
		{"watch", func(c *config) { c.watch = 0 }},
	} {
		c := ok
		tc.mod(&c)
		if err := c.validate(); err == nil {
			t.Errorf("bad %s: want an error", tc.name)
		}
	}
	if err := ok.validate(); err != nil {
		t.Errorf("a good config: %v", err)
	}
}
