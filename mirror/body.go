package mirror

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Request bodies. A mirrored request's body is read whole before the
// primary is asked, so that the primary and every copy get the same bytes.
// Three limits keep that from costing the proxy without bound, whatever
// clients send:
//
//   - MaxBodyBytes per body: a larger one is streamed through a spool file
//     (spool.go) or not mirrored.
//   - MaxBufferedBytes for all bodies held at once. A buffer starts small
//     and doubles as bytes arrive, up to the Content-Length when there is
//     one, never allocated from the Content-Length ahead of the bytes; each
//     growth is taken from the budget first. A body that does not fit is
//     forwarded as it is (what was read, then the rest) and not mirrored.
//   - BodyReadTimeout between two reads of any request's body, mirrored or
//     not (watchedBody): a client that stops sending is cut off.

// firstBodyChunk is the first buffer a body is read into; it doubles from
// there as bytes arrive.
const firstBodyChunk = 4 << 10

// bodyBudget counts the bytes of request body buffers held for copies,
// against MaxBufferedBytes.
type bodyBudget struct {
	limit int64
	used  atomic.Int64
}

// take reserves n bytes, or reports that they would take the sum past
// the limit.
func (b *bodyBudget) take(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// give returns n bytes taken before.
func (b *bodyBudget) give(n int64) {
	if n != 0 {
		b.used.Add(-n)
	}
}

// held returns the bytes taken now.
func (b *bodyBudget) held() int64 { return b.used.Load() }

// readBody buffers r's body so it can be sent three times. It returns the
// body (nil when there is none), the budget bytes its buffer holds (the
// caller gives them back once the primary and the copies are done with
// it, also when !ok), and fwd, what the primary is to read instead of
// r.Body (nil to keep r.Body). When the body cannot be held (too large: it
// may still be streamed, see serveStreamed; over the budget; or
// unreadable) it returns why, and fwd replays what was read followed by
// the rest, so the primary still gets the request whole.
func (p *Proxy) readBody(r *http.Request) (body []byte, held int64, fwd io.ReadCloser, reason skipReason, ok bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, 0, nil, 0, true // nothing to read, nothing to allocate
	}
	limit := p.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, 0, nil, skipBodySize, false // known too large: forward untouched
	}
	want := limit // the most the buffer may grow to
	if r.ContentLength >= 0 {
		want = r.ContentLength
	}
	var err error
	for err == nil && int64(len(body)) < want {
		if len(body) == cap(body) {
			c := min(max(2*int64(cap(body)), firstBodyChunk), want)
			if !p.bodies.take(c - held) {
				return nil, held, replay(r.Body, nil, body), skipBodyBudget, false
			}
			held = c
			grown := make([]byte, len(body), c)
			copy(grown, body)
			body = grown
		}
		var n int
		n, err = r.Body.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
	}
	if err == nil && r.ContentLength < 0 {
		// The buffer is full at the limit: one byte more says the body is
		// too large.
		var probe [1]byte
		var n int
		for n == 0 && err == nil {
			n, err = r.Body.Read(probe[:])
		}
		if n > 0 {
			return nil, held, replay(r.Body, err, body, probe[:]), skipBodySize, false
		}
	}
	switch {
	case err != nil && err != io.EOF:
		return nil, held, replay(r.Body, err, body), skipBodyError, false
	case len(body) == 0:
		return nil, held, http.NoBody, 0, true
	}
	return body, held, io.NopCloser(bytes.NewReader(body)), 0, true
}

// replayBody yields a prefix the proxy has read and then the rest of the
// client's body, which it closes.
type replayBody struct {
	io.Reader
	rest io.ReadCloser
}

// Close closes the client's body.
func (b *replayBody) Close() error { return b.rest.Close() }

// replay returns a body that yields prefix and then the rest of rest, or
// err when err is not nil (the error the client's body gave).
func replay(rest io.ReadCloser, err error, prefix ...[]byte) io.ReadCloser {
	rs := make([]io.Reader, 0, len(prefix)+1)
	for _, p := range prefix {
		rs = append(rs, bytes.NewReader(p))
	}
	if err != nil && err != io.EOF {
		rs = append(rs, errReader{err})
	} else if err == nil {
		rs = append(rs, rest)
	}
	return &replayBody{io.MultiReader(rs...), rest}
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// watchedBody is a client's request body read with a deadline per read:
// before each read the connection's read deadline is set BodyReadTimeout
// ahead, so a client that stops sending mid-body gets a timeout instead of
// holding its goroutine and buffer. Reads may come from the handler
// (readBody) or from the primary's transport in its own goroutine, even
// after the handler returned; once finish says the handler is done, the
// connection belongs to the server again and no read touches its deadline.
type watchedBody struct {
	src     io.ReadCloser
	rc      http.ResponseController
	timeout time.Duration // <= 0: no deadline

	mu   sync.Mutex
	done bool  // finish was called
	eof  bool  // the body was read to its end
	err  error // the first read error other than io.EOF
}

// watchBody returns r's body (not nil, not http.NoBody) read under
// BodyReadTimeout.
func (p *Proxy) watchBody(w http.ResponseWriter, body io.ReadCloser) *watchedBody {
	return &watchedBody{src: body, rc: *http.NewResponseController(w), timeout: p.cfg.BodyReadTimeout}
}

// Read reads the client's body, waiting at most the timeout for bytes.
func (b *watchedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.timeout > 0 && !b.done && !b.eof {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.timeout)) // ErrNotSupported: read without
	}
	b.mu.Unlock()
	n, err := b.src.Read(p)
	if err == nil {
		return n, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case err == io.EOF:
		if !b.eof && !b.done && b.timeout > 0 {
			// The server now reads the connection in the background to
			// learn if the client goes away; a deadline left here would
			// end that read, and cancel the request, while the primary is
			// still answering.
			_ = b.rc.SetReadDeadline(time.Time{})
		}
		b.eof = true
	case b.err == nil:
		b.err = err
	}
	return n, err
}

// Close closes the client's body.
func (b *watchedBody) Close() error { return b.src.Close() }

// finish marks the handler done. A body not read to its end may still be
// read by the server, which drains a short rest to reuse the connection:
// that read is bounded by the timeout too.
func (b *watchedBody) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = true
	if !b.eof && b.timeout > 0 {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	}
}

// failed returns the error the client's body gave, if any.
func (b *watchedBody) failed() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// bodyKey is the context key under which a request carries its
// watchedBody to errorHandler (which gets ReverseProxy's outbound request,
// whose body is wrapped beyond recognition).
type bodyKey struct{}

// clientBodyError returns the error r's client body gave, if any.
func clientBodyError(r *http.Request) error {
	if b, _ := r.Context().Value(bodyKey{}).(*watchedBody); b != nil {
		return b.failed()
	}
	return nil
}

// stalled reports whether err is a read deadline passing.
func stalled(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
