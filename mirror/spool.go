package mirror

import (
	"context"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// Large request bodies. A body over MaxBodyBytes (within
// MaxStreamBodyBytes) is not held in memory: the primary's transport reads
// it from the client as it arrives, through a spool that writes every byte
// read to an unlinked temp file. When the body has been read to its end the
// copy is queued and sent to the candidate and secondary from that file.
//
// Why a spool and not a pipe to the candidate: a pipe would start the copy
// with the primary's request, but then a slow candidate either holds the
// client's upload back (back-pressure: rule 1 broken) or, dropping when
// the pipe is full, loses most large copies exactly when they matter. The
// spool costs the client's path one local file write per chunk (a copy
// into the page cache; no upstream is waited for), and starts the copy
// later: for these requests the candidate is asked once the primary has
// read the whole body, so its latency is not measured from the same start.
// Memory stays bounded: a spool has no buffer of its own, and at most
// MaxSpooledBodies exist at once, each at most MaxStreamBodyBytes on disk.
//
// A spool ends in exactly one of these ways, each counted once: queued
// (Mirrored, Streamed), dropped (queue full), skipped for shutdown,
// skipped for body_size (it grew past MaxStreamBodyBytes), body_error (the
// client's body failed), or stream (the spool file failed, or the primary
// stopped reading the body before its end: it answered early or failed).

// Spool states; a spool leaves spoolReading once, by compare-and-swap.
const (
	spoolReading int32 = iota
	spoolComplete
	spoolDiscarded
)

// spool is the body the primary reads when the request body is streamed.
// Read and Close are called by the primary's transport (often from its own
// goroutine); discard may also be called by the handler; the worker uses
// the file only after the spool is complete.
type spool struct {
	p     *Proxy
	j     *job
	src   io.ReadCloser // the client's body (after any prefix already read)
	f     *os.File
	path  string // removed on release when the file could not be unlinked at once
	limit int64
	// size is written only by the reading goroutine while reading, and read
	// by the worker after the state became spoolComplete, which orders them.
	size     int64
	state    atomic.Int32
	released atomic.Bool
}

// streamable reports whether a request whose body is over MaxBodyBytes may
// be streamed: streaming is on, and the length, when known, fits.
func (p *Proxy) streamable(r *http.Request) bool {
	return p.cfg.MaxStreamBodyBytes > 0 && r.ContentLength <= p.cfg.MaxStreamBodyBytes
}

// serveStreamed forwards r, whose body is too large to hold in memory, to
// the primary through a spool, and queues its copy once the body has been
// read (see spool). fwd is what the primary is to read instead of r.Body
// (nil to keep r.Body).
func (p *Proxy) serveStreamed(w http.ResponseWriter, r *http.Request, rt *route, fwd io.ReadCloser) {
	src := fwd
	if src == nil {
		src = r.Body
	}
	s, ok := p.newSpool(src)
	if !ok {
		p.counters.skipped[skipStream].Add(1)
		p.plain.ServeHTTP(w, withBody(r, r.Context(), fwd, r.ContentLength))
		return
	}
	j := p.newJob(r, rt, nil, 0, time.Now())
	j.spool, s.j = s, j
	ctx := context.WithValue(r.Context(), jobKey{}, j)
	defer p.finishPrimary(j, r.Context()) // discards the spool if the primary did not read it whole
	j.start = time.Now()
	p.teed.ServeHTTP(w, withBody(r, ctx, s, r.ContentLength))
}

// newSpool takes one of the MaxSpooledBodies slots and creates the spool
// file, or reports that it cannot.
func (p *Proxy) newSpool(src io.ReadCloser) (*spool, bool) {
	if p.spools.Add(1) > int64(p.cfg.MaxSpooledBodies) {
		p.spools.Add(-1)
		return nil, false
	}
	f, err := os.CreateTemp(p.spoolDir, "understudy-body-*") // mode 0600
	if err != nil {
		p.spools.Add(-1)
		p.warnSpool("create spool file", err)
		return nil, false
	}
	s := &spool{p: p, src: src, f: f, limit: p.cfg.MaxStreamBodyBytes}
	// Unlinked at once, the file disappears with its last descriptor, even
	// if the process dies. Where an open file cannot be removed, remove it
	// on release.
	if os.Remove(f.Name()) != nil {
		s.path = f.Name()
	}
	return s, true
}

// warnSpool logs, at most once a second, that a spool file failed.
func (p *Proxy) warnSpool(what string, err error) {
	if p.spoolLog.allow(time.Second) {
		p.log.Warn("large request body not mirrored: "+what, "dir", p.spoolDir, "err", err)
	}
}

// Read reads the client's body for the primary and writes what it read to
// the spool file. Whatever happens to the spool, the primary gets every
// byte and every error the client's body gives.
func (s *spool) Read(b []byte) (int, error) {
	n, err := s.src.Read(b)
	if n > 0 && s.state.Load() == spoolReading {
		if s.size+int64(n) > s.limit {
			s.discard(skipBodySize)
		} else if _, werr := s.f.Write(b[:n]); werr != nil {
			if s.discard(skipStream) { // not when the handler had released it already
				s.p.warnSpool("write spool file", werr)
			}
		} else {
			s.size += int64(n)
		}
	}
	switch {
	case err == io.EOF:
		s.complete()
	case err != nil:
		s.discard(skipBodyError)
	}
	return n, err
}

// Close closes the client's body. The transport closes it after reading
// it to its end; closed before, the primary did not take the whole body
// (it answered early, or failed), so the copy cannot be sent. Discarding
// first means a read the close makes fail is not taken for the client's
// body failing.
func (s *spool) Close() error {
	s.discard(skipStream)
	return s.src.Close()
}

// complete queues the copy of a body read to its end.
func (s *spool) complete() {
	if !s.state.CompareAndSwap(spoolReading, spoolComplete) {
		return
	}
	// MaxQueueWait counts from here: the copy could not be sent before.
	s.j.queued = time.Now()
	if !s.p.enqueue(s.j) { // counted there as dropped or shutdown
		s.release()
		return
	}
	s.p.counters.streamed.Add(1)
}

// discard gives the spool up, counting why, unless it is already complete
// or discarded. It reports whether it did.
func (s *spool) discard(reason skipReason) bool {
	if !s.state.CompareAndSwap(spoolReading, spoolDiscarded) {
		return false
	}
	s.p.counters.skipped[reason].Add(1)
	s.release()
	return true
}

// release closes (and if need be removes) the spool file and frees its
// slot. It is safe to call more than once; a transport still reading the
// file then gets an error, which only ends that copy's request.
func (s *spool) release() {
	if !s.released.CompareAndSwap(false, true) {
		return
	}
	_ = s.f.Close()
	if s.path != "" {
		_ = os.Remove(s.path)
	}
	s.p.spools.Add(-1)
}

// body returns a reader of the whole spooled body, for one copy's request.
// Call only once the spool is complete.
func (s *spool) body() io.Reader { return io.NewSectionReader(s.f, 0, s.size) }

// prefix returns the first max bytes of the spooled body, the part an
// exchange records. Call only once the spool is complete.
func (s *spool) prefix(max int64) []byte {
	b := make([]byte, min(s.size, max))
	n, _ := s.f.ReadAt(b, 0)
	return b[:n]
}
