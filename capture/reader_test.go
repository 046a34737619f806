package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vmihailenco/msgpack/v5"
)

// frameEnds returns the offset where each frame of a well-formed file ends;
// the first is the header frame.
func frameEnds(t testing.TB, b []byte) []int {
	t.Helper()
	var ends []int
	for off := preambleLen; off < len(b); {
		if off+frameHeaderLen > len(b) {
			t.Fatalf("stray bytes at %d", off)
		}
		off += frameHeaderLen + int(binary.BigEndian.Uint32(b[off+5:]))
		ends = append(ends, off)
	}
	return ends
}

// keys identifies records cheaply, for loops too long for cmp.Diff.
func keys(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		switch r.Kind {
		case KindExchange:
			out[i] = "x:" + r.Exchange.Exchange.Request.ID
		case KindSynth:
			out[i] = "s:" + r.Synth.JourneyID
		}
	}
	return out
}

func sameKeys(want, got []Record) bool {
	return slices.Equal(keys(want), keys(got))
}

// readBytes reads a capture held in memory.
func readBytes(t testing.TB, b []byte) ([]Record, Header, ReadStats) {
	t.Helper()
	r, err := newReader("mem", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	recs := readAllRecords(t, r)
	return recs, r.Header(), r.Stats()
}

// A crash can cut the file anywhere; every record before the cut survives
// and the cut is reported once.
func TestReaderCutAtEveryOffset(t *testing.T) {
	t.Parallel()
	want := sampleRecords(5)
	full := readFileBytes(t, writeFile(t, want))
	ends := frameEnds(t, full)
	boundary := map[int]bool{preambleLen: true}
	for _, e := range ends {
		boundary[e] = true
	}
	for cut := 0; cut < len(full); cut++ {
		got, hdr, stats := readBytes(t, full[:cut])
		complete := 0 // records wholly before the cut
		for _, e := range ends[1:] {
			if e <= cut {
				complete++
			}
		}
		if !sameKeys(want[:complete], got) {
			t.Fatalf("cut at %d: got records %v, want %v", cut, keys(got), keys(want[:complete]))
		}
		if boundary[cut] { // full comparison where it is cheap enough
			if diff := cmp.Diff(want[:complete], got, recordOpts); diff != "" {
				t.Fatalf("cut at %d: records (-want +got):\n%s", cut, diff)
			}
		}
		wantTails := int64(1)
		if boundary[cut] {
			wantTails = 0
		}
		if stats.TruncatedTails != wantTails || stats.CorruptFrames != 0 {
			t.Fatalf("cut at %d: stats %+v, want %d truncated tail(s) and no corrupt frame", cut, stats, wantTails)
		}
		if wantTails == 1 && stats.SkippedBytes == 0 && cut > 0 {
			t.Fatalf("cut at %d: skipped bytes not counted: %+v", cut, stats)
		}
		if wantHdr := cut >= ends[0]; wantHdr != (hdr.Tool == "test") {
			t.Fatalf("cut at %d: header %+v, header frame complete: %v", cut, hdr, wantHdr)
		}
	}
}

// Damage anywhere in one frame costs that frame only.
func TestReaderFlippedByteLosesOneRecord(t *testing.T) {
	t.Parallel()
	want := sampleRecords(5)
	full := readFileBytes(t, writeFile(t, want))
	ends := frameEnds(t, full)
	const victim = 2 // third record; ends[0] is the header frame
	start, end := ends[victim], ends[victim+1]
	wantRecs := append(append([]Record{}, want[:victim]...), want[victim+1:]...)
	for off := start; off < end; off++ {
		b := bytes.Clone(full)
		b[off] ^= 0xff
		got, hdr, stats := readBytes(t, b)
		if !sameKeys(wantRecs, got) {
			t.Fatalf("byte %d flipped: got records %v, want %v", off-start, keys(got), keys(wantRecs))
		}
		if (off-start)%64 == 0 {
			if diff := cmp.Diff(wantRecs, got, recordOpts); diff != "" {
				t.Fatalf("byte %d flipped: records (-want +got):\n%s", off-start, diff)
			}
		}
		if stats.CorruptFrames != 1 || stats.TruncatedTails != 0 || stats.SkippedBytes != int64(end-start) {
			t.Fatalf("byte %d flipped: stats %+v, want one corrupt frame of %d bytes", off-start, stats, end-start)
		}
		if hdr.Tool != "test" {
			t.Fatalf("byte %d flipped: header lost", off-start)
		}
	}
	// Damage to the header frame loses the header, not the records.
	for _, off := range []int{preambleLen, preambleLen + 5, ends[0] - 1} {
		b := bytes.Clone(full)
		b[off] ^= 0x01
		got, hdr, stats := readBytes(t, b)
		if diff := cmp.Diff(want, got, recordOpts); diff != "" {
			t.Fatalf("header byte %d flipped: records (-want +got):\n%s", off, diff)
		}
		if hdr.Tool != "" || hdr.Version != versionString(FormatMajor, FormatMinor) || stats.CorruptFrames != 1 {
			t.Fatalf("header byte %d flipped: header %+v, stats %+v", off, hdr, stats)
		}
	}
}

// Garbage between frames, as a torn write followed by more records leaves,
// is skipped up to the next frame.
func TestReaderResyncsOverGarbage(t *testing.T) {
	t.Parallel()
	want := sampleRecords(4)
	full := readFileBytes(t, writeFile(t, want))
	ends := frameEnds(t, full)
	garbage := append(bytes.Repeat([]byte{0xC1, 'U', 'S'}, 50), frameMarker[:]...)
	var b []byte
	b = append(b, full[:ends[2]]...)
	b = append(b, garbage...)
	b = append(b, full[ends[2]:]...)
	got, _, stats := readBytes(t, b)
	if diff := cmp.Diff(want, got, recordOpts); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if stats.CorruptFrames != 1 || stats.SkippedBytes != int64(len(garbage)) {
		t.Errorf("stats %+v, want one corrupt region of %d bytes", stats, len(garbage))
	}
}

func TestReaderRefusesFutureMajorVersion(t *testing.T) {
	t.Parallel()
	b := readFileBytes(t, writeFile(t, sampleRecords(2)))
	binary.BigEndian.PutUint16(b[len(magic):], 2)
	binary.BigEndian.PutUint16(b[len(magic)+2:], 3)
	path := filepath.Join(t.TempDir(), "future.usc")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("Open = %v, want ErrUnsupportedVersion", err)
	}
	for _, want := range []string{path, "2.3", "1.x"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := ReadFiles([]string{path}, func(Record) error { return nil }); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("ReadFiles = %v, want ErrUnsupportedVersion", err)
	}
}

// A newer minor version may add fields and record kinds; this build skips
// what it does not know and reads the rest.
func TestReaderReadsFutureMinorVersion(t *testing.T) {
	t.Parallel()
	want := sampleRecords(2)
	b := readFileBytes(t, writeFile(t, want))
	binary.BigEndian.PutUint16(b[len(magic)+2:], 7)

	future := struct {
		Endpoint string `msgpack:"endpoint"`
		Shiny    []int  `msgpack:"shiny_new_field"`
	}{"GET /x", []int{1, 2}}
	payload, err := msgpack.Marshal(future)
	if err != nil {
		t.Fatal(err)
	}
	appendFrame := func(kind Kind, p []byte) {
		h := make([]byte, frameHeaderLen)
		putFrameHeader(h, kind, p)
		b = append(append(b, h...), p...)
	}
	appendFrame(Kind(42), []byte{0x90})
	appendFrame(KindExchange, payload)

	got, hdr, stats := readBytes(t, b)
	want = append(want, Record{Kind: KindExchange, Exchange: &ExchangeRecord{Endpoint: "GET /x"}})
	if diff := cmp.Diff(want, got, recordOpts); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if hdr.Version != "1.7" || stats.UnknownRecords != 1 || stats.CorruptFrames != 0 {
		t.Errorf("version %q, stats %+v: want 1.7 and one unknown record", hdr.Version, stats)
	}
}

func TestOpenNotCapture(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		content  []byte
		wantErr  error
		wantTail int64
	}{
		{"text", []byte("hello, this is not a capture"), ErrNotCapture, 0},
		{"empty file", nil, nil, 1},
		{"half the magic", magic[:5], nil, 1},
		{"wrong magic prefix", []byte{0x89, 'P', 'N'}, ErrNotCapture, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "f.usc")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			defer r.Close()
			if recs := readAllRecords(t, r); len(recs) != 0 || r.Stats().TruncatedTails != tt.wantTail {
				t.Errorf("read %d records, stats %+v; want none and %d truncated tail", len(recs), r.Stats(), tt.wantTail)
			}
		})
	}
}

// allocDuring returns the bytes allocated while fn ran. Not parallel-safe:
// callers must not run in parallel with other tests.
func allocDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Hostile lengths, in the frame or inside the msgpack record, never make
// the reader allocate more than a small multiple of the file's size.
// (Not parallel: it measures allocation.)
func TestReaderHostileLengths(t *testing.T) {
	good := readFileBytes(t, writeFile(t, sampleRecords(1)))
	frameWith := func(kind Kind, length uint32, payload []byte) []byte {
		h := make([]byte, frameHeaderLen)
		putFrameHeader(h, kind, payload)
		binary.BigEndian.PutUint32(h[5:9], length)
		binary.BigEndian.PutUint32(h[13:17], crc32c(h[:13]))
		return append(h, payload...)
	}
	valid := func(kind Kind, payload []byte) []byte {
		return frameWith(kind, uint32(len(payload)), payload)
	}
	tests := []struct {
		name                  string
		tail                  []byte
		wantRecords           int
		wantCorrupt, wantTail int64
	}{
		{"length over the limit", frameWith(KindExchange, 0xffffffff, nil), 1, 0, 1},
		{"length past the end", frameWith(KindExchange, MaxRecordBytes, []byte{1, 2, 3}), 1, 0, 1},
		{"array of 4 billion", valid(KindExchange, []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}), 1, 1, 0},
		{"map of 4 billion", valid(KindSynth, []byte{0xdf, 0xff, 0xff, 0xff, 0xff}), 1, 1, 0},
		{"string of 4 GiB", valid(KindExchange, []byte{0x81, 0xa3, 'u', 'r', 'l', 0xdb, 0xff, 0xff, 0xff, 0xff}), 1, 1, 0},
		{"deep nesting", valid(KindExchange, bytes.Repeat([]byte{0x91}, 100000)), 1, 1, 0},
		{"wrong types", valid(KindSynth, []byte{0x81, 0xa6, 's', 't', 'a', 't', 'u', 's', 0xa1, 'x'}), 1, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := append(bytes.Clone(good), tt.tail...)
			b = append(b, good[frameEnds(t, good)[0]:]...) // one more good record after it
			if tt.wantTail == 1 {
				b = append(bytes.Clone(good), tt.tail...)
			}
			var got []Record
			var stats ReadStats
			alloc := allocDuring(func() { got, _, stats = readBytes(t, b) })
			wantRecs := tt.wantRecords
			if tt.wantTail == 0 {
				wantRecs++
			}
			if len(got) != wantRecs || stats.CorruptFrames != tt.wantCorrupt || stats.TruncatedTails != tt.wantTail {
				t.Errorf("read %d records, stats %+v; want %d records, %d corrupt, %d truncated",
					len(got), stats, wantRecs, tt.wantCorrupt, tt.wantTail)
			}
			if limit := uint64(64*len(b) + 1<<20); alloc > limit {
				t.Errorf("reading %d bytes allocated %d bytes, want at most %d", len(b), alloc, limit)
			}
		})
	}
}

func TestReadFilesDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir, MaxFileBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	want := sampleRecords(12)
	for _, r := range want {
		writeRecord(t, w, r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// A file left by a crashed runner, cut in its last record, and a file
	// that is no capture at all.
	crashed := readFileBytes(t, writeFile(t, sampleRecords(3)))
	crashed = crashed[:len(crashed)-7]
	if err := os.WriteFile(filepath.Join(dir, "zz-crashed.usc.partial"), crashed, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a capture"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []Record
	stats, err := ReadFiles([]string{dir}, func(r Record) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, sampleRecords(2)...)
	if diff := cmp.Diff(want, got, recordOpts); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if stats.Files != len(w.Files())+1 || stats.TruncatedTails != 1 || stats.Records != int64(len(want)) {
		t.Errorf("stats %+v, want %d files, one truncated tail, %d records", stats, len(w.Files())+1, len(want))
	}

	stop := errors.New("stop")
	n := 0
	if _, err := ReadFiles([]string{dir}, func(Record) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("ReadFiles with a failing callback = %v after %d records, want stop after 1", err, n)
	}
	if counted, err := ReadFiles([]string{dir}, nil); err != nil || !cmp.Equal(counted, stats) {
		t.Errorf("ReadFiles with nil fn = %+v, %v; want %+v", counted, err, stats)
	}
	if _, err := ReadFiles([]string{filepath.Join(dir, "missing.usc")}, nil); err == nil {
		t.Error("ReadFiles of a missing file succeeded")
	}
}

// wideHeaderRecord is an exchange record payload whose request header has
// n distinct names with no values: about 7 bytes each in the file, but
// over a hundred each once decoded into an http.Header. The Writer would
// refuse it; a hostile or foreign file can still hold it.
func wideHeaderRecord(n int) []byte {
	b := []byte{0x81}
	b = append(b, 0xa8)
	b = append(b, "exchange"...)
	b = append(b, 0x81, 0xa7)
	b = append(b, "request"...)
	b = append(b, 0x81, 0xa6)
	b = append(b, "header"...)
	b = append(b, 0xdf)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	for i := range n {
		k := fmt.Sprintf("k%05x", i)
		b = append(b, 0xa0|byte(len(k)))
		b = append(b, k...)
		b = append(b, 0x90) // no values
	}
	return b
}

// validFrame frames a payload as the Writer would.
func validFrame(kind Kind, payload []byte) []byte {
	h := make([]byte, frameHeaderLen)
	putFrameHeader(h, kind, payload)
	return append(h, payload...)
}

// A record of many tiny entries is refused before it is decoded, named
// in the notes, and costs little more than its own bytes; the records
// after it are read. (Not parallel: it measures allocation.)
func TestReaderRefusesRecordThatAmplifies(t *testing.T) {
	good := readFileBytes(t, writeFile(t, sampleRecords(2)))
	ends := frameEnds(t, good)
	wide := validFrame(KindExchange, wideHeaderRecord(1<<20)) // 7 MiB
	b := append(bytes.Clone(good[:ends[1]]), wide...)
	b = append(b, good[ends[1]:]...)
	var got []Record
	var stats ReadStats
	alloc := allocDuring(func() { got, _, stats = readBytes(t, b) })
	if len(got) != 2 || stats.RefusedRecords != 1 || stats.CorruptFrames != 0 || stats.SkippedBytes != int64(len(wide)) {
		t.Errorf("read %d records, stats %+v; want 2 records and one refused of %d bytes", len(got), stats, len(wide))
	}
	wantNote := fmt.Sprintf(`capture "mem": exchange record at offset %d (frame 3) skipped: more than %d map entries`, ends[1], MaxRecordEntries)
	if len(stats.Notes) != 1 || !strings.HasPrefix(stats.Notes[0], wantNote) {
		t.Errorf("notes %q, want one starting %q", stats.Notes, wantNote)
	}
	// Decoded, the header alone would take over 100 MiB.
	if limit := uint64(2*len(b) + 1<<20); alloc > limit {
		t.Errorf("reading %d bytes allocated %d, want at most %d", len(b), alloc, limit)
	}
}

// A frame whose (checksum-valid) length runs past the end of the file
// costs only its own bytes: the reader resyncs to the intact frames after
// it and says what it skipped.
func TestReaderResyncsPastFrameClaimingTooMuch(t *testing.T) {
	t.Parallel()
	const after = 200
	good := readFileBytes(t, writeFile(t, sampleRecords(after)))
	ends := frameEnds(t, good)
	bad := validFrame(KindExchange, []byte{0x80})
	binary.BigEndian.PutUint32(bad[5:9], uint32(len(good))) // past the end
	binary.BigEndian.PutUint32(bad[13:17], crc32c(bad[:13]))
	b := append(bytes.Clone(good[:ends[0]]), bad...)
	b = append(b, good[ends[0]:]...)
	got, _, stats := readBytes(t, b)
	if len(got) != after || stats.CorruptFrames != 1 || stats.TruncatedTails != 0 || stats.SkippedBytes != int64(len(bad)) {
		t.Errorf("read %d records, stats %+v; want all %d after one corrupt frame of %d bytes", len(got), stats, after, len(bad))
	}
	want := fmt.Sprintf(`capture "mem": frame at offset %d claims %d bytes, but only %d remain; skipped %d bytes to the next frame at offset %d`,
		ends[0], len(good), len(b)-ends[0]-frameHeaderLen, len(bad), ends[0]+len(bad))
	if len(stats.Notes) != 1 || stats.Notes[0] != want {
		t.Errorf("notes %q, want [%q]", stats.Notes, want)
	}
}
