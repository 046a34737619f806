package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
)

// readBufferSize is the Reader's read-ahead; payloads are read into a
// separate buffer the size of the largest record seen.
const readBufferSize = 64 << 10

// keepPayloadBuffer is the largest payload buffer kept between records.
const keepPayloadBuffer = 4 << 20

// ReadStats counts what reading found, records and damage alike. A clean
// file has only Files and Records set.
type ReadStats struct {
	// Files is the number of files opened.
	Files int
	// Records is the number of records returned.
	Records int64
	// CorruptFrames counts damaged frames in the middle of a file (bad
	// marker, checksum or length, or a record that does not decode); each
	// cost the records it overlapped and reading resumed at the next valid
	// frame.
	CorruptFrames int64
	// TruncatedTails counts files whose end was cut short, as a crash
	// leaves them; damage that runs to the end of a file counts here too.
	// At most one per file.
	TruncatedTails int64
	// UnknownRecords counts intact records of a kind this build does not
	// know (written by a newer minor version); they are skipped.
	UnknownRecords int64
	// RefusedRecords counts intact records that were skipped because
	// decoding them would take far more memory than their size (more than
	// MaxRecordEntries entries); Notes names each.
	RefusedRecords int64
	// SkippedBytes is the total size of everything skipped.
	SkippedBytes int64
	// Notes describes the first MaxNotes things skipped in the middle of
	// a file (refused records, frames claiming more bytes than the file
	// holds), each naming the file, the record and the offset.
	Notes []string
}

// MaxNotes bounds ReadStats.Notes; further problems are only counted.
const MaxNotes = 20

func (s *ReadStats) note(format string, args ...any) {
	if len(s.Notes) < MaxNotes {
		s.Notes = append(s.Notes, fmt.Sprintf(format, args...))
	}
}

// Add adds o's counts to s, to merge the stats of several files.
func (s *ReadStats) Add(o ReadStats) {
	s.Files += o.Files
	s.Records += o.Records
	s.CorruptFrames += o.CorruptFrames
	s.TruncatedTails += o.TruncatedTails
	s.UnknownRecords += o.UnknownRecords
	s.RefusedRecords += o.RefusedRecords
	s.SkippedBytes += o.SkippedBytes
	for _, n := range o.Notes {
		if len(s.Notes) == MaxNotes {
			break
		}
		s.Notes = append(s.Notes, n)
	}
}

// Reader streams the records of one capture file in constant memory
// (bounded by the largest record), skipping and counting damage. It reads
// the file as it was when opened: records appended later are not seen. A
// Reader is not safe for concurrent use.
type Reader struct {
	name    string
	closer  io.Closer
	br      *bufio.Reader
	off     int64 // file offset of br's next byte
	size    int64
	hdr     Header
	stats   ReadStats
	buf     []byte
	payload bytes.Reader
	dec     *msgpack.Decoder
	pending *frame // first record, read while looking for the header
	frames  int    // frames read so far, the header frame included
}

// frame is a checksum-verified frame; payload is only valid until the next
// read.
type frame struct {
	kind    Kind
	payload []byte
	off     int64 // the frame's offset in the file
	n       int   // its ordinal: 1 for the header frame, then 2, 3, ...
}

// Open opens a capture file (final or *.partial) and reads its header. It
// fails when the file is not a capture file or has a major format version
// this build cannot read; a file cut short, even to nothing, opens and
// reports a truncated tail.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open capture %q: %w", path, err)
	}
	r, err := newReader(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// newReader reads from rs; name is used in errors.
func newReader(name string, rs io.ReadSeeker) (*Reader, error) {
	size, err := rs.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = rs.Seek(0, io.SeekStart)
	}
	if err != nil {
		return nil, fmt.Errorf("open capture %q: %w", name, err)
	}
	r := &Reader{
		name: name,
		size: size,
		br:   bufio.NewReaderSize(rs, int(min(max(size, 16), readBufferSize))),
		dec:  msgpack.NewDecoder(nil),
	}
	r.stats.Files = 1
	pre, err := r.br.Peek(int(min(size, int64(preambleLen))))
	if err != nil {
		return nil, fmt.Errorf("open capture %q: %w", name, err)
	}
	if n := min(len(pre), len(magic)); !bytes.Equal(pre[:n], magic[:n]) {
		return nil, fmt.Errorf("open capture %q: %w (bad magic bytes)", name, ErrNotCapture)
	}
	if len(pre) < preambleLen {
		r.truncatedTail()
		return r, nil
	}
	major := binary.BigEndian.Uint16(pre[len(magic):])
	minor := binary.BigEndian.Uint16(pre[len(magic)+2:])
	if major != FormatMajor {
		return nil, fmt.Errorf("open capture %q: %w: file is version %s, this build reads %d.x",
			name, ErrUnsupportedVersion, versionString(major, minor), FormatMajor)
	}
	if err := r.discard(preambleLen); err != nil {
		return nil, err
	}
	f, err := r.readFrame()
	switch {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	case f.kind == kindHeader:
		if checkMsgpack(f.payload) != nil || r.decode(f.payload, &r.hdr) != nil {
			r.hdr = Header{}
			r.stats.CorruptFrames++
			r.stats.SkippedBytes += int64(frameHeaderLen + len(f.payload))
		}
	default:
		r.pending = &f
	}
	r.hdr.Version = versionString(major, minor)
	return r, nil
}

// Header returns the file's header; only Version is set when the header
// frame was damaged.
func (r *Reader) Header() Header { return r.hdr }

// Stats returns what has been read and skipped so far.
func (r *Reader) Stats() ReadStats { return r.stats }

// Next returns the next intact record, or io.EOF after the last one.
// Damage is skipped and counted in Stats, never returned; errors are
// failures to read the file itself.
func (r *Reader) Next() (Record, error) {
	for {
		var f frame
		if r.pending != nil {
			f, r.pending = *r.pending, nil
		} else {
			var err error
			if f, err = r.readFrame(); err != nil {
				return Record{}, err
			}
		}
		var rec Record
		var v any
		switch f.kind {
		case kindHeader:
			continue // a later file's header, as when files are concatenated
		case KindExchange:
			rec.Exchange = new(ExchangeRecord)
			v = rec.Exchange
		case KindSynth:
			rec.Synth = new(SynthRecord)
			v = rec.Synth
		case KindDescriptors:
			rec.Descriptors = new(DescriptorRecord)
			v = rec.Descriptors
		default:
			r.stats.UnknownRecords++
			r.stats.SkippedBytes += int64(frameHeaderLen + len(f.payload))
			continue
		}
		if err := checkMsgpack(f.payload); err != nil || r.decode(f.payload, v) != nil {
			var tooMany *entriesError
			if errors.As(err, &tooMany) {
				r.stats.RefusedRecords++
				r.stats.note("capture %q: %s record at offset %d (frame %d) skipped: %v", r.name, f.kind, f.off, f.n, err)
			} else {
				r.stats.CorruptFrames++
			}
			r.stats.SkippedBytes += int64(frameHeaderLen + len(f.payload))
			continue
		}
		if cap(r.buf) > keepPayloadBuffer {
			r.buf = nil
		}
		rec.Kind = f.kind
		r.stats.Records++
		return rec, nil
	}
}

func (r *Reader) decode(payload []byte, v any) error {
	r.payload.Reset(payload)
	r.dec.Reset(&r.payload)
	return r.dec.Decode(v)
}

// readFrame returns the next checksum-verified frame, skipping damage.
func (r *Reader) readFrame() (frame, error) {
	for {
		remaining := r.size - r.off
		if remaining == 0 {
			return frame{}, io.EOF
		}
		if remaining < frameHeaderLen {
			r.truncatedTail()
			return frame{}, io.EOF
		}
		hb, err := r.br.Peek(frameHeaderLen)
		if err != nil {
			return frame{}, r.readErr(err)
		}
		fh, ok := parseFrameHeader(hb)
		if !ok {
			if err := r.resync(); err != nil {
				return frame{}, err
			}
			continue
		}
		if fh.length > remaining-frameHeaderLen {
			// Cut short by a crash, or a damaged length that happens to
			// pass the header checksum: resync finds any intact frame
			// after it (and otherwise counts a truncated tail).
			start := r.off
			if err := r.resync(); err != nil {
				return frame{}, err
			}
			if r.off < r.size {
				r.stats.note("capture %q: frame at offset %d claims %d bytes, but only %d remain; skipped %d bytes to the next frame at offset %d",
					r.name, start, fh.length, remaining-frameHeaderLen, r.off-start, r.off)
			}
			continue
		}
		frameOff := r.off
		if err := r.discard(frameHeaderLen); err != nil {
			return frame{}, err
		}
		// The length is bounded by MaxRecordBytes and by what the file
		// really holds, so this allocation is too.
		n := int(fh.length)
		if cap(r.buf) < n {
			r.buf = make([]byte, n)
		}
		p := r.buf[:n]
		if _, err := io.ReadFull(r.br, p); err != nil {
			return frame{}, r.readErr(err)
		}
		r.off += int64(n)
		r.frames++
		if crc32.Checksum(p, castagnoli) != fh.dataCRC {
			// The header was intact, so its length is trusted: skip just
			// this frame.
			r.stats.CorruptFrames++
			r.stats.SkippedBytes += int64(frameHeaderLen + n)
			continue
		}
		return frame{kind: fh.kind, payload: p, off: frameOff, n: r.frames}, nil
	}
}

// resync skips from the damaged frame at r.off to the next offset holding
// a valid frame header, or to the end of the file.
func (r *Reader) resync() error {
	start := r.off
	if err := r.discard(1); err != nil {
		return err
	}
	for r.size-r.off >= frameHeaderLen {
		b, err := r.br.Peek(int(min(int64(r.br.Size()), r.size-r.off)))
		if err != nil {
			return r.readErr(err)
		}
		i := bytes.IndexByte(b, frameMarker[0])
		if i < 0 {
			if err := r.discard(len(b)); err != nil {
				return err
			}
			continue
		}
		if err := r.discard(i); err != nil {
			return err
		}
		if r.size-r.off < frameHeaderLen {
			break
		}
		hb, err := r.br.Peek(frameHeaderLen)
		if err != nil {
			return r.readErr(err)
		}
		if _, ok := parseFrameHeader(hb); ok {
			r.stats.CorruptFrames++
			r.stats.SkippedBytes += r.off - start
			return nil
		}
		if err := r.discard(1); err != nil {
			return err
		}
	}
	r.off = start
	r.truncatedTail()
	return nil
}

// truncatedTail skips everything from r.off to the end of the file.
func (r *Reader) truncatedTail() {
	r.stats.TruncatedTails++
	r.stats.SkippedBytes += r.size - r.off
	r.off = r.size
}

func (r *Reader) discard(n int) error {
	d, err := r.br.Discard(n)
	r.off += int64(d)
	if err != nil {
		return r.readErr(err)
	}
	return nil
}

func (r *Reader) readErr(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF // the file shrank under us
	}
	return fmt.Errorf("read capture %q at offset %d: %w", r.name, r.off, err)
}

// Close closes the file. Calling it again returns nil.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	if err := c.Close(); err != nil {
		return fmt.Errorf("close capture %q: %w", r.name, err)
	}
	return nil
}

// ReadFiles reads every record of the given files, in order, calling fn
// for each; it is what reports merging the files of many runners use. A
// directory stands for the capture files in it (*.usc and *.usc.partial,
// by name). It stops at the first error, including one fn returns, and
// returns the stats merged over all files read. A nil fn only counts.
func ReadFiles(paths []string, fn func(Record) error) (ReadStats, error) {
	var total ReadStats
	files, err := expandPaths(paths)
	if err != nil {
		return total, err
	}
	for _, path := range files {
		r, err := Open(path)
		if err != nil {
			return total, err
		}
		err = readAll(r, fn)
		total.Add(r.Stats())
		if cerr := r.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func readAll(r *Reader, fn func(Record) error) error {
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if fn == nil {
			continue
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// expandPaths replaces each directory by the capture files in it.
func expandPaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("open capture %q: %w", p, err)
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("list captures in %q: %w", p, err)
		}
		var names []string
		for _, e := range entries {
			n := e.Name()
			if !e.IsDir() && (strings.HasSuffix(n, FileSuffix) || strings.HasSuffix(n, FileSuffix+PartialSuffix)) {
				names = append(names, filepath.Join(p, n))
			}
		}
		slices.Sort(names)
		out = append(out, names...)
	}
	return out, nil
}
