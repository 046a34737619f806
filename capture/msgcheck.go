package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// maxNesting bounds how deeply msgpack containers may nest in a record.
// Records are a few levels deep; a hostile file must not drive the decoder
// into deep recursion.
const maxNesting = 32

var errMsgpackTruncated = errors.New("msgpack value runs past the end of the record")

// MaxRecordEntries bounds the map entries and array elements of one record
// (header names and values, diff paths, labels, the fields of its structs).
// Decoding each costs tens of bytes whatever its size in the file, so this
// cap, not the record's length, is what keeps a record of a few bytes per
// entry from decoding into many times its size. The Writer refuses records
// over it and the Reader skips them, naming each in ReadStats.Notes.
const MaxRecordEntries = 1 << 16

// entriesError reports a record with more entries than MaxRecordEntries.
type entriesError struct{ n int }

func (e *entriesError) Error() string {
	return fmt.Sprintf("more than %d map entries and array elements (header names and values, diff paths, ...); it would decode to far more than its size", e.n)
}

// checkMsgpack verifies that b holds exactly one well-formed msgpack value
// whose declared lengths all fit in b, whose nesting stays within
// maxNesting and whose containers hold at most MaxRecordEntries entries in
// all (an *entriesError otherwise). The msgpack decoder pre-allocates from declared lengths (for
// some slice types without any limit), so this walk is what keeps a
// checksum-valid but hostile record from allocating more than a small
// multiple of its own size.
func checkMsgpack(b []byte) error {
	// pending[i] counts the values still expected by the i-th open
	// container; the bottom entry is the single top-level value.
	var stack [maxNesting + 1]int
	depth := 0
	stack[0] = 1
	i := 0
	entries := 0
	for {
		for depth >= 0 && stack[depth] == 0 {
			depth--
		}
		if depth < 0 {
			break
		}
		stack[depth]--
		if i >= len(b) {
			return errMsgpackTruncated
		}
		c := b[i]
		i++
		var size, count int // bytes to skip, values to expect
		switch {
		case c <= 0x7f || c >= 0xe0: // fixint
		case c <= 0x8f: // fixmap
			count = 2 * int(c&0x0f)
		case c <= 0x9f: // fixarray
			count = int(c & 0x0f)
		case c <= 0xbf: // fixstr
			size = int(c & 0x1f)
		case c == 0xc0, c == 0xc2, c == 0xc3: // nil, false, true
		case c == 0xc1:
			return fmt.Errorf("msgpack: reserved byte 0xc1 at offset %d", i-1)
		case c == 0xc4, c == 0xd9: // bin8, str8
			n, err := readLen(b, &i, 1)
			if err != nil {
				return err
			}
			size = n
		case c == 0xc5, c == 0xda: // bin16, str16
			n, err := readLen(b, &i, 2)
			if err != nil {
				return err
			}
			size = n
		case c == 0xc6, c == 0xdb: // bin32, str32
			n, err := readLen(b, &i, 4)
			if err != nil {
				return err
			}
			size = n
		case c == 0xc7, c == 0xc8, c == 0xc9: // ext8/16/32: len, type, data
			n, err := readLen(b, &i, 1<<(c-0xc7))
			if err != nil {
				return err
			}
			size = n + 1
		case c == 0xca: // float32
			size = 4
		case c == 0xcb: // float64
			size = 8
		case c >= 0xcc && c <= 0xcf: // uint8..uint64
			size = 1 << (c - 0xcc)
		case c >= 0xd0 && c <= 0xd3: // int8..int64
			size = 1 << (c - 0xd0)
		case c >= 0xd4 && c <= 0xd8: // fixext 1..16: type, data
			size = 1 + 1<<(c-0xd4)
		case c == 0xdc, c == 0xde: // array16, map16
			n, err := readLen(b, &i, 2)
			if err != nil {
				return err
			}
			count = n
			if c == 0xde {
				count *= 2
			}
		case c == 0xdd, c == 0xdf: // array32, map32
			n, err := readLen(b, &i, 4)
			if err != nil {
				return err
			}
			count = n
			if c == 0xdf {
				count *= 2
			}
		}
		if size > len(b)-i {
			return errMsgpackTruncated
		}
		i += size
		if count > 0 {
			// Every value takes at least one byte.
			if count > len(b)-i {
				return errMsgpackTruncated
			}
			if c >= 0x80 && c <= 0x8f || c == 0xde || c == 0xdf {
				entries += count / 2
			} else {
				entries += count
			}
			if entries > MaxRecordEntries {
				return &entriesError{MaxRecordEntries}
			}
			if depth+1 > maxNesting {
				return fmt.Errorf("msgpack: nesting deeper than %d", maxNesting)
			}
			depth++
			stack[depth] = count
		}
	}
	if i != len(b) {
		return fmt.Errorf("msgpack: %d trailing bytes after the record", len(b)-i)
	}
	return nil
}

// readLen reads an n-byte big-endian length at b[*i:].
func readLen(b []byte, i *int, n int) (int, error) {
	if len(b)-*i < n {
		return 0, errMsgpackTruncated
	}
	var v uint64
	switch n {
	case 1:
		v = uint64(b[*i])
	case 2:
		v = uint64(binary.BigEndian.Uint16(b[*i:]))
	default:
		v = uint64(binary.BigEndian.Uint32(b[*i:]))
	}
	*i += n
	if v > uint64(len(b)) {
		return 0, errMsgpackTruncated
	}
	return int(v), nil
}
