package mirror

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// encodeFrame writes one RFC 6455 frame; a non-nil key masks it as a
// client must.
func encodeFrame(fin, rsv1 bool, op byte, key []byte, payload []byte) []byte {
	var b bytes.Buffer
	b0 := op
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	b.WriteByte(b0)
	var m byte
	if key != nil {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b.WriteByte(m | byte(n))
	case n <= 0xFFFF:
		b.WriteByte(m | 126)
		_ = binary.Write(&b, binary.BigEndian, uint16(n))
	default:
		b.WriteByte(m | 127)
		_ = binary.Write(&b, binary.BigEndian, uint64(n))
	}
	p := bytes.Clone(payload)
	if key != nil {
		b.Write(key)
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	b.Write(p)
	return b.Bytes()
}

// parseAll feeds in to a parser in chunks of chunk bytes (all at once
// when chunk <= 0) and returns what it reported.
func parseAll(in []byte, chunk int, limit int64) ([]wsMessage, error) {
	var got []wsMessage
	f := frameParser{limit: limit, emit: func(m wsMessage) { got = append(got, m) }}
	if chunk <= 0 {
		chunk = len(in) + 1
	}
	for len(in) > 0 {
		n := min(chunk, len(in))
		f.feed(in[:n])
		in = in[n:]
	}
	return got, f.err
}

func TestFrameParser(t *testing.T) {
	t.Parallel()
	key := []byte{1, 2, 3, 4}
	big := bytes.Repeat([]byte("x"), 70000)
	stream := slices2(
		encodeFrame(true, false, opText, key, []byte(`{"a":1}`)),
		encodeFrame(false, false, opBinary, key, []byte{0, 1}),
		encodeFrame(true, false, opPing, key, []byte("p")), // between fragments
		encodeFrame(true, false, opContinuation, key, []byte{2, 3}),
		encodeFrame(true, false, opText, nil, big),
		encodeFrame(true, false, opClose, key, append([]byte{0x03, 0xE8}, "bye"...)),
	)
	for _, chunk := range []int{0, 1, 3, 7, 1000} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			got, err := parseAll(stream, chunk, 1000)
			if err != nil {
				t.Fatal(err)
			}
			want := []wsMessage{
				{op: opText, data: []byte(`{"a":1}`), size: 7},
				{op: opBinary, data: []byte{0, 1, 2, 3}, size: 4},
				{op: opText, data: big[:1000], size: 70000, truncated: true},
				{op: opClose, data: []byte("bye"), size: 3, code: 1000},
			}
			if len(got) != len(want) {
				t.Fatalf("got %d messages, want %d: %+v", len(got), len(want), got)
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.op != w.op || !bytes.Equal(g.data, w.data) || g.size != w.size || g.truncated != w.truncated || g.code != w.code {
					t.Errorf("message %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func slices2(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestFrameParserErrors(t *testing.T) {
	t.Parallel()
	for name, in := range map[string][]byte{
		"reserved opcode":       encodeFrame(true, false, 0x3, nil, nil),
		"rsv1 without deflate":  encodeFrame(true, true, opText, nil, []byte("x")),
		"fragmented control":    encodeFrame(false, false, opPing, nil, nil),
		"long control":          encodeFrame(true, false, opPong, nil, make([]byte, 126)),
		"orphan continuation":   encodeFrame(true, false, opContinuation, nil, []byte("x")),
		"interrupted message":   slices2(encodeFrame(false, false, opText, nil, []byte("a")), encodeFrame(true, false, opText, nil, []byte("b"))),
		"rsv2":                  {0xA1, 0x00},
		"one-byte close":        encodeFrame(true, false, opClose, nil, []byte{3}),
		"64-bit length too big": {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0},
	} {
		if _, err := parseAll(in, 1, 100); !errors.Is(err, errFrame) {
			t.Errorf("%s: err = %v, want a frame error", name, err)
		}
	}
}

// FuzzFrames checks the parser on any bytes: however the stream is split,
// it reports the same messages and stops at the same error, and keeps no
// more than its limit of any message. Streams built from the input's
// messages (fragmented, masked, with pings between fragments) are read
// back exactly.
func FuzzFrames(f *testing.F) {
	key := []byte{9, 8, 7, 6}
	f.Add(encodeFrame(true, false, opText, key, []byte("hello")), uint8(3))
	f.Add(slices2(encodeFrame(false, false, opBinary, nil, []byte{1}), encodeFrame(true, false, opPing, nil, nil),
		encodeFrame(true, false, opContinuation, nil, []byte{2})), uint8(1))
	f.Add(encodeFrame(true, false, opClose, key, []byte{3, 232, 'o', 'k'}), uint8(2))
	f.Add([]byte{0x82, 126, 0x01, 0x00}, uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		const limit = 64
		whole, werr := parseAll(in, 0, limit)
		split, serr := parseAll(in, int(chunk%17)+1, limit)
		if (werr == nil) != (serr == nil) || len(whole) != len(split) {
			t.Fatalf("split changed the result: %d messages (err %v) vs %d (err %v)", len(whole), werr, len(split), serr)
		}
		for i := range whole {
			w, s := whole[i], split[i]
			if w.op != s.op || !bytes.Equal(w.data, s.data) || w.size != s.size || w.code != s.code || w.truncated != s.truncated {
				t.Fatalf("message %d: whole %+v, split %+v", i, w, s)
			}
			if w.op != opClose && len(w.data) > limit || len(w.data) > maxControlPayload-2 && w.op == opClose {
				t.Fatalf("message %d holds %d bytes, over the limit", i, len(w.data))
			}
			if w.truncated != (w.size > int64(len(w.data))) {
				t.Fatalf("message %d: truncated %v with %d of %d bytes", i, w.truncated, len(w.data), w.size)
			}
		}

		// Build a stream of messages from the input and read it back.
		var stream []byte
		var want [][]byte
		for rest := in; len(rest) >= 2; {
			n := min(int(rest[0]), len(rest)-2)
			frags := int(rest[1]%4) + 1
			msg := rest[2 : 2+n]
			rest = rest[2+n:]
			want = append(want, msg)
			op := byte(opBinary)
			for i := range frags {
				part := msg[i*len(msg)/frags : (i+1)*len(msg)/frags]
				stream = append(stream, encodeFrame(i == frags-1, false, op, key, part)...)
				op = opContinuation
				if i < frags-1 && n%2 == 0 {
					stream = append(stream, encodeFrame(true, false, opPong, key, msg[:min(len(msg), 5)])...)
				}
			}
		}
		got, err := parseAll(stream, int(chunk%23)+1, 300)
		if err != nil || len(got) != len(want) {
			t.Fatalf("built stream: %d messages (err %v), want %d", len(got), err, len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i].data, want[i]) || got[i].truncated {
				t.Fatalf("built message %d: got %q, want %q", i, got[i].data, want[i])
			}
		}
	})
}

// BenchmarkFrameParser measures what the tap adds on the client's path
// for each message: reading a frame of a small JSON message and of 16
// KiB, masked (the client's, read after it was written to the primary)
// and not (the primary's, read before it is written to the client), the
// kept copy included.
//
//	go test -run '^$' -bench BenchmarkFrameParser ./mirror/
func BenchmarkFrameParser(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
		key  []byte
	}{
		{"client-64", 64, []byte{1, 2, 3, 4}}, {"client-16KiB", 16 << 10, []byte{1, 2, 3, 4}},
		{"server-64", 64, nil}, {"server-16KiB", 16 << 10, nil},
	} {
		frame := encodeFrame(true, false, opText, bc.key, bytes.Repeat([]byte{'j'}, bc.size))
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			f := frameParser{limit: 1 << 20, emit: func(wsMessage) { n++ }}
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				f.feed(frame)
			}
			if n != b.N || f.err != nil {
				b.Fatalf("%d messages of %d, err %v", n, b.N, f.err)
			}
		})
	}
}
