package capture

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/understudy-dev/understudy/exchange"
)

// Defaults applied by NewWriter to zero WriterOptions fields.
const (
	DefaultMaxFileBytes  = 256 << 20
	DefaultFlushInterval = time.Second
	DefaultPrefix        = "capture"
)

// writeBufferSize is the Writer's in-memory buffer: records reach the
// operating system when it fills, on every FlushInterval, and on Close.
const writeBufferSize = 256 << 10

// WriterOptions configures a Writer.
type WriterOptions struct {
	// Dir is the directory the files are written to; it is created (0700)
	// when missing. Required.
	Dir string
	// Prefix starts every file name; zero means Header.Tool, or "capture"
	// when that is empty too. It must not contain a path separator.
	Prefix string
	// MaxFileBytes starts a new file when the current one would grow past
	// it (a single larger record still gets a file of its own). Zero means
	// DefaultMaxFileBytes (256 MiB).
	MaxFileBytes int64
	// FlushInterval bounds how long a written record may sit in memory
	// before it reaches the operating system, and so what a crash of the
	// process can lose. Zero means DefaultFlushInterval (1s).
	FlushInterval time.Duration
	// Redactor removes secrets from every record before it is encoded.
	// Nil means the zero Redactor: the always-redacted headers and the
	// default field names, replaced by "[REDACTED]". There is no way to
	// write unredacted records.
	Redactor *Redactor
	// Header is written at the start of every file. Version is set by the
	// Writer; Host defaults to os.Hostname and a zero Created to each
	// file's start time.
	Header Header
}

// Validate reports the first option that is out of range.
func (o WriterOptions) Validate() error {
	switch {
	case o.Dir == "":
		return errors.New("capture writer: Dir is empty")
	case strings.ContainsAny(o.Prefix, `/\`) || strings.HasPrefix(o.Prefix, "."):
		return fmt.Errorf("capture writer: Prefix %q must be a plain file name start (no separators, no leading dot)", o.Prefix)
	case o.MaxFileBytes < 0:
		return fmt.Errorf("capture writer: MaxFileBytes %d is negative", o.MaxFileBytes)
	case o.FlushInterval < 0:
		return fmt.Errorf("capture writer: FlushInterval %v is negative", o.FlushInterval)
	}
	if o.Redactor != nil {
		if err := o.Redactor.Validate(); err != nil {
			return fmt.Errorf("capture writer: %w", err)
		}
	}
	return nil
}

// Writer appends redacted records to a series of capture files, rotating
// by size. Each file is written as NAME.usc.partial and renamed to NAME.usc
// once complete. It is safe for concurrent use; records from concurrent
// writers are stored whole, in the order the Writer received them.
type Writer struct {
	opts   WriterOptions
	plan   *redactPlan
	rules  string // the rules plan was compiled from (Redactor.rules)
	id     string
	stop   chan struct{}
	done   chan struct{}
	encode sync.Pool // *encodeState

	mu      sync.Mutex
	f       *os.File
	bw      *bufio.Writer
	partial string // path being written; empty when no file is open
	size    int64  // bytes in the current file, buffered included
	records int    // records in the current file
	seq     int
	files   []string
	err     error // sticky: the first write failure
	closed  bool
	desc    descriptors // see AddDescriptors
}

// encodeState is a reusable encoding buffer, with the arena that holds a
// record's redacted bodies until it is encoded.
type encodeState struct {
	buf   bytes.Buffer // what enc writes to
	enc   *msgpack.Encoder
	raw   []byte // an exchange record's frame (see appendExchangeRecord)
	arena []byte
}

// NewWriter validates opts, creates the directory and starts the first
// file, so that a bad directory is reported at once.
func NewWriter(opts WriterOptions) (*Writer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxFileBytes == 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
		if t := opts.Header.Tool; t != "" && !strings.ContainsAny(t, `/\`) && !strings.HasPrefix(t, ".") {
			opts.Prefix = t
		}
	}
	if opts.Header.Host == "" {
		opts.Header.Host, _ = os.Hostname()
	}
	if opts.Header.Labels != nil {
		labels := make(map[string]string, len(opts.Header.Labels))
		for k, v := range opts.Header.Labels {
			labels[k] = v
		}
		opts.Header.Labels = labels
	}
	opts.Header.Version = versionString(FormatMajor, FormatMinor)
	red := opts.Redactor
	if red == nil {
		red = &Redactor{}
	}
	var idb [4]byte
	_, _ = rand.Read(idb[:])
	w := &Writer{
		opts:  opts,
		plan:  red.compile(),
		rules: red.rules(),
		id:    hex.EncodeToString(idb[:]),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	w.encode.New = func() any {
		s := &encodeState{}
		s.enc = msgpack.NewEncoder(&s.buf)
		s.enc.UseCompactInts(true)
		return s
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create capture directory %q: %w", opts.Dir, err)
	}
	if err := w.openFile(); err != nil {
		return nil, err
	}
	go w.flushLoop()
	return w, nil
}

// WriteExchange redacts a copy of r and appends it; r's exchange is not
// redacted again when r.Sealed was sealed under the Writer's rules (see
// ExchangeRecord.Sealed). r is not modified.
func (w *Writer) WriteExchange(r *ExchangeRecord) error {
	if r == nil {
		return errors.New("write capture: nil exchange record")
	}
	if n := exchangeEntries(r); n > MaxRecordEntries-structEntries {
		return fmt.Errorf("write capture: %w: %d header names and values and diff paths, limit %d",
			ErrRecordTooLarge, n, MaxRecordEntries-structEntries)
	}
	st := w.encode.Get().(*encodeState)
	defer w.putState(st)
	c := *r
	sealed := r.Sealed.sealedFor(w.rules)
	if sealed == nil {
		red := w.plan.call()
		red.exchange(&c.Exchange, &st.arena)
		red.release()
	}
	frame, err := st.exchangeFrame(&c, sealed)
	if err != nil {
		return fmt.Errorf("write capture: encode %s record: %w", KindExchange, err)
	}
	return w.writeFrame(frame, c.Descriptors)
}

// structEntries is room left under MaxRecordEntries for the fields of a
// record's structs, which msgpack writes as map entries too.
const structEntries = 256

// exchangeEntries counts the entries of r that vary in number: header
// names and values, diff and noise paths.
func exchangeEntries(r *ExchangeRecord) int {
	n := len(r.Diffs) + len(r.Noise)
	for _, c := range r.Candidates {
		n += structEntries + len(c.Diffs) + len(c.Noise)
	}
	header := func(h http.Header) {
		for _, vs := range h {
			n += 1 + len(vs)
		}
	}
	x := &r.Exchange
	header(x.Request.Header)
	for _, resp := range []*exchange.Response{&x.Primary, x.Secondary, &x.Candidate} {
		if resp != nil {
			header(resp.Header)
			header(resp.Trailer)
		}
	}
	for i := range x.Outbound {
		c := &x.Outbound[i]
		n += structEntries / 16 // the call's own fields
		header(c.Header)
		header(c.Response.Header)
		header(c.Response.Trailer)
	}
	for i := range x.OtherCandidates {
		n += structEntries
		header(x.OtherCandidates[i].Header)
		header(x.OtherCandidates[i].Trailer)
	}
	return n
}

// WriteSynth redacts a copy of r and appends it. r is not modified.
func (w *Writer) WriteSynth(r *SynthRecord) error {
	if r == nil {
		return errors.New("write capture: nil synth record")
	}
	if n := len(r.Tags) + len(r.Failures); n > MaxRecordEntries-structEntries {
		return fmt.Errorf("write capture: %w: %d tags and failures, limit %d", ErrRecordTooLarge, n, MaxRecordEntries-structEntries)
	}
	c := *r
	w.plan.call().synth(&c)
	st := w.encode.Get().(*encodeState)
	defer w.putState(st)
	frame, err := st.rawFrame(KindSynth, appendSynthRecord(st.rawStart(), &c))
	if err != nil {
		return fmt.Errorf("write capture: encode %s record: %w", KindSynth, err)
	}
	return w.writeFrame(frame, "")
}

// writeFrame appends an encoded frame (encoded outside the lock), after
// the descriptors it refers to (desc, a DescriptorRecord's Hash; "" for
// none) when the file does not hold them yet.
func (w *Writer) writeFrame(frame []byte, desc string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if w.f != nil && w.records > 0 && w.size+int64(len(frame)) > w.opts.MaxFileBytes {
		if err := w.finishFile(); err != nil {
			return w.fail(err)
		}
	}
	if w.f == nil {
		if err := w.openFile(); err != nil {
			return w.fail(err)
		}
	}
	if d := w.descriptorFrame(desc); d != nil {
		if _, err := w.bw.Write(d); err != nil {
			return w.fail(fmt.Errorf("write capture %q: %w", w.partial, err))
		}
		w.size += int64(len(d))
	}
	if _, err := w.bw.Write(frame); err != nil {
		return w.fail(fmt.Errorf("write capture %q: %w", w.partial, err))
	}
	w.size += int64(len(frame))
	w.records++
	return nil
}

func (w *Writer) putState(st *encodeState) {
	if st.buf.Cap() > 1<<20 || cap(st.raw) > 1<<20 || cap(st.arena) > 1<<20 {
		return // let unusually large buffers go
	}
	st.arena = st.arena[:0]
	w.encode.Put(st)
}

// frame encodes v and returns frame header plus payload, backed by st.
func (st *encodeState) frame(kind Kind, v any) ([]byte, error) {
	st.buf.Reset()
	var hdr [frameHeaderLen]byte
	st.buf.Write(hdr[:])
	if err := st.enc.Encode(v); err != nil {
		return nil, err
	}
	b := st.buf.Bytes()
	if len(b)-frameHeaderLen > MaxRecordBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, len(b)-frameHeaderLen, MaxRecordBytes)
	}
	putFrameHeader(b[:frameHeaderLen], kind, b[frameHeaderLen:])
	return b, nil
}

// exchangeFrame encodes r, without reflection, and returns frame header
// plus payload, backed by st.
func (st *encodeState) exchangeFrame(r *ExchangeRecord, sealed []byte) ([]byte, error) {
	return st.rawFrame(KindExchange, appendExchangeRecord(st.rawStart(), r, sealed))
}

// rawStart returns st.raw emptied but for room for a frame header, for a
// record to be appended to and passed to rawFrame.
func (st *encodeState) rawStart() []byte {
	var hdr [frameHeaderLen]byte
	return append(st.raw[:0], hdr[:]...)
}

// rawFrame fills in the frame header of b (from rawStart, a record
// appended) and keeps b's array for the next record.
func (st *encodeState) rawFrame(kind Kind, b []byte) ([]byte, error) {
	st.raw = b
	if len(b)-frameHeaderLen > MaxRecordBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, len(b)-frameHeaderLen, MaxRecordBytes)
	}
	putFrameHeader(b[:frameHeaderLen], kind, b[frameHeaderLen:])
	return b, nil
}

// fail records the first write failure; the Writer refuses further
// records after it, since the file may now end in a torn frame.
func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// openFile starts the next file and writes its preamble and header
// straight to disk, so even a file cut short at once is recognisable.
func (w *Writer) openFile() error {
	w.seq++
	h := w.opts.Header
	now := time.Now().UTC()
	if h.Created.IsZero() {
		h.Created = now
	}
	name := fmt.Sprintf("%s-%s-%s-%04d%s", w.opts.Prefix, now.Format("20060102T150405Z"), w.id, w.seq, FileSuffix)
	partial := filepath.Join(w.opts.Dir, name+PartialSuffix)
	st := w.encode.Get().(*encodeState)
	defer w.putState(st)
	frame, err := st.frame(kindHeader, &h)
	if err != nil {
		return fmt.Errorf("encode capture header: %w", err)
	}
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create capture %q: %w", partial, err)
	}
	head := appendPreamble(make([]byte, 0, preambleLen+len(frame)))
	head = append(head, frame...)
	if _, err := f.Write(head); err != nil {
		f.Close()
		return fmt.Errorf("write capture %q: %w", partial, err)
	}
	w.f, w.partial = f, partial
	w.size, w.records = int64(len(head)), 0
	clear(w.desc.inFile) // a file holds the descriptors its records refer to
	if w.bw == nil {
		w.bw = bufio.NewWriterSize(f, writeBufferSize)
	} else {
		w.bw.Reset(f)
	}
	return nil
}

// finishFile flushes, syncs and closes the current file, then renames it
// to its final name.
func (w *Writer) finishFile() error {
	f, partial := w.f, w.partial
	w.f, w.partial = nil, ""
	err := w.bw.Flush()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("finish capture %q: %w", partial, err)
	}
	final := strings.TrimSuffix(partial, PartialSuffix)
	if err := os.Rename(partial, final); err != nil {
		return fmt.Errorf("finish capture %q: %w", partial, err)
	}
	w.files = append(w.files, final)
	return nil
}

// flushLoop pushes buffered records to the operating system every
// FlushInterval.
func (w *Writer) flushLoop() {
	defer close(w.done)
	t := time.NewTicker(w.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			_ = w.Flush()
		}
	}
}

// Flush hands every buffered record to the operating system, where it
// survives a crash of this process. It does not fsync.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.closed || w.f == nil || w.bw.Buffered() == 0 {
		return nil
	}
	if err := w.bw.Flush(); err != nil {
		return w.fail(fmt.Errorf("flush capture %q: %w", w.partial, err))
	}
	return nil
}

// Close writes what is buffered, syncs and renames the last file, and
// stops the flush loop. Calling it again returns nil; writes after it
// return ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return w.err
	}
	if w.err != nil {
		// Keep the torn file as .partial for the reader to salvage.
		w.f.Close()
		w.f = nil
		return w.err
	}
	return w.finishFile()
}

// Files returns the paths of the files finished so far (all of them after
// Close), oldest first.
func (w *Writer) Files() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.files...)
}
