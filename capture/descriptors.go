package capture

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// DescriptorRecord holds the protobuf descriptors that gRPC exchange
// records refer to (ExchangeRecord.Descriptors), so that a capture file
// is read by field name without the .proto files, the descriptor sets or
// the server that described the messages when they were recorded. A
// Writer writes each one, once, into every file that has a record
// referring to it, before the first such record.
type DescriptorRecord struct {
	// Hash names the descriptors: "sha256:" and the hex SHA-256 of Set
	// (DescriptorHash).
	Hash string `msgpack:"hash"`
	// Set is a serialized google.protobuf.FileDescriptorSet: the file
	// that defines a service and every file it imports.
	Set []byte `msgpack:"set"`
}

// DescriptorHash is the Hash of a DescriptorRecord holding set.
func DescriptorHash(set []byte) string {
	sum := sha256.Sum256(set)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Bounds of the descriptors a Writer keeps to write into its files.
const (
	// MaxDescriptorRecords is how many DescriptorRecords a Writer takes.
	MaxDescriptorRecords = 256
	// MaxDescriptorBytes is how many bytes of them it takes, all
	// together.
	MaxDescriptorBytes = 16 << 20
)

// descriptors are the DescriptorRecords a Writer was given, encoded as
// frames, and which the current file holds. Guarded by Writer.mu.
type descriptors struct {
	frames map[string][]byte // by hash
	bytes  int
	inFile map[string]bool // written into the current file
}

// AddDescriptors gives the Writer a DescriptorRecord that exchange records
// may refer to by its Hash from now on. It reports whether the Writer
// holds it: false when the Writer holds MaxDescriptorRecords or
// MaxDescriptorBytes already (the records are then written without the
// reference). Adding a Hash again is cheap and reports true.
func (w *Writer) AddDescriptors(d *DescriptorRecord) (bool, error) {
	if d == nil || d.Hash == "" {
		return false, fmt.Errorf("write capture: descriptor record without a hash")
	}
	w.mu.Lock()
	_, have := w.desc.frames[d.Hash]
	full := len(w.desc.frames) >= MaxDescriptorRecords || w.desc.bytes+len(d.Set) > MaxDescriptorBytes
	w.mu.Unlock()
	if have {
		return true, nil
	}
	if full {
		return false, nil
	}
	st := w.encode.Get().(*encodeState)
	defer w.putState(st)
	frame, err := st.frame(KindDescriptors, d)
	if err != nil {
		return false, fmt.Errorf("write capture: encode descriptor record: %w", err)
	}
	frame = append([]byte(nil), frame...) // st's buffer is reused
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, have := w.desc.frames[d.Hash]; have {
		return true, nil
	}
	if len(w.desc.frames) >= MaxDescriptorRecords || w.desc.bytes+len(d.Set) > MaxDescriptorBytes {
		return false, nil
	}
	if w.desc.frames == nil {
		w.desc.frames = map[string][]byte{}
	}
	w.desc.frames[d.Hash] = frame
	w.desc.bytes += len(d.Set)
	return true, nil
}

// descriptorFrame returns the frame of the descriptors hash refers to
// when the current file does not hold it yet, and marks it held; nil
// otherwise (none needed, held already, or never added). Call with w.mu
// held and a file open.
func (w *Writer) descriptorFrame(hash string) []byte {
	if hash == "" || w.desc.inFile[hash] {
		return nil
	}
	frame := w.desc.frames[hash]
	if frame == nil {
		return nil
	}
	if w.desc.inFile == nil {
		w.desc.inFile = map[string]bool{}
	}
	w.desc.inFile[hash] = true
	return frame
}
