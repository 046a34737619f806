package content

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// encodeWith applies codings with the libraries directly, so that Decode
// is tested against other encoders than Encode.
func encodeWith(t testing.TB, plain []byte, codings ...string) []byte {
	t.Helper()
	for _, c := range codings {
		var buf bytes.Buffer
		var w io.WriteCloser
		var err error
		switch c {
		case "gzip":
			w = gzip.NewWriter(&buf)
		case "deflate":
			w = zlib.NewWriter(&buf)
		case "raw-deflate":
			w, err = flate.NewWriter(&buf, flate.BestSpeed)
		case "br":
			w = brotli.NewWriter(&buf)
		case "zstd":
			w, err = zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
		default:
			t.Fatalf("unknown coding %q", c)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(plain); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		plain = buf.Bytes()
	}
	return plain
}

var all = []string{"gzip", "deflate", "br", "zstd"}

// sample returns n bytes or so of JSON with secrets.
func sample(n int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"token":"sec-%08x"},`, i, uint32(i)*2654435761)
	}
	return []byte(b.String())
}

func TestCodings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		values []string
		want   []string
		ok     bool
	}{
		{nil, nil, true},
		{[]string{"identity"}, nil, true},
		{[]string{"GZIP"}, []string{"gzip"}, true},
		{[]string{"x-gzip"}, []string{"gzip"}, true},
		{[]string{"gzip, br"}, []string{"gzip", "br"}, true},
		{[]string{"deflate", "zstd"}, []string{"deflate", "zstd"}, true},
		{[]string{"gzip, compress"}, nil, false},
		{[]string{"br,br,br,br,br"}, nil, false},
	}
	for _, tt := range tests {
		got, ok := Codings(tt.values)
		if ok != tt.ok || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Codings(%q) = %q, %v; want %q, %v", tt.values, got, ok, tt.want, tt.ok)
		}
	}
}

// TestDecode: every coding and a stack of them decode to the content,
// from other encoders than Encode and from Encode.
func TestDecode(t *testing.T) {
	t.Parallel()
	plain := sample(16 << 10)
	for _, codings := range [][]string{{"gzip"}, {"deflate"}, {"br"}, {"zstd"}, {"gzip", "br"}, {"zstd", "deflate", "gzip"}} {
		ours, err := Encode(plain, codings)
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{"libraries": encodeWith(t, plain, codings...), "Encode": ours} {
			out, cut, err := Decode(data, codings, false, 1<<20)
			if err != nil || cut || !bytes.Equal(out, plain) {
				t.Errorf("%q from %s: %d bytes, cut %v, err %v; want the %d bytes of content", codings, name, len(out), cut, err, len(plain))
			}
		}
	}
	// Raw deflate, without the zlib wrapper RFC 9110 asks for, is common.
	out, _, err := Decode(encodeWith(t, plain, "raw-deflate"), []string{"deflate"}, false, 1<<20)
	if err != nil || !bytes.Equal(out, plain) {
		t.Errorf("raw deflate: %d bytes, %v", len(out), err)
	}
}

// TestDecodeBroken: a truncated body decodes to a prefix, cut, without an
// error; the same bytes not marked truncated, corrupt data and data not
// of its coding are errors, with what did decode as a prefix.
func TestDecodeBroken(t *testing.T) {
	t.Parallel()
	plain := sample(512 << 10) // zstd decodes whole blocks, of up to 128 KiB
	for _, c := range all {
		t.Run(c, func(t *testing.T) {
			t.Parallel()
			enc := encodeWith(t, plain, c)
			half := enc[:len(enc)/2]
			out, cut, err := Decode(half, []string{c}, true, 1<<20)
			if err != nil || !cut || len(out) == 0 || !bytes.HasPrefix(plain, out) {
				t.Errorf("truncated: %d bytes, cut %v, err %v; want a prefix, cut, no error", len(out), cut, err)
			}
			out, cut, err = Decode(half, []string{c}, false, 1<<20)
			if err == nil || !cut || !bytes.HasPrefix(plain, out) {
				t.Errorf("ends early: %d bytes, cut %v, err %v; want an error and a prefix", len(out), cut, err)
			}
			if _, cut, err := Decode([]byte("not compressed at all, not even close"), []string{c}, false, 1<<20); err == nil || !cut {
				t.Errorf("not %s: cut %v, err %v; want an error", c, cut, err)
			}
		})
	}
}

// TestDecodeBounded: a small body that expands past the limit is cut
// there, whatever its coding, and a stack is bounded per coding.
func TestDecodeBounded(t *testing.T) {
	t.Parallel()
	const limit = 256 << 10
	zeros := make([]byte, 2*limit)
	for _, codings := range [][]string{{"gzip"}, {"deflate"}, {"br"}, {"zstd"}, {"gzip", "gzip"}} {
		bomb := encodeWith(t, zeros, codings...)
		if len(bomb) > 4<<10 {
			t.Fatalf("%q of %d zeros is %d bytes: not a bomb", codings, len(zeros), len(bomb))
		}
		out, cut, err := Decode(bomb, codings, false, limit)
		if len(out) != limit || !cut || err != nil {
			t.Errorf("%q: %d bytes, cut %v, err %v; want %d, cut, no error", codings, len(out), cut, err, limit)
		}
	}
}

func TestEncodeUnknown(t *testing.T) {
	t.Parallel()
	if _, err := Encode([]byte("x"), []string{"compress"}); err == nil || !strings.Contains(err.Error(), `unknown coding "compress"`) {
		t.Errorf("err = %v, want unknown coding", err)
	}
}

// FuzzDecode: decoding never panics and stays within the limit, and
// whatever decodes without error encodes and decodes back to itself.
func FuzzDecode(f *testing.F) {
	plain := []byte(`{"token":"sec-1","n":[1,2,3]}`)
	for i, c := range all {
		enc := encodeWith(f, plain, c)
		f.Add(enc, uint8(i), false)
		f.Add(enc[:len(enc)/2], uint8(i), true)
	}
	f.Add([]byte("plain"), uint8(4), false)
	f.Fuzz(func(t *testing.T, data []byte, pick uint8, truncated bool) {
		codings := []string{all[int(pick)%len(all)]}
		if pick >= 128 {
			codings = append(codings, all[int(pick/4)%len(all)])
		}
		const limit = 1 << 20
		out, cut, err := Decode(data, codings, truncated, limit)
		if len(out) > limit {
			t.Fatalf("%q: %d bytes past the limit", codings, len(out))
		}
		if err != nil || cut {
			return
		}
		enc, err := Encode(out, codings)
		if err != nil {
			t.Fatal(err)
		}
		back, cut, err := Decode(enc, codings, false, limit)
		if err != nil || cut || !bytes.Equal(back, out) {
			t.Fatalf("%q: Encode then Decode gives %d bytes (cut %v, %v), want the %d decoded", codings, len(back), cut, err, len(out))
		}
	})
}

func BenchmarkGzip(b *testing.B) {
	plain := sample(16 << 10)[:1024]
	enc := encodeWith(b, plain, "gzip")
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Decode(enc, []string{"gzip"}, false, 1<<20)
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Encode(plain, []string{"gzip"})
		}
	})
}
