package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

// The file format version this package writes. A reader accepts any minor
// version of its own major version: minor versions only add (record kinds,
// fields), and both are skipped by older readers. A new major version means
// old readers cannot make sense of the file and must refuse it.
const (
	FormatMajor = 1
	FormatMinor = 1
)

// MaxRecordBytes bounds one encoded record. The Writer refuses larger
// records and the Reader treats a frame claiming more as damage, so a hostile
// or corrupt length never makes either side allocate more than this.
const MaxRecordBytes = 64 << 20

// File name suffixes: a file being written carries PartialSuffix and is
// renamed to FileSuffix once it is complete. The Reader reads both.
const (
	FileSuffix    = ".usc"
	PartialSuffix = ".partial"
)

// magic opens every capture file. Like PNG's signature it starts with a
// non-ASCII byte and contains CR LF, ^Z and LF, so text-mode mangling and
// truncated transfers are detected at once.
var magic = [8]byte{0x89, 'U', 'S', 'C', '\r', '\n', 0x1a, '\n'}

// preambleLen is the magic followed by the big-endian major and minor
// version (uint16 each).
const preambleLen = len(magic) + 4

// frameMarker opens every frame. 0xC1 is the one byte msgpack never uses as
// a type code, which makes false markers rarer when resynchronising.
var frameMarker = [4]byte{0xC1, 'U', 'S', 'R'}

// A frame header is: marker (4) | kind (1) | payload length (4, big endian)
// | CRC32C of the payload (4) | CRC32C of the preceding 13 header bytes (4).
// The header checksum lets a reader reject a damaged length before trusting
// it; the payload checksum catches damage in the record itself.
const frameHeaderLen = 17

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Kind says what a record holds.
type Kind uint8

// Record kinds. The numbers are part of the file format: never reuse one.
const (
	// kindHeader marks the frame that holds the file's Header; it is never
	// returned as a Record.
	kindHeader Kind = 0
	// KindExchange is a shadow exchange: Record.Exchange is set.
	KindExchange Kind = 1
	// KindSynth is a synthetic step result: Record.Synth is set.
	KindSynth Kind = 2
	// KindDescriptors holds protobuf descriptors that gRPC exchange
	// records refer to: Record.Descriptors is set. Since version 1.1.
	KindDescriptors Kind = 3
)

// String returns the kind's name, for logs and reports.
func (k Kind) String() string {
	switch k {
	case kindHeader:
		return "header"
	case KindExchange:
		return "exchange"
	case KindSynth:
		return "synth"
	case KindDescriptors:
		return "descriptors"
	default:
		return fmt.Sprintf("kind(%d)", uint8(k))
	}
}

// Header describes a capture file: who wrote it, when and where. Every file
// of a rotated series carries its own copy.
type Header struct {
	// Version is the file's format version, "major.minor". The Writer sets
	// it; the Reader reports what the file says.
	Version string `msgpack:"version"`
	// Tool names the program that wrote the file, e.g. "shadow".
	Tool string `msgpack:"tool"`
	// ToolVersion is the writing program's version string.
	ToolVersion string `msgpack:"tool_version"`
	// Host is the machine (or pod) that wrote the file; the Writer fills in
	// os.Hostname when it is empty.
	Host string `msgpack:"host"`
	// Created is when the file was started; the Writer uses the current
	// time when it is zero.
	Created time.Time `msgpack:"created"`
	// Labels are free-form key/value pairs (run id, service, environment).
	Labels map[string]string `msgpack:"labels,omitempty"`
}

// Errors the package returns; test for them with errors.Is.
var (
	// ErrNotCapture means a file does not start with the capture magic.
	ErrNotCapture = errors.New("not a capture file")
	// ErrUnsupportedVersion means a file's major format version is not one
	// this build can read.
	ErrUnsupportedVersion = errors.New("unsupported capture format version")
	// ErrRecordTooLarge means a record encodes to more than MaxRecordBytes.
	ErrRecordTooLarge = errors.New("record too large")
	// ErrClosed means the Writer was already closed.
	ErrClosed = errors.New("capture writer closed")
)

// appendPreamble appends the magic and this build's version.
func appendPreamble(b []byte) []byte {
	b = append(b, magic[:]...)
	b = binary.BigEndian.AppendUint16(b, FormatMajor)
	return binary.BigEndian.AppendUint16(b, FormatMinor)
}

// versionString formats a format version as "major.minor".
func versionString(major, minor uint16) string {
	return fmt.Sprintf("%d.%d", major, minor)
}

// putFrameHeader fills hdr (frameHeaderLen bytes) for a payload.
func putFrameHeader(hdr []byte, kind Kind, payload []byte) {
	copy(hdr[0:4], frameMarker[:])
	hdr[4] = byte(kind)
	binary.BigEndian.PutUint32(hdr[5:9], uint32(len(payload)))
	binary.BigEndian.PutUint32(hdr[9:13], crc32.Checksum(payload, castagnoli))
	binary.BigEndian.PutUint32(hdr[13:17], crc32.Checksum(hdr[:13], castagnoli))
}

// frameHeader is a parsed, checksum-verified frame header.
type frameHeader struct {
	kind    Kind
	length  int64
	dataCRC uint32
}

// parseFrameHeader checks marker, header checksum and length bound. ok is
// false when the bytes are not a trustworthy frame header.
func parseFrameHeader(b []byte) (h frameHeader, ok bool) {
	if len(b) < frameHeaderLen || [4]byte(b[0:4]) != frameMarker {
		return h, false
	}
	if crc32.Checksum(b[:13], castagnoli) != binary.BigEndian.Uint32(b[13:17]) {
		return h, false
	}
	h = frameHeader{
		kind:    Kind(b[4]),
		length:  int64(binary.BigEndian.Uint32(b[5:9])),
		dataCRC: binary.BigEndian.Uint32(b[9:13]),
	}
	if h.length > MaxRecordBytes {
		return h, false
	}
	return h, true
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
