package mirror

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// TestQueueFullDropsCopies proves rule 2: with the only worker busy and the
// queue full, the next copy is dropped and counted, and every client is
// answered while the candidate is stuck.
func TestQueueFullDropsCopies(t *testing.T) {
	t.Parallel()
	primary := newBackend(t, nil)
	g := newGate()
	arrived := make(chan struct{}, 10)
	candidate := newBackend(t, gated(g, arrived))
	t.Cleanup(g.open)
	obs := newCollector()
	f := startProxy(t, Config{Primary: primary.URL, Candidate: candidate.URL, Observer: obs, Workers: 1, QueueSize: 1})

	f.get(t, "/1")
	waitFor(t, arrived, "the worker to take the first copy") // the worker is now stuck
	f.get(t, "/2")                                           // queued
	f.get(t, "/3")                                           // dropped: queue full
	s := f.Stats()
	if s.Received != 3 || s.Mirrored != 2 || s.Dropped != 1 || s.QueueDepth != 1 || s.QueueSize != 1 || s.Workers != 1 {
		t.Errorf("received %d mirrored %d dropped %d depth %d/%d workers %d; want 3 2 1 1/1 1",
			s.Received, s.Mirrored, s.Dropped, s.QueueDepth, s.QueueSize, s.Workers)
	}
	g.open()
	got := map[string]bool{obs.next(t).Request.URL: true, obs.next(t).Request.URL: true}
	if !got["/1"] || !got["/2"] {
		t.Errorf("observed %v, want /1 and /2", got)
	}
	testio.Eventually(t, "completed = 2", func() bool { return f.Stats().Completed == 2 })
}

// TestRequestBodyLimit proves the body rules: every body reaches the
// primary whole; one within MaxBodyBytes is mirrored from memory, one over
// it is streamed through a spool up to MaxStreamBodyBytes, and one over
// that (or over MaxBodyBytes with streaming off) is not mirrored and is
// counted, whether its length is known or not.
func TestRequestBodyLimit(t *testing.T) {
	t.Parallel()
	const limit, streamLimit = 1000, 300 << 10
	tests := []struct {
		name         string
		size         int
		chunked      bool
		stream       int64 // MaxStreamBodyBytes
		wantMirrored bool
		wantStreamed bool
	}{
		{name: "within", size: 10, wantMirrored: true},
		{name: "exactly the limit", size: limit, wantMirrored: true},
		{name: "exactly the limit, chunked", size: limit, chunked: true, wantMirrored: true},
		{name: "empty chunked", size: 0, chunked: true, wantMirrored: true},
		{name: "over, streaming off", size: limit + 1, stream: -1},
		{name: "over, chunked, streaming off", size: 200 << 10, chunked: true, stream: -1},
		{name: "over, streamed", size: limit + 1, stream: streamLimit, wantMirrored: true, wantStreamed: true},
		{name: "over, chunked, streamed", size: 200 << 10, chunked: true, stream: streamLimit, wantMirrored: true, wantStreamed: true},
		{name: "exactly the stream limit", size: streamLimit, stream: streamLimit, wantMirrored: true, wantStreamed: true},
		{name: "exactly the stream limit, chunked", size: streamLimit, chunked: true, stream: streamLimit, wantMirrored: true, wantStreamed: true},
		{name: "over the stream limit", size: streamLimit + 1, stream: streamLimit},
		{name: "over the stream limit, chunked", size: streamLimit + 1, chunked: true, stream: streamLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			primary, candidate := newBackend(t, nil), newBackend(t, nil)
			obs := newCollector()
			f := startProxy(t, Config{
				Primary: primary.URL, Candidate: candidate.URL, Observer: obs,
				MaxBodyBytes: limit, MaxStreamBodyBytes: tc.stream,
				Routes: []Route{{Path: "/upload", Unsafe: true}},
			})
			body := bytes.Repeat([]byte("0123456789"), tc.size/10+1)[:tc.size]
			var r io.Reader = bytes.NewReader(body)
			if tc.chunked {
				r = io.MultiReader(r)
			}
			f.do(t, http.MethodPost, "/upload", r, nil)
			if got := primary.next(t).Body; !bytes.Equal(got, body) {
				t.Errorf("primary got %d bytes, want all %d", len(got), len(body))
			}
			if tc.wantMirrored {
				x := obs.next(t)
				wantRecorded := body[:min(len(body), limit)] // the exchange keeps MaxBodyBytes
				if !bytes.Equal(x.Request.Body, wantRecorded) && len(body) > 0 {
					t.Errorf("exchange body %d bytes, want the first %d", len(x.Request.Body), len(wantRecorded))
				}
				if got := candidate.next(t).Body; !bytes.Equal(got, body) {
					t.Errorf("candidate got %d bytes, want %d", len(got), len(body))
				}
				wantStreamed := uint64(0)
				if tc.wantStreamed {
					wantStreamed = 1
				}
				if s := f.Stats(); s.Mirrored != 1 || s.Streamed != wantStreamed {
					t.Errorf("mirrored %d streamed %d, want 1 %d", s.Mirrored, s.Streamed, wantStreamed)
				}
			} else {
				// The spool may be discarded a moment after the primary answered.
				testio.Eventually(t, "the skip to be counted", func() bool { return f.Stats().Skipped["body_size"] == 1 })
				if s := f.Stats(); s.Mirrored != 0 {
					t.Errorf("mirrored %d, want 0", s.Mirrored)
				}
			}
			testio.Eventually(t, "every spool released", func() bool { return f.spools.Load() == 0 })
		})
	}
}

// TestRequestBodyCutShort checks that a client body that ends early is not
// mirrored (and counted), and that the proxy survives it.
func TestRequestBodyCutShort(t *testing.T) {
	t.Parallel()
	primary, candidate := newBackend(t, nil), newBackend(t, nil)
	f := startProxy(t, Config{
		Primary: primary.URL, Candidate: candidate.URL,
		Routes: []Route{{Path: "/upload", Unsafe: true}},
	})
	c, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
	_ = c.(*net.TCPConn).CloseWrite() // the other 90 bytes never come
	_, _ = http.ReadResponse(bufio.NewReader(c), nil)
	testio.Eventually(t, "the skip to be counted", func() bool { return f.Stats().Skipped["body_error"] == 1 })
	if s := f.Stats(); s.Mirrored != 0 {
		t.Errorf("mirrored %d, want 0", s.Mirrored)
	}
	f.get(t, "/after") // still serving
}

// TestSkipCounters checks that each reason for not mirroring is counted,
// and that skipped requests are still served by the primary.
func TestSkipCounters(t *testing.T) {
	t.Parallel()
	primary, candidate := newBackend(t, nil), newBackend(t, nil)
	obs := newCollector()
	f := startProxy(t, Config{
		Primary: primary.URL, Candidate: candidate.URL, Observer: obs,
		Routes: []Route{{Path: "/off", Disabled: true}},
	})
	for _, r := range []struct{ method, path string }{
		{"GET", "/on"}, {"GET", "/off"}, {"POST", "/on"}, {"DELETE", "/on"},
	} {
		if resp, body := f.do(t, r.method, r.path, nil, nil); resp.StatusCode != 200 || string(body) != "ok" {
			t.Errorf("%s %s: %d %q, want the primary's 200 ok", r.method, r.path, resp.StatusCode, body)
		}
	}
	obs.next(t)
	s := f.Stats()
	want := map[string]uint64{"method": 2, "route": 1, "paused": 0, "sample": 0, "body_size": 0, "body_error": 0, "stream": 0, "upgrade": 0, "shutdown": 0, "candidate_down": 0, "body_budget": 0, "grpc_stream": 0}
	if len(s.Skipped) != len(want) {
		t.Errorf("skip reasons %v, want exactly the keys of %v", s.Skipped, want)
	}
	for k, v := range want {
		if s.Skipped[k] != v {
			t.Errorf("skipped[%s] = %d, want %d", k, s.Skipped[k], v)
		}
	}
	if s.Received != 4 || s.Mirrored != 1 {
		t.Errorf("received %d mirrored %d, want 4 1", s.Received, s.Mirrored)
	}
	// A client can have its whole answer a moment before the handler returns.
	testio.Eventually(t, "no request in flight", func() bool { return f.Stats().InFlight == 0 })
}
