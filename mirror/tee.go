package mirror

import (
	"io"
	"time"
)

// tee passes the primary's answer through to the client unchanged while
// keeping its first max bytes for comparing. Every byte read is passed on;
// only the kept copy is bounded. It lives inside the job (no allocation of
// its own) and is used by one goroutine, the handler's, in which
// ReverseProxy copies the answer; the worker reads it only after the job's
// primary side is done.
type tee struct {
	src  io.ReadCloser
	kept []byte
	max  int64
	size int64     // bytes read so far
	eof  bool      // the body was read to its end
	err  error     // the first read error other than io.EOF
	end  time.Time // when the end of the body was read
}

// Read reads from the primary's body, keeping a bounded copy.
func (t *tee) Read(p []byte) (int, error) {
	n, err := t.src.Read(p)
	if n > 0 {
		t.size += int64(n)
		t.kept = appendBounded(t.kept, p[:n], t.max)
	}
	if err != nil && !t.eof && t.err == nil {
		if err == io.EOF {
			// Trailers are filled in by the transport before it returns
			// io.EOF, so they are complete from here on.
			t.eof, t.end = true, time.Now()
		} else {
			t.err = err
		}
	}
	return n, err
}

// Close closes the primary's body.
func (t *tee) Close() error { return t.src.Close() }

// appendBounded appends as much of p to dst as fits under limit bytes. It
// grows dst itself, by doubling but never past limit, because append's own
// growth could allocate well beyond the limit.
func appendBounded(dst, p []byte, limit int64) []byte {
	room := limit - int64(len(dst))
	if room <= 0 {
		return dst
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	if len(dst)+len(p) > cap(dst) {
		dst = grow(dst, len(p), limit)
	}
	return append(dst, p...)
}

// grow returns b with room for at least n more bytes: double the capacity
// (at least 512 bytes), but never more than limit in all.
func grow(b []byte, n int, limit int64) []byte {
	c := min(int64(max(2*cap(b), len(b)+n, 512)), limit)
	grown := make([]byte, len(b), c)
	copy(grown, b)
	return grown
}

// readBounded reads r until its end or until it has limit bytes, and no
// further: a 100 MiB answer costs limit bytes of memory and the reading of
// limit bytes, not 100 MiB. hint is the expected length (-1 when
// unknown), used to allocate once. It returns what it read, whether the
// body goes on past it (more: the caller closes r unread, which closes its
// connection rather than drain it), and the first error other than
// io.EOF.
func readBounded(r io.Reader, limit, hint int64) (kept []byte, more bool, err error) {
	if hint > 0 {
		kept = make([]byte, 0, min(hint, limit))
	}
	for int64(len(kept)) < limit {
		if len(kept) == cap(kept) {
			kept = grow(kept, 1, limit)
		}
		n, err := r.Read(kept[len(kept):cap(kept)])
		kept = kept[:len(kept)+n]
		if err == io.EOF {
			return kept, false, nil
		}
		if err != nil {
			return kept, false, err
		}
	}
	if hint > limit {
		return kept, true, nil
	}
	// At the limit: one byte more says there is more.
	var probe [1]byte
	for {
		n, err := r.Read(probe[:])
		switch {
		case n > 0:
			return kept, true, nil
		case err == io.EOF:
			return kept, false, nil
		case err != nil:
			return kept, false, err
		}
	}
}
