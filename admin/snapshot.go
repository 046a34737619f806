package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// streamErrorTrailer is the HTTP trailer in which the server says why it
// ended a snapshot stream early (a snapshot too large or not encodable).
// A stream that ends without it ended because the server shut down.
const streamErrorTrailer = "X-Admin-Stream-Error"

// streamIntervalHeader tells the client how often snapshots come, so that it
// does not mistake a slow stream for a dead one.
const streamIntervalHeader = "X-Admin-Stream-Interval"

// ndjson is the media type of a snapshot stream: one JSON value per line.
const ndjson = "application/x-ndjson"

// minStreamWriteTimeout bounds one write to a stream, so that a client that
// stops reading cannot hold a handler forever.
const minStreamWriteTimeout = 10 * time.Second

func (s *Server) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	if !s.snapshotRequestOK(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	if v := r.URL.Query().Get("stream"); v != "" {
		stream, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "stream="+quote(v)+": want 1 or 0")
			return
		}
		if stream {
			if r.Method != http.MethodGet {
				w.Header().Set("Allow", http.MethodGet)
				writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: a stream takes GET")
				return
			}
			s.stream(w, r)
			return
		}
	}
	var buf bytes.Buffer
	if err := s.encodeSnapshot(&buf); err != nil {
		s.log.Warn("admin snapshot refused", "remote", r.RemoteAddr, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func (s *Server) serveStream(w http.ResponseWriter, r *http.Request) {
	if s.snapshotRequestOK(w, r, http.MethodGet) {
		s.stream(w, r)
	}
}

// snapshotRequestOK answers the request itself, and returns false, when it
// uses a method other than methods or snapshots are not configured.
func (s *Server) snapshotRequestOK(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	ok := false
	for _, m := range methods {
		ok = ok || r.Method == m
	}
	if !ok {
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: "+r.URL.Path+" takes "+strings.Join(methods, " or "))
		return false
	}
	if s.cfg.Snapshot == nil {
		writeError(w, http.StatusNotFound, "snapshots are not enabled on this instance")
		return false
	}
	return true
}

// stream writes one snapshot per StreamInterval as a line of JSON, flushed,
// until the client goes away, the server shuts down, or a snapshot cannot
// be sent; in that last case the reason goes in the streamErrorTrailer.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		writeError(w, http.StatusServiceUnavailable,
			fmt.Sprintf("too many snapshot streams open (%d): close one or try again later", s.cfg.MaxStreams))
		return
	}

	var buf bytes.Buffer
	if err := s.encodeSnapshot(&buf); err != nil {
		s.log.Warn("admin snapshot stream refused", "remote", r.RemoteAddr, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", ndjson)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Accel-Buffering", "no") // tell nginx-like proxies not to hold lines back
	h.Set(streamIntervalHeader, s.cfg.StreamInterval.String())
	w.WriteHeader(http.StatusOK)

	rc := http.NewResponseController(w)
	// The connection may serve another request after this one: do not leave
	// it a write deadline that would fire then.
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	writeTimeout := max(minStreamWriteTimeout, 4*s.cfg.StreamInterval)
	ticker := time.NewTicker(s.cfg.StreamInterval)
	defer ticker.Stop()
	for sent := 0; ; sent++ {
		if err := writeLine(w, rc, buf.Bytes(), writeTimeout); err != nil {
			s.log.Debug("admin snapshot stream: client gone", "remote", r.RemoteAddr, "sent", sent, "err", err)
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.stopping:
			return
		case <-ticker.C:
		}
		if err := s.encodeSnapshot(&buf); err != nil {
			s.log.Warn("admin snapshot stream ended", "remote", r.RemoteAddr, "sent", sent+1, "err", err)
			h.Set(http.TrailerPrefix+streamErrorTrailer, headerSafe(err.Error()))
			return
		}
	}
}

// writeLine writes one encoded snapshot (which ends in a newline) and
// flushes it, within timeout.
func writeLine(w http.ResponseWriter, rc *http.ResponseController, line []byte, timeout time.Duration) error {
	if err := rc.SetWriteDeadline(time.Now().Add(timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := w.Write(line); err != nil {
		return err
	}
	return rc.Flush()
}

// encodeSnapshot puts Snapshot() in buf as one line of JSON, or says why it
// cannot: not encodable, or larger than MaxSnapshotBytes.
func (s *Server) encodeSnapshot(buf *bytes.Buffer) error {
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s.cfg.Snapshot()); err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	if n := buf.Len() - 1; n > s.cfg.MaxSnapshotBytes { // Encode added a newline
		buf.Reset()
		return fmt.Errorf("snapshot refused: it encodes to %d bytes, over the limit of %d (MaxSnapshotBytes)", n, s.cfg.MaxSnapshotBytes)
	}
	return nil
}

// headerSafe makes msg fit in a header value: printable ASCII, bounded.
func headerSafe(msg string) string {
	msg = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20:
			return ' '
		case r > 0x7e:
			return '?'
		}
		return r
	}, msg)
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	return msg
}
