package mirror

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// Bounds under hostile clients, proven by counting what the proxy holds:
// body budget bytes, requests in flight, goroutines. None of these tests is
// parallel, so the goroutines counted are theirs alone.

// slowUploads opens n connections to addr that each send the head of a
// POST with a Content-Length of length and then sent bytes of its body,
// and stop there. Cleanup closes them.
func slowUploads(t *testing.T, addr string, n int, length, sent int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		fmt.Fprintf(c, "POST /upload/%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", i, length, strings.Repeat("u", sent))
		conns[i] = c
	}
	return conns
}

// settledGoroutines waits until the goroutine count is at most want.
func settledGoroutines(t *testing.T, want int) {
	t.Helper()
	testio.Eventually(t, fmt.Sprintf("at most %d goroutines", want), func() bool { return runtime.NumGoroutine() <= want })
}

// TestSlowUploadersAreBounded: clients that send a request head with a
// Content-Length of MaxBodyBytes and a byte of the body, then nothing, hold one
// first chunk of buffer each (4 KiB), not the 1 MiB their Content-Length
// announces, and the sum never passes MaxBufferedBytes; past the budget
// their bodies are forwarded, not buffered. BodyReadTimeout cuts them all
// off: each gets 408, and every goroutine and byte they held is let go.
func TestSlowUploadersAreBounded(t *testing.T) {
	const (
		uploaders = 200
		budget    = 128 * firstBodyChunk // 512 KiB: reached by 128 first chunks
		length    = budget               // MaxBodyBytes: each would be buffered whole
	)
	primary := recorder(t)
	candidate := newBackend(t, nil)
	p, addr := shadowFront(t, Config{
		Primary: primary.URL, Candidate: candidate.URL,
		Routes:       []Route{{Unsafe: true}},
		MaxBodyBytes: length, MaxBufferedBytes: budget,
		BodyReadTimeout: wait / 2, // long enough to count them all stalled first
	}, nil)
	baseline := runtime.NumGoroutine()

	conns := slowUploads(t, addr, uploaders, length, 1)
	testio.Eventually(t, "every upload to be read", func() bool { return p.Stats().InFlight == uploaders })
	s := p.Stats()
	if s.BufferedBytes != budget {
		t.Errorf("%d slow uploads hold %d bytes of body buffers; want the budget, %d (one %d-byte chunk each for the first %d)",
			uploaders, s.BufferedBytes, budget, firstBodyChunk, budget/firstBodyChunk)
	}
	if got, want := s.Skipped["body_budget"], uint64(uploaders-budget/firstBodyChunk); got != want {
		t.Errorf("skipped %d for body_budget, want %d: the uploads past the budget", got, want)
	}

	// Cut off by the timeout, without the clients doing anything.
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(2 * wait))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("stalled upload got no answer: %v", err)
		}
		if res.StatusCode != http.StatusRequestTimeout && res.StatusCode != http.StatusBadGateway {
			t.Errorf("stalled upload got %d, want 408 (or the primary's failure)", res.StatusCode)
		}
	}
	testio.Eventually(t, "every upload to be let go", func() bool {
		s := p.Stats()
		return s.InFlight == 0 && s.BufferedBytes == 0
	})
	settledGoroutines(t, baseline+8)
	if s := p.Stats(); s.PrimaryErrors != 0 {
		t.Errorf("primary errors %d, want 0: the clients stalled", s.PrimaryErrors)
	}
}

// TestSlowUploadersHoldNoMemoryOnceGone: 200 slow uploads within the
// default budget hold exactly 4 KiB each while they stall; when the
// clients go away, nothing is left held.
func TestSlowUploadersHoldNoMemoryOnceGone(t *testing.T) {
	const uploaders = 200
	primary := recorder(t)
	candidate := newBackend(t, nil)
	p, addr := shadowFront(t, Config{Primary: primary.URL, Candidate: candidate.URL, Routes: []Route{{Unsafe: true}}}, nil)
	baseline := runtime.NumGoroutine()

	conns := slowUploads(t, addr, uploaders, 1<<20, 1)
	testio.Eventually(t, "every upload to be read", func() bool { return p.Stats().InFlight == uploaders })
	if got, want := p.Stats().BufferedBytes, int64(uploaders*firstBodyChunk); got != want {
		t.Errorf("%d uploads announcing 1 MiB and sending 1 byte hold %d bytes; want %d (4 KiB each)", uploaders, got, want)
	}
	for _, c := range conns {
		_ = c.Close()
	}
	testio.Eventually(t, "every upload to be let go", func() bool {
		s := p.Stats()
		return s.InFlight == 0 && s.BufferedBytes == 0
	})
	settledGoroutines(t, baseline+8)
	if s := p.Stats(); s.PrimaryErrors != 0 || s.Skipped["body_error"] != uploaders {
		t.Errorf("primary errors %d, skipped %v; want 0 and %d body_error", s.PrimaryErrors, s.Skipped, uploaders)
	}
}

// TestBodyOverBudget: a body that does not fit in what is left of the
// budget (another upload holds most of it) is forwarded to the primary
// whole, byte for byte as through a plain proxy, and not mirrored
// (body_budget). Once the other upload ends, the budget is whole again.
func TestBodyOverBudget(t *testing.T) {
	const budget = 64 << 10
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", "1")
	})
	candidate := newBackend(t, nil)
	obs := newCollector()
	p, addr := shadowFront(t, Config{
		Primary: primary.URL, Candidate: candidate.URL, Observer: obs,
		Routes:       []Route{{Unsafe: true}},
		MaxBodyBytes: budget, MaxBufferedBytes: budget,
	}, nil)

	// The holder has sent 40,000 of 60,000 bytes: its buffer has grown to
	// 60,000 (the Content-Length) to take the rest.
	holder := slowUploads(t, addr, 1, 60000, 40000)[0]
	testio.Eventually(t, "the holder's buffer to grow", func() bool { return p.Stats().BufferedBytes == 60000 })

	wide := strings.Repeat("w", 32<<10)
	req := request("POST", "/wide", wide)
	h, tr := plainProxy(t, primary.URL)
	t.Cleanup(tr.CloseIdleConnections)
	plain := rawClient(t, serveFront(t, h, nil), []rawReq{req}, nil)
	if got := primary.next(t); string(got.Body) != wide {
		t.Fatalf("the primary got %d bytes through the plain proxy, want %d", len(got.Body), len(wide))
	}
	shadow := rawClient(t, addr, []rawReq{req}, nil)
	neverWorse(t, shadow, plain)
	if got := primary.next(t); sha256.Sum256(got.Body) != sha256.Sum256([]byte(wide)) {
		t.Errorf("the primary got %d bytes through shadow, want the %d sent", len(got.Body), len(wide))
	}
	if s := p.Stats(); s.Skipped["body_budget"] != 1 || s.Mirrored != 0 {
		t.Errorf("skipped %v, mirrored %d; want one body_budget and nothing mirrored yet", s.Skipped, s.Mirrored)
	}

	// The holder finishes: it is mirrored, and the budget is whole again.
	_, _ = io.WriteString(holder, strings.Repeat("u", 20000))
	if x := obs.next(t); len(x.Request.Body) != 60000 {
		t.Errorf("the holder's copy has %d body bytes, want 60000", len(x.Request.Body))
	}
	testio.Eventually(t, "the budget to be whole", func() bool { return p.Stats().BufferedBytes == 0 })
}
