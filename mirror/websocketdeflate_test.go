package mirror

import (
	"bytes"
	"compress/flate"
	"net/http"
	"testing"
)

// deflateMessage compresses p as a permessage-deflate sender does: a sync
// flush, its marker removed.
func deflateMessage(t testing.TB, w *flate.Writer, buf *bytes.Buffer, p []byte) []byte {
	buf.Reset()
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(bytes.Clone(buf.Bytes()), []byte{0, 0, 0xff, 0xff})
}

func TestNegotiatedDeflate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ext  string
		want deflateParams
	}{
		{"", deflateParams{}},
		{"permessage-deflate", deflateParams{on: true, clientTakeover: true, serverTakeover: true}},
		{"permessage-deflate; client_no_context_takeover; server_max_window_bits=10", deflateParams{on: true, serverTakeover: true}},
		{"permessage-deflate; server_no_context_takeover; client_no_context_takeover", deflateParams{on: true}},
		{"x-webkit-deflate-frame", deflateParams{other: true}},
	} {
		h := http.Header{}
		if tc.ext != "" {
			h.Set("Sec-WebSocket-Extensions", tc.ext)
		}
		if got := negotiatedDeflate(h); got != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.ext, got, tc.want)
		}
	}
}

// FuzzInflate checks the inflater on any bytes: it never holds more than
// its limit or a window of more than 32 KiB, and messages compressed with
// context takeover inflate back exactly.
func FuzzInflate(f *testing.F) {
	f.Add([]byte("hello hello hello"), []byte{0xf2, 0x48, 0xcd}, uint8(1))
	f.Add([]byte{}, []byte{0x00}, uint8(0))
	f.Add(bytes.Repeat([]byte("abc"), 500), []byte{}, uint8(7))
	f.Fuzz(func(t *testing.T, plain, junk []byte, split uint8) {
		const limit = 1 << 10
		var in inflater
		in.takeover = true
		if m, err := in.inflate(wsMessage{op: opText, data: junk, compressed: true}, limit); err == nil && len(m.data) > limit {
			t.Fatalf("inflated %d bytes, over the limit", len(m.data))
		}
		if len(in.window) > deflateWindow {
			t.Fatalf("window of %d bytes", len(in.window))
		}

		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.BestSpeed)
		var dec inflater
		dec.takeover = true
		cut := int(split) % (len(plain) + 1)
		for _, part := range [][]byte{plain[:cut], plain[cut:], plain} {
			m, err := dec.inflate(wsMessage{op: opBinary, data: deflateMessage(t, w, &buf, part), compressed: true}, limit)
			switch {
			case len(part) > limit:
				if !m.truncated {
					t.Fatalf("%d bytes not marked truncated", len(part))
				}
				return
			case err != nil:
				t.Fatalf("inflate: %v", err)
			case !bytes.Equal(m.data, part):
				t.Fatalf("inflated %q, want %q", m.data, part)
			}
		}
	})
}
