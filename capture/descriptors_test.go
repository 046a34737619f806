package capture

import (
	"bytes"
	"fmt"
	"testing"
)

// Every file of a rotated series holds, once and before the first record
// that refers to them, the descriptors its records refer to; records that
// refer to nothing bring none.
func TestDescriptorsWrittenOncePerFile(t *testing.T) {
	t.Parallel()
	w, err := NewWriter(WriterOptions{Dir: t.TempDir(), Header: Header{Tool: "test"}, MaxFileBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	sets := map[string][]byte{}
	for i := range 2 {
		set := bytes.Repeat([]byte{byte('a' + i)}, 300)
		d := &DescriptorRecord{Hash: DescriptorHash(set), Set: set}
		if ok, err := w.AddDescriptors(d); !ok || err != nil {
			t.Fatalf("AddDescriptors: %v, %v", ok, err)
		}
		if ok, err := w.AddDescriptors(d); !ok || err != nil { // again: cheap, true
			t.Fatalf("AddDescriptors again: %v, %v", ok, err)
		}
		sets[d.Hash] = set
	}
	hashes := []string{DescriptorHash(bytes.Repeat([]byte{'a'}, 300)), DescriptorHash(bytes.Repeat([]byte{'b'}, 300)), ""}
	const n = 60
	for i := range n {
		rec := sampleExchange(i)
		rec.Descriptors = hashes[i%3]
		if err := w.WriteExchange(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(w.Files()) < 3 {
		t.Fatalf("%d files, want a rotated series", len(w.Files()))
	}
	exchanges := 0
	for _, f := range w.Files() {
		r, err := Open(f)
		if err != nil {
			t.Fatal(err)
		}
		held := map[string]bool{}
		for _, rec := range readAllRecords(t, r) {
			switch rec.Kind {
			case KindDescriptors:
				d := rec.Descriptors
				if held[d.Hash] || !bytes.Equal(d.Set, sets[d.Hash]) {
					t.Errorf("%s: descriptors %s twice, or not as added", f, d.Hash)
				}
				held[d.Hash] = true
			case KindExchange:
				exchanges++
				if h := rec.Exchange.Descriptors; h != "" && !held[h] {
					t.Errorf("%s: record %s refers to %s before the file holds it", f, rec.Exchange.Exchange.Request.ID, h)
				}
			}
		}
		r.Close()
	}
	if exchanges != n {
		t.Errorf("read %d exchanges, want %d", exchanges, n)
	}
}

// A Writer takes at most MaxDescriptorRecords descriptor records and
// MaxDescriptorBytes of them.
func TestDescriptorsBounded(t *testing.T) {
	t.Parallel()
	w, err := NewWriter(WriterOptions{Dir: t.TempDir(), Header: Header{Tool: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	taken := 0
	for i := range MaxDescriptorRecords + 10 {
		set := []byte(fmt.Sprint(i))
		if ok, err := w.AddDescriptors(&DescriptorRecord{Hash: DescriptorHash(set), Set: set}); err != nil {
			t.Fatal(err)
		} else if ok {
			taken++
		}
	}
	if taken != MaxDescriptorRecords {
		t.Errorf("took %d records, want %d", taken, MaxDescriptorRecords)
	}
	w2, err := NewWriter(WriterOptions{Dir: t.TempDir(), Header: Header{Tool: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	big := make([]byte, MaxDescriptorBytes/2+1)
	if ok, _ := w2.AddDescriptors(&DescriptorRecord{Hash: "sha256:1", Set: big}); !ok {
		t.Fatal("the first half took nothing")
	}
	if ok, _ := w2.AddDescriptors(&DescriptorRecord{Hash: "sha256:2", Set: big}); ok {
		t.Errorf("took %d bytes of descriptors, over MaxDescriptorBytes (%d)", 2*len(big), MaxDescriptorBytes)
	}
	if _, err := w2.AddDescriptors(&DescriptorRecord{Set: big}); err == nil {
		t.Error("a record without a hash was taken")
	}
}
