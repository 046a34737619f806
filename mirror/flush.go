package mirror

import (
	"net/http"
	"strconv"
	"sync"
)

// The flush policy for the primary's answer. ReverseProxy runs with
// FlushInterval 0, which flushes at once by itself what it recognises as a
// stream (text/event-stream, or no Content-Length: chunked answers, gRPC,
// HTTP/2 answers of unknown length). flushWriter adds the rest: an answer
// with a Content-Length is flushed after every write that leaves it
// incomplete, so a body that arrives slowly reaches the client as it
// arrives (as with FlushInterval -1), while the write that completes it is
// not flushed: the server sends it with the headers in one write when the
// handler returns. FlushInterval -1 instead started a timer goroutine per
// request that flushed the headers alone, and flushed again after the
// body: two writes to the client and a wake-up for a small answer.
//
// Without a Content-Length every write is flushed as well, so the policy
// never holds back what FlushInterval -1 would have sent.

// lengthUnread marks a flushWriter that has not looked at Content-Length
// yet; lengthUnknown one whose answer has none.
const (
	lengthUnread  = -2
	lengthUnknown = -1
)

// flushWriter is the ResponseWriter ReverseProxy writes the primary's
// answer to (see the policy above). Its zero value is not ready: get it
// from getFlushWriter, and give it back with putFlushWriter once the
// ReverseProxy has returned.
type flushWriter struct {
	http.ResponseWriter
	rc   http.ResponseController
	left int64 // bytes of the Content-Length still to come; lengthUnread, lengthUnknown
}

var flushWriters = sync.Pool{New: func() any { return new(flushWriter) }}

// getFlushWriter returns a flushWriter over w, from a pool, so that the
// path of a request that is not mirrored allocates nothing more.
func getFlushWriter(w http.ResponseWriter) *flushWriter {
	f := flushWriters.Get().(*flushWriter)
	f.ResponseWriter, f.rc, f.left = w, *http.NewResponseController(w), lengthUnread
	return f
}

// putFlushWriter returns f to the pool; nothing may use it afterwards.
func putFlushWriter(f *flushWriter) {
	*f = flushWriter{}
	flushWriters.Put(f)
}

// Write writes p and flushes it unless it completes an answer of known
// length.
func (f *flushWriter) Write(p []byte) (int, error) {
	n, err := f.ResponseWriter.Write(p)
	if f.left == lengthUnread {
		f.left = lengthUnknown
		if h := f.Header().Get("Content-Length"); h != "" {
			if v, err := strconv.ParseInt(h, 10, 64); err == nil && v >= 0 {
				f.left = v
			}
		}
	}
	if f.left >= 0 {
		f.left -= int64(n)
		if f.left <= 0 {
			return n, err // complete: sent when the handler returns
		}
	}
	if err == nil {
		f.flush()
	}
	return n, err
}

// flush flushes what was written to the client. Like ReverseProxy's own
// flushing, it ignores a writer that cannot flush.
func (f *flushWriter) flush() {
	switch w := f.ResponseWriter.(type) {
	case http.Flusher: // the server's writers, HTTP/1.1 and HTTP/2
		w.Flush()
	case interface{ Unwrap() http.ResponseWriter }:
		_ = f.rc.Flush() // a wrapper: ResponseController finds its Flush
	}
	// Otherwise w cannot flush; asking ResponseController would only
	// allocate its ErrNotSupported.
}

// Unwrap gives http.ResponseController (which ReverseProxy uses to flush,
// hijack for upgrades, and set deadlines) the server's ResponseWriter.
func (f *flushWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }
