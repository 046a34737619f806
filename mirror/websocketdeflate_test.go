package mirror

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
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

// TestWebSocketDeflate proves a connection on which the client and the
// primary negotiated permessage-deflate is compared on its inflated
// messages, with and without context takeover: the candidate is never
// offered compression, and its messages pair with the primary's.
func TestWebSocketDeflate(t *testing.T) {
	for _, mode := range []websocket.CompressionMode{websocket.CompressionContextTakeover, websocket.CompressionNoContextTakeover} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			col := newCollector()
			primary := wsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: mode, CompressionThreshold: 1})
				if err != nil {
					return
				}
				defer c.CloseNow()
				c.SetReadLimit(-1)
				for {
					typ, msg, err := c.Read(r.Context())
					if err != nil || c.Write(r.Context(), typ, msg) != nil {
						return
					}
				}
			}))
			var offered []string
			var mu sync.Mutex
			cand := wsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				offered = append(offered, r.Header.Get("Sec-WebSocket-Extensions"))
				mu.Unlock()
				wsEchoHandler(t)(w, r)
			}))
			p, addr := shadowFront(t, Config{Primary: primary.URL, Candidate: cand.URL, Routes: wsRoutes, Observer: col}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", &websocket.DialOptions{CompressionMode: mode, CompressionThreshold: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			c.SetReadLimit(-1)
			var want []string
			for i := range 20 {
				m := fmt.Sprintf(`{"n":%d,"text":"the same words again and again, the same words"}`, i)
				if i == 7 {
					m = strings.Repeat("long ", 20000) // over the 32 KiB window
				}
				want = append(want, m)
				if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
					t.Fatal(err)
				}
				if _, got, err := c.Read(ctx); err != nil || string(got) != m {
					t.Fatalf("echo %d: %v", i, err)
				}
			}
			_ = c.Close(websocket.StatusNormalClosure, "")
			if x := col.next(t); x.Primary.Status != 101 || x.Candidate.Status != 101 {
				t.Fatalf("upgrade: %d, %d", x.Primary.Status, x.Candidate.Status)
			}
			for i, w := range want {
				x := col.next(t)
				if string(x.Primary.Body) != w || string(x.Candidate.Body) != w {
					t.Errorf("message %d: primary %.40q, candidate %.40q (%s), want %.40q", i+1, x.Primary.Body, x.Candidate.Body, x.Candidate.Error, w)
				}
			}
			wsSessionsDone(t, p)
			if s := p.Stats().WebSockets[0]; s.Unfollowed != 0 || s.Dropped != 0 || s.Messages != 20 {
				t.Errorf("stats %+v", s)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(offered) != 1 || offered[0] != "" {
				t.Errorf("the candidate was offered extensions %q, want none", offered)
			}
		})
	}
}
