package mirror

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/understudy-dev/understudy/wire"
)

// TestStreamsStayUnbuffered proves the flush policy (flush.go) holds back
// no part of a streaming answer: the primary sends its second part only
// after the client has read the first, for event streams, chunked answers,
// answers with a Content-Length sent slowly and a gRPC server stream, over
// HTTP/1.1 and HTTP/2 (h2c client and primary), mirrored or not. A proxy
// that buffered any of them would leave the client waiting for a first part
// that the primary holds back until the client has it.
func TestStreamsStayUnbuffered(t *testing.T) {
	t.Parallel()
	const first, second = "data: first\n\n", "data: second\n\n"
	type stream struct {
		name        string
		contentType string
		length      bool // the primary sends a Content-Length
		trailer     bool // gRPC's status in trailers
		h2Only      bool
	}
	streams := []stream{
		{name: "event stream", contentType: "text/event-stream"},
		{name: "event stream with a length", contentType: "text/event-stream", length: true},
		{name: "chunked", contentType: "application/json"},
		{name: "with a length", contentType: "application/octet-stream", length: true},
		{name: "grpc server stream", contentType: "application/grpc", trailer: true, h2Only: true},
	}
	for _, st := range streams {
		for _, h2 := range []bool{false, true} {
			if st.h2Only && !h2 {
				continue
			}
			for _, mirrored := range []bool{true, false} {
				name := st.name + "/h1"
				if h2 {
					name = st.name + "/h2"
				}
				if !mirrored {
					name += "/not mirrored"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					clientHasFirst := newGate()
					t.Cleanup(clientHasFirst.open)
					handler := func(w http.ResponseWriter, r *http.Request) {
						h := w.Header()
						h.Set("Content-Type", st.contentType)
						if st.length {
							h.Set("Content-Length", strconv.Itoa(len(first+second)))
						}
						if st.trailer {
							h.Set("Trailer", "Grpc-Status")
						}
						_, _ = io.WriteString(w, first)
						w.(http.Flusher).Flush()
						select {
						case <-clientHasFirst.ch:
						case <-r.Context().Done():
							return
						}
						_, _ = io.WriteString(w, second)
						if st.trailer {
							h.Set("Grpc-Status", "0")
						}
					}
					start := asHTTP1.start(t, nil, false)
					cfg := Config{Candidate: newBackend(t, nil).URL, Observer: newCollector()}
					if h2 {
						start = asH2C.start(t, nil, false)
						cfg = withProtocol(cfg, wire.H2C)
					}
					cfg.Primary = newBackendWith(t, handler, start).URL
					if !mirrored {
						cfg.Routes = []Route{{Disabled: true}}
					}
					var adjust func(*http.Server)
					tr := &http.Transport{}
					if h2 {
						adjust = withH2C(nil)
						tr.Protocols = &http.Protocols{}
						tr.Protocols.SetUnencryptedHTTP2(true)
					}
					defer tr.CloseIdleConnections()
					p, addr := shadowFront(t, cfg, adjust)

					ctx, cancel := context.WithTimeout(context.Background(), wait) // a buffering proxy fails, not hangs
					defer cancel()
					req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/stream", nil)
					if err != nil {
						t.Fatal(err)
					}
					res, err := tr.RoundTrip(req)
					if err != nil {
						t.Fatal(err)
					}
					defer res.Body.Close()
					br := bufio.NewReader(res.Body)
					got := make([]byte, len(first))
					if _, err := io.ReadFull(br, got); err != nil || string(got) != first {
						t.Fatalf("first part: %q, %v", got, err)
					}
					clientHasFirst.open()
					rest, err := io.ReadAll(br)
					if err != nil || string(rest) != second {
						t.Fatalf("second part: %q, %v", rest, err)
					}
					if st.trailer && res.Trailer.Get("Grpc-Status") != "0" {
						t.Errorf("trailer Grpc-Status %q, want 0", res.Trailer.Get("Grpc-Status"))
					}
					if mirrored {
						if x := cfg.Observer.(collector).next(t); string(x.Primary.Body) != first+second {
							t.Errorf("exchange primary body %q, want the whole stream", x.Primary.Body)
						}
						if s := p.Stats(); s.Mirrored != 1 {
							t.Errorf("mirrored %d, want 1", s.Mirrored)
						}
					}
				})
			}
		}
	}
}

// flushCounter is middleware in front of a proxy: it counts the flushes
// the proxy asks of the server's ResponseWriter.
type flushCounter struct {
	h       http.Handler
	flushes atomic.Int64
}

func (c *flushCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.h.ServeHTTP(&countingWriter{ResponseWriter: w, c: c}, r)
}

type countingWriter struct {
	http.ResponseWriter
	c *flushCounter
}

func (w *countingWriter) Flush() {
	w.c.flushes.Add(1)
	w.ResponseWriter.(http.Flusher).Flush()
}

// TestCompleteAnswerNotFlushed checks the other half of the policy: an
// answer whose Content-Length the primary's first write completes is not
// flushed by the proxy (the server sends it with its headers in one write
// when the handler returns), mirrored or not, while an answer of the same
// size without a length is flushed as it comes. A ReverseProxy with
// FlushInterval -1 in front of the same primary is the contrast: it flushes
// every answer, which is what the counting detects.
func TestCompleteAnswerNotFlushed(t *testing.T) {
	t.Parallel()
	const body = `{"id":42,"status":"shipped"}`
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			_, _ = io.WriteString(w, body)
			w.(http.Flusher).Flush() // no Content-Length: chunked
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = io.WriteString(w, body)
	})
	u, err := url.Parse(primary.URL)
	if err != nil {
		t.Fatal(err)
	}
	flushAll := &httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		FlushInterval: -1,
		ErrorLog:      discardLogLogger,
	}
	candidate := newBackend(t, nil)
	tests := []struct {
		name        string
		h           http.Handler
		path        string
		wantFlushed bool
	}{
		{"mirrored", newTestProxy(t, Config{Primary: primary.URL, Candidate: candidate.URL}), "/small", false},
		{"not mirrored", newTestProxy(t, Config{Primary: primary.URL, Candidate: candidate.URL, Routes: []Route{{Disabled: true}}}), "/small", false},
		{"without a length", newTestProxy(t, Config{Primary: primary.URL, Candidate: candidate.URL}), "/chunked", true},
		{"ReverseProxy with FlushInterval -1", flushAll, "/small", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &flushCounter{h: tc.h}
			addr := serveFront(t, c, nil)
			const n = 5
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			for range n {
				ctx, cancel := context.WithTimeout(context.Background(), wait)
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+tc.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				res, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(res.Body)
				res.Body.Close()
				cancel()
				if err != nil || string(got) != body {
					t.Fatalf("answer %q, %v; want %q", got, err, body)
				}
			}
			switch f := c.flushes.Load(); {
			case tc.wantFlushed && f < n:
				t.Errorf("%d flushes for %d answers, want one at least per answer", f, n)
			case !tc.wantFlushed && f != 0:
				t.Errorf("%d flushes for %d complete answers, want none", f, n)
			}
		})
	}
}
