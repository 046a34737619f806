package mirror

import (
	"bytes"
	"io"
	"testing"
)

// FuzzGRPCTimeout: any grpc-timeout value parses or is refused without
// panicking; what formatGRPCTimeout writes parses back to no less.
func FuzzGRPCTimeout(f *testing.F) {
	for _, s := range []string{"1S", "100m", "99999999H", "0n", "", "5", "1x", "123456789S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseGRPCTimeout(s)
		if !ok || d <= 0 {
			return
		}
		back, ok := parseGRPCTimeout(formatGRPCTimeout(d))
		if !ok || back < d {
			t.Fatalf("%q = %v, formatted %q, read back as %v", s, d, formatGRPCTimeout(d), back)
		}
	})
}

// FuzzGRPCBody feeds a gRPC body in arbitrary chunks: the primary reads
// every byte; the copy, when kept, is exactly the body; budget bytes
// taken are all given back or handed to the job; a body of more than one
// message is never kept without streams.
func FuzzGRPCBody(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 3, 'a', 'b', 'c'}, uint8(3), false)
	f.Add([]byte{0, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 1, 'b'}, uint8(5), false)
	f.Add([]byte{0, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 1, 'b'}, uint8(1), true)
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 1}, uint8(2), false)
	f.Fuzz(func(t *testing.T, body []byte, chunk uint8, streams bool) {
		p := &Proxy{cfg: Config{MaxBodyBytes: 64}}
		p.bodies.limit = 128
		j := &job{}
		b := &grpcBody{p: p, j: j, src: io.NopCloser(&chunked{r: bytes.NewReader(body), n: int(chunk%16) + 1}), limit: 64, streams: streams}
		got, err := io.ReadAll(b)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("the primary read %q, %v; want %q", got, err, body)
		}
		_ = b.Close()
		kept := j.body != nil
		if kept && !bytes.Equal(j.body, body) {
			t.Fatalf("kept %q, want %q", j.body, body)
		}
		if kept && len(body) > 64 {
			t.Fatalf("kept %d bytes, over the limit", len(body))
		}
		// enqueue dropped the job (no queue): every byte went back.
		if h := p.bodies.held(); h != 0 {
			t.Fatalf("%d budget bytes still held", h)
		}
		if kept && !streams && countMessages(body) > 1 {
			t.Fatalf("a body of %d messages was kept without streams", countMessages(body))
		}
	})
}

// chunked reads r n bytes at a time.
type chunked struct {
	r *bytes.Reader
	n int
}

func (c *chunked) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// countMessages counts the messages begun in a gRPC body.
func countMessages(b []byte) int {
	n := 0
	for off := 0; off < len(b); n++ {
		if len(b)-off < 5 {
			return n + 1
		}
		off += 5 + int(uint32(b[off+1])<<24|uint32(b[off+2])<<16|uint32(b[off+3])<<8|uint32(b[off+4]))
	}
	return n
}
