// Package content undoes and redoes HTTP content codings
// (Content-Encoding): gzip, deflate, br and zstd, alone or stacked
// ("gzip, br"). compare decodes answers with it, to diff what was sent
// rather than how it was compressed; capture's redaction decodes bodies,
// redacts them and encodes them back, so that a secret is found inside
// every body compare can read.
//
// Decoding is bounded against decompression bombs: the caller says how
// many bytes one coding may decode to (Decode's limit), at most MaxCodings
// are undone, and a zstd window is at most MaxWindow, so a frame cannot
// make the decoder allocate more than that for its history. Decoders and
// gzip encoders are pooled.
package content

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// Bounds of decoding.
const (
	// MaxCodings bounds the codings undone for one body.
	MaxCodings = 4
	// MaxWindow bounds a zstd window, as RFC 9659 does for HTTP.
	MaxWindow = 8 << 20
)

// Codings lists the codings of Content-Encoding header values in the
// order they were applied, lower-cased, without identity, x-gzip as
// gzip. ok is false when one is unknown or there are more than
// MaxCodings: such a body cannot be decoded.
func Codings(values []string) (codings []string, ok bool) {
	for _, v := range values {
		for c := range strings.SplitSeq(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			switch c {
			case "", "identity":
				continue
			case "x-gzip":
				c = "gzip"
			case "gzip", "deflate", "br", "zstd":
			default:
				return nil, false
			}
			if len(codings) == MaxCodings {
				return nil, false
			}
			codings = append(codings, c)
		}
	}
	return codings, true
}

// Decode undoes codings (as Codings lists them) from data, the last
// applied first; each coding decodes to at most limit bytes. truncated
// says data is only a prefix of the encoded body, as the proxy may keep.
//
// cut reports that out is only a prefix of the content: data was
// truncated (a stream ending early is then no error), or a coding decodes
// to more than limit. err reports data that is not of its coding, is
// corrupt, or ends early although not truncated; out then holds what
// decoded before the error, as a prefix (cut), possibly empty.
func Decode(data []byte, codings []string, truncated bool, limit int) (out []byte, cut bool, err error) {
	out, cut = data, truncated
	for i := len(codings) - 1; i >= 0; i-- {
		next, ncut, nerr := decodeOne(codings[i], out, cut, limit)
		if nerr != nil && err == nil {
			err = fmt.Errorf("decode %s: %w", codings[i], nerr)
		}
		out, cut = next, ncut || nerr != nil
	}
	return out, cut, err
}

// decodeOne undoes one coding, at most limit bytes of it.
func decodeOne(coding string, data []byte, truncated bool, limit int) (out []byte, cut bool, err error) {
	r := bytes.NewReader(data)
	defer r.Reset(nil) // a pooled decoder keeps r until its next body: let it not keep data
	zr, release, err := decoder(coding, r)
	if err != nil {
		return nil, true, err
	}
	defer release()
	out, err = io.ReadAll(io.LimitReader(zr, int64(limit)+1))
	switch {
	case len(out) > limit:
		return out[:limit], true, nil
	case err != nil && truncated && errors.Is(err, io.ErrUnexpectedEOF):
		return out, true, nil
	case err != nil:
		return out, true, err
	}
	return out, truncated, nil
}

// decoder returns a reader that undoes coding, and a function that
// returns pooled state once the reader is done with.
func decoder(coding string, r *bytes.Reader) (io.Reader, func(), error) {
	switch coding {
	case "gzip":
		gz, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if gz == nil {
			gz, err = gzip.NewReader(r)
		} else {
			err = gz.Reset(r)
		}
		if err != nil {
			return nil, nil, err
		}
		return gz, func() { gzipReaders.Put(gz) }, nil
	case "deflate": // zlib-wrapped per RFC 9110, raw deflate in practice too
		if z, err := zlib.NewReader(r); err == nil {
			return z, func() {}, nil
		}
		r.Seek(0, io.SeekStart)
		return flate.NewReader(r), func() {}, nil
	case "br":
		br := brotliReaders.Get().(*brotli.Reader)
		br.Reset(r)
		return br, func() { br.Reset(nil); brotliReaders.Put(br) }, nil
	case "zstd":
		zd, _ := zstdDecoders.Get().(*zstd.Decoder)
		if zd == nil {
			return nil, nil, errors.New("zstd decoder unavailable")
		}
		if err := zd.Reset(r); err != nil {
			zstdDecoders.Put(zd)
			return nil, nil, err
		}
		return zd, func() { zd.Reset(nil); zstdDecoders.Put(zd) }, nil
	}
	return nil, nil, fmt.Errorf("unknown coding %q", coding)
}

// Encode applies codings (as Codings lists them) to plain, in order:
// gzip, deflate (zlib-wrapped, as RFC 9110 says), br and zstd, each at
// its library's default level.
func Encode(plain []byte, codings []string) ([]byte, error) {
	out := plain
	for _, c := range codings {
		var buf bytes.Buffer
		var err error
		switch c {
		case "gzip":
			zw := gzipWriters.Get().(*gzip.Writer)
			zw.Reset(&buf)
			err = write(zw, out)
			zw.Reset(nil)
			gzipWriters.Put(zw)
		case "deflate":
			err = write(zlib.NewWriter(&buf), out)
		case "br":
			err = write(brotli.NewWriter(&buf), out)
		case "zstd":
			var enc *zstd.Encoder
			if enc, err = zstdEncoder(); err == nil {
				buf.Write(enc.EncodeAll(out, nil))
			}
		default:
			err = fmt.Errorf("unknown coding %q", c)
		}
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", c, err)
		}
		out = buf.Bytes()
	}
	return out, nil
}

func write(w io.WriteCloser, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.Close()
}

// The pools. A zstd decoder and a brotli reader hold tables and buffers
// worth reusing, a gzip reader its inflater, a gzip writer far more (its
// deflater is about 800 KiB). The zstd decoder runs synchronously
// (concurrency 1), so it starts no goroutine and needs no Close; the
// zstd encoder is one, shared: EncodeAll may be called concurrently.
var (
	gzipReaders   sync.Pool // *gzip.Reader, made by the first Get's caller
	gzipWriters   = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}
	brotliReaders = sync.Pool{New: func() any { return brotli.NewReader(nil) }}
	zstdDecoders  = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(MaxWindow),
			zstd.WithDecoderMaxWindow(MaxWindow))
		if err != nil {
			return nil
		}
		return d
	}}
	zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
		return zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	})
)
