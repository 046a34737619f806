package mirror

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// randomBody returns n reproducible random bytes.
func randomBody(n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// hashingServer reads each request body whole and reports its SHA-256 and
// length; when hold is not nil it first waits for hold to open (before
// reading a byte of the body).
type hashingServer struct {
	*httptest.Server
	sums chan string
}

func newHashingServer(t *testing.T, hold *gate) *hashingServer {
	t.Helper()
	h := &hashingServer{sums: make(chan string, 4)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold != nil {
			select {
			case <-hold.ch:
			case <-r.Context().Done():
				return
			}
		}
		d := sha256.New()
		n, err := io.Copy(d, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s := fmt.Sprintf("%x %d", d.Sum(nil), n)
		h.sums <- s
		_, _ = io.WriteString(w, s)
	}))
	t.Cleanup(func() { closeServer(h.Server) })
	return h
}

func (h *hashingServer) next(t *testing.T, who string) string {
	t.Helper()
	select {
	case s := <-h.sums:
		return s
	case <-time.After(wait):
		t.Fatalf("%s received no body", who)
		return ""
	}
}

// TestLargeUploadStreamed proves that a body over MaxBodyBytes (defaults:
// 1 MiB held, 64 MiB streamed) reaches the candidate and the secondary byte
// for byte, and that the client's answer does not wait for them: both
// copies' backends block, before reading a byte, until the client has its
// whole answer. A proxy that streamed to them in step with the primary (or
// waited for them) would stall the client's 20 MiB upload there, and the
// test would fail at its bounded wait instead. It also checks that the
// spool file is already gone from the directory while the copy is sent
// (unlinked at once) and that the exchange records the first MaxBodyBytes.
func TestLargeUploadStreamed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		size    int
		chunked bool
	}{
		{name: "20 MiB, length known", size: 20 << 20},
		{name: "5 MiB, chunked", size: 5 << 20, chunked: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := randomBody(tc.size)
			want := fmt.Sprintf("%s %d", sum(body), len(body))
			clientDone := newGate()
			t.Cleanup(clientDone.open)
			primary := newHashingServer(t, nil)
			candidate, secondary := newHashingServer(t, clientDone), newHashingServer(t, clientDone)
			obs := newCollector()
			dir := t.TempDir()
			f := startProxyWith(t, Config{
				Primary: primary.URL, Candidate: candidate.URL, Secondary: secondary.URL, Observer: obs,
				CandidateTimeout: time.Minute, // the copies wait for the test, and move 20 MiB under -race
				Routes:           []Route{{Path: "/upload", Unsafe: true}},
			}, func(p *Proxy) { p.spoolDir = dir })

			var r io.Reader = bytes.NewReader(body)
			if tc.chunked {
				r = io.MultiReader(r)
			}
			resp, got := f.do(t, http.MethodPut, "/upload", r, nil)
			if resp.StatusCode != http.StatusOK || string(got) != want {
				t.Fatalf("client got %d %q, want the primary's 200 %q", resp.StatusCode, got, want)
			}
			// The client has its answer; the copies are still held.
			if entries, err := os.ReadDir(dir); err != nil || (len(entries) != 0 && runtime.GOOS != "windows") {
				t.Errorf("spool directory holds %v (%v) while the copy is sent; want it empty: the file is unlinked at once", entries, err)
			}
			if s := f.Stats(); s.Mirrored != 1 || s.Streamed != 1 || s.Completed != 0 {
				t.Errorf("before the copies: mirrored %d streamed %d completed %d, want 1 1 0", s.Mirrored, s.Streamed, s.Completed)
			}
			clientDone.open()

			if got := candidate.next(t, "candidate"); got != want {
				t.Errorf("candidate got %s, want %s", got, want)
			}
			if got := secondary.next(t, "secondary"); got != want {
				t.Errorf("secondary got %s, want %s", got, want)
			}
			x := obs.next(t)
			if !bytes.Equal(x.Request.Body, body[:DefaultMaxBodyBytes]) {
				t.Errorf("exchange request body %d bytes, want the first %d", len(x.Request.Body), DefaultMaxBodyBytes)
			}
			if x.Candidate.Error != "" || string(x.Candidate.Body) != want {
				t.Errorf("exchange candidate %q error %q, want %q", x.Candidate.Body, x.Candidate.Error, want)
			}
			if x.Primary.Error != "" || string(x.Primary.Body) != want {
				t.Errorf("exchange primary %q error %q, want %q", x.Primary.Body, x.Primary.Error, want)
			}
			testio.Eventually(t, "the spool to be released", func() bool { return f.spools.Load() == 0 })
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("spool directory holds %d files after the copy, want none", len(entries))
			}
		})
	}
}

// TestStreamSpoolsBusy checks MaxSpooledBodies: while the one spool is
// held by a copy in flight, the next large body goes to the primary whole,
// is not mirrored, and is counted as "stream".
func TestStreamSpoolsBusy(t *testing.T) {
	t.Parallel()
	primary := newBackend(t, nil)
	g := newGate()
	t.Cleanup(g.open)
	arrived := make(chan struct{}, 2)
	candidate := newBackend(t, gated(g, arrived))
	obs := newCollector()
	f := startProxy(t, Config{
		Primary: primary.URL, Candidate: candidate.URL, Observer: obs,
		MaxBodyBytes: 1 << 10, MaxSpooledBodies: 1,
		Routes: []Route{{Path: "/upload", Unsafe: true}},
	})
	first, second := randomBody(10<<10), randomBody(20<<10)
	f.do(t, http.MethodPost, "/upload", bytes.NewReader(first), nil)
	waitFor(t, arrived, "the first copy to reach the candidate") // its spool is held until it ends
	resp, _ := f.do(t, http.MethodPost, "/upload", bytes.NewReader(second), nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("second client got %d, want 200", resp.StatusCode)
	}
	for i, want := range [][]byte{first, second} {
		if got := primary.next(t).Body; !bytes.Equal(got, want) {
			t.Errorf("primary request %d: %d bytes, want all %d", i+1, len(got), len(want))
		}
	}
	if s := f.Stats(); s.Mirrored != 1 || s.Skipped["stream"] != 1 {
		t.Errorf("mirrored %d, skipped as stream %d; want 1 1", s.Mirrored, s.Skipped["stream"])
	}
	g.open()
	if x := obs.next(t); x.Candidate.Error != "" {
		t.Errorf("first copy: %s", x.Candidate.Error)
	}
	testio.Eventually(t, "the spool to be released", func() bool { return f.spools.Load() == 0 })
}

// TestStreamPrimaryStopsReading checks that when the primary answers
// without reading the body (and drops the connection), the spool is given
// up and counted as "stream", and nothing is mirrored: the copies would
// carry a body the primary never got.
func TestStreamPrimaryStopsReading(t *testing.T) {
	t.Parallel()
	primary := rawServer(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	})
	candidate := newBackend(t, nil)
	f := startProxy(t, Config{
		Primary: primary, Candidate: candidate.URL,
		MaxBodyBytes: 1 << 10,
		Routes:       []Route{{Path: "/upload", Unsafe: true}},
	})
	// Far more than loopback socket buffers hold, so the primary's
	// transport cannot have written it all before the connection drops.
	body := bytes.Repeat([]byte("x"), 32<<20)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/upload", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := f.client.Do(req); err == nil { // the proxy may drop the unread upload too
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("client got 200, want the primary's 413 or a 502")
		}
	}
	testio.Eventually(t, "the spool to be given up", func() bool { return f.Stats().Skipped["stream"] == 1 })
	testio.Eventually(t, "the spool to be released", func() bool { return f.spools.Load() == 0 })
	if s := f.Stats(); s.Mirrored != 0 || s.Skipped["body_error"] != 0 || s.Skipped["body_size"] != 0 {
		t.Errorf("mirrored %d, body_error %d, body_size %d; want 0 0 0", s.Mirrored, s.Skipped["body_error"], s.Skipped["body_size"])
	}
}

// TestStreamClientBodyCut checks that a large body the client cuts short is
// counted as body_error, not mirrored, and its spool released.
func TestStreamClientBodyCut(t *testing.T) {
	t.Parallel()
	primary, candidate := newBackend(t, nil), newBackend(t, nil)
	f := startProxy(t, Config{
		Primary: primary.URL, Candidate: candidate.URL, MaxBodyBytes: 1 << 10,
		Routes: []Route{{Path: "/upload", Unsafe: true}},
	})
	c, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 1<<20)
	_, _ = c.Write(bytes.Repeat([]byte("y"), 200<<10)) // the rest never comes
	_ = c.(*net.TCPConn).CloseWrite()
	_, _ = http.ReadResponse(bufio.NewReader(c), nil)
	testio.Eventually(t, "the cut body to be counted", func() bool { return f.Stats().Skipped["body_error"] == 1 })
	testio.Eventually(t, "the spool to be released", func() bool { return f.spools.Load() == 0 })
	if s := f.Stats(); s.Mirrored != 0 || s.Skipped["stream"] != 0 {
		t.Errorf("mirrored %d, stream %d; want 0 0", s.Mirrored, s.Skipped["stream"])
	}
}

// TestStreamDefaults checks how MaxStreamBodyBytes's zero value resolves:
// 64 MiB, or off when MaxBodyBytes leaves nothing between the two.
func TestStreamDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body, stream, want int64
	}{
		{0, 0, DefaultMaxStreamBodyBytes},
		{1 << 10, 0, DefaultMaxStreamBodyBytes},
		{64 << 20, 0, -1},
		{128 << 20, 0, -1},
		{0, -1, -1},
		{0, 2 << 20, 2 << 20},
	}
	for _, tc := range tests {
		c := Config{MaxBodyBytes: tc.body, MaxStreamBodyBytes: tc.stream}.WithDefaults()
		if c.MaxStreamBodyBytes != tc.want {
			t.Errorf("max_body_bytes %d, max_stream_body_bytes %d: resolved to %d, want %d", tc.body, tc.stream, c.MaxStreamBodyBytes, tc.want)
		}
	}
}

// BenchmarkUpload measures an 8 MiB PUT through the proxy with streaming
// off (forwarded to the primary only) and on (also spooled and copied to
// the candidate), so the cost of the spool on the client's path can be
// read from one run.
//
//	go test -run '^$' -bench BenchmarkUpload -benchtime 20x ./mirror/
func BenchmarkUpload(b *testing.B) {
	drain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	})
	primary, candidate := httptest.NewServer(drain), httptest.NewServer(drain)
	defer primary.Close()
	defer candidate.Close()
	body := randomBody(8 << 20)
	for _, bc := range []struct {
		name   string
		stream int64
	}{{"streaming-off", -1}, {"streamed", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := New(Config{
				Primary: primary.URL, Candidate: candidate.URL, Logger: discardLogger,
				MaxStreamBodyBytes: bc.stream, CandidateTimeout: time.Minute,
				Routes: []Route{{Unsafe: true}},
			})
			if err != nil {
				b.Fatal(err)
			}
			front := httptest.NewServer(p)
			defer p.Close()
			defer front.Close()
			client := front.Client()
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPut, front.URL+"/upload", bytes.NewReader(body))
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			b.StopTimer()
			if s := p.Stats(); bc.stream == 0 && s.Streamed+s.Dropped+s.Skipped["stream"] == 0 {
				b.Errorf("nothing streamed: %+v", s)
			}
		})
	}
}
