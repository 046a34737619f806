package capture

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/internal/testio"
)

func TestWriterRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hdr := Header{Tool: "shadow", ToolVersion: "v0.1.0", Host: "node-1", Labels: map[string]string{"run": "r1"}}
	w, err := NewWriter(WriterOptions{Dir: dir, Header: hdr})
	if err != nil {
		t.Fatal(err)
	}
	want := sampleRecords(10)
	for _, r := range want {
		writeRecord(t, w, r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := w.Files()
	if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), "shadow-") || !strings.HasSuffix(files[0], FileSuffix) {
		t.Fatalf("files = %q, want one shadow-*.usc", files)
	}
	r, err := Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := readAllRecords(t, r)
	if diff := cmp.Diff(want, got, recordOpts); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	gh := r.Header()
	if gh.Created.IsZero() {
		t.Error("header Created is zero, want the file's start time")
	}
	gh.Created = time.Time{}
	wantHdr := hdr
	wantHdr.Version = versionString(FormatMajor, FormatMinor)
	if diff := cmp.Diff(wantHdr, gh); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if got, want := r.Stats(), (ReadStats{Files: 1, Records: 10}); !cmp.Equal(got, want) {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}

func TestWriterRotatesAndRenames(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "deep", "captures")
	const maxBytes = 4 << 10
	w, err := NewWriter(WriterOptions{Dir: dir, Prefix: "rot", MaxFileBytes: maxBytes})
	if err != nil {
		t.Fatal(err)
	}
	want := sampleRecords(40)
	for _, r := range want {
		writeRecord(t, w, r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := w.Files()
	if len(files) < 3 {
		t.Fatalf("got %d files, want several at %d bytes each", len(files), maxBytes)
	}
	names := dirFiles(t, dir)
	if len(names) != len(files) || !hasSuffixAll(names, FileSuffix) {
		t.Errorf("directory holds %q, want exactly the %d finished .usc files", names, len(files))
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("directory mode = %v, want 0700", got)
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %v, want 0600", f, got)
		}
		if fi.Size() > maxBytes {
			t.Errorf("%s is %d bytes, want at most %d", f, fi.Size(), maxBytes)
		}
	}
	var got []Record
	stats, err := ReadFiles(files, func(r Record) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, recordOpts); diff != "" {
		t.Errorf("records across files (-want +got):\n%s", diff)
	}
	if stats.Files != len(files) || stats.Records != int64(len(want)) || stats.CorruptFrames+stats.TruncatedTails != 0 {
		t.Errorf("stats = %+v", stats)
	}
}

func TestWriterConcurrentWrites(t *testing.T) {
	t.Parallel()
	w, err := NewWriter(WriterOptions{Dir: t.TempDir(), MaxFileBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 150
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := sampleExchange(i)
				r.Exchange.Request.ID = fmt.Sprintf("g%d-%d", g, i)
				if err := w.WriteExchange(r); err != nil {
					errs <- err
					return
				}
				if i%50 == 0 {
					if err := w.Flush(); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	stats, err := ReadFiles(w.Files(), func(r Record) error {
		seen[r.Exchange.Exchange.Request.ID]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Records != writers*each || len(seen) != writers*each {
		t.Errorf("read %d records, %d distinct, want %d", stats.Records, len(seen), writers*each)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("record %s read %d times", id, n)
		}
	}
}

// The flush loop, not Close or a full buffer, makes records visible.
func TestWriterFlushesOnInterval(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir, FlushInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.WriteExchange(sampleExchange(1)); err != nil {
		t.Fatal(err)
	}
	names := dirFiles(t, dir)
	if len(names) != 1 || !strings.HasSuffix(names[0], FileSuffix+PartialSuffix) {
		t.Fatalf("directory holds %q, want one .partial file while writing", names)
	}
	path := filepath.Join(dir, names[0])
	testio.Eventually(t, "the record to reach the file without Close", func() bool {
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		return len(readAllRecords(t, r)) == 1
	})
}

// A .partial file left by a process that died after a flush reads fully.
func TestWriterPartialFileReadable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir, FlushInterval: time.Hour, Header: Header{Tool: "synth"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	want := sampleRecords(3)
	for _, r := range want {
		writeRecord(t, w, r)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []Record
	stats, err := ReadFiles([]string{dir}, func(r Record) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, recordOpts); diff != "" {
		t.Errorf("records of the .partial file (-want +got):\n%s", diff)
	}
	if stats.TruncatedTails != 0 || stats.Files != 1 {
		t.Errorf("stats = %+v, want one clean file", stats)
	}
}

func TestWriterClose(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := w.WriteExchange(sampleExchange(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close = %v, want ErrClosed", err)
	}
	if err := w.WriteSynth(sampleSynth(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close = %v, want ErrClosed", err)
	}
	// A writer that saw no records still leaves a valid, empty file.
	files := w.Files()
	if len(files) != 1 {
		t.Fatalf("files = %q, want one", files)
	}
	r, err := Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next on empty file = %v, want io.EOF", err)
	}
}

func TestWriterRefusesHugeRecord(t *testing.T) {
	t.Parallel()
	w, err := NewWriter(WriterOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	big := sampleExchange(1)
	big.Exchange.Primary.Body = make([]byte, MaxRecordBytes)
	big.Exchange.Primary.Header = nil
	if err := w.WriteExchange(big); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("write of a %d-byte body = %v, want ErrRecordTooLarge", MaxRecordBytes, err)
	}
	if err := w.WriteExchange(sampleExchange(2)); err != nil {
		t.Errorf("write after a refused record = %v, want nil", err)
	}
	// Many tiny headers: a small record that would decode to many times
	// its size is refused too, so the Reader never has to skip it.
	wide := sampleExchange(3)
	wide.Exchange.Request.Header = http.Header{}
	for i := range MaxRecordEntries {
		wide.Exchange.Request.Header[strconv.Itoa(i)] = nil
	}
	if err := w.WriteExchange(wide); !errors.Is(err, ErrRecordTooLarge) || !strings.Contains(err.Error(), "header names") {
		t.Fatalf("write of %d header names = %v, want ErrRecordTooLarge naming them", MaxRecordEntries, err)
	}
}

func TestWriterDoesNotModifyRecord(t *testing.T) {
	t.Parallel()
	w, err := NewWriter(WriterOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rec, _ := secretExchange()
	before, _ := secretExchange()
	if err := w.WriteExchange(rec); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, rec); diff != "" {
		t.Errorf("WriteExchange changed the caller's record (-before +after):\n%s", diff)
	}
	syn, _ := secretSynth()
	synBefore, _ := secretSynth()
	if err := w.WriteSynth(syn); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(synBefore, syn); diff != "" {
		t.Errorf("WriteSynth changed the caller's record (-before +after):\n%s", diff)
	}
}

func TestWriterOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts WriterOptions
		want string // substring of the error; empty for none
	}{
		{"ok", WriterOptions{Dir: "x"}, ""},
		{"no dir", WriterOptions{}, "Dir"},
		{"prefix with slash", WriterOptions{Dir: "x", Prefix: "a/b"}, "Prefix"},
		{"hidden prefix", WriterOptions{Dir: "x", Prefix: ".a"}, "Prefix"},
		{"negative size", WriterOptions{Dir: "x", MaxFileBytes: -1}, "MaxFileBytes"},
		{"negative interval", WriterOptions{Dir: "x", FlushInterval: -time.Second}, "FlushInterval"},
		{"bad redactor", WriterOptions{Dir: "x", Redactor: &Redactor{Key: []byte("short")}}, "key: has 5 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.opts.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestNewWriterBadDir(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(WriterOptions{Dir: file}); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("NewWriter under a file = %v, want an error naming %s", err, file)
	}
}

// Records are redacted into reused buffers; what is read back must be
// exactly what Redactor.Redact makes of each record, whoever wrote it.
func TestWriterRedactedRecordsIntact(t *testing.T) {
	t.Parallel()
	red := testRedactor()
	w, err := NewWriter(WriterOptions{Dir: t.TempDir(), Redactor: red})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 40
	record := func(g, i int) *ExchangeRecord {
		var rec *ExchangeRecord
		if i%2 == 0 {
			rec, _ = secretExchange()
		} else {
			rec, _ = secretExchange2()
		}
		rec.Exchange.Request.ID = fmt.Sprintf("g%d-%d", g, i)
		rec.Exchange.Primary.Body = append(rec.Exchange.Primary.Body, strings.Repeat(" ", g*7+i)...)
		return rec
	}
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := w.WriteExchange(record(g, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	_, err = ReadFiles(w.Files(), func(r Record) error {
		n++
		var g, i int
		if _, err := fmt.Sscanf(r.Exchange.Exchange.Request.ID, "g%d-%d", &g, &i); err != nil {
			return err
		}
		want := record(g, i)
		red.Redact(&want.Exchange)
		if diff := cmp.Diff(want, r.Exchange, recordOpts); diff != "" {
			t.Errorf("record %s (-want +got):\n%s", r.Exchange.Exchange.Request.ID, diff)
		}
		return nil
	})
	if err != nil || n != writers*each {
		t.Errorf("read %d records, err %v; want %d", n, err, writers*each)
	}
}
