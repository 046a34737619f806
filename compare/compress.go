package compare

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

	"github.com/understudy-dev/understudy/exchange"
)

// Bodies are compared by content: a Content-Encoding (gzip, deflate, br,
// zstd, or a list of them such as "gzip, br") is undone first, so that
// two answers that differ only in how they were compressed have equal
// bodies and differ only in the Content-Encoding header.

// maxDecoded bounds a decompressed body, against decompression bombs.
// It also bounds the zstd window, so a frame cannot make the decoder
// allocate more than this for its history.
const maxDecoded = 8 << 20

// maxCodings bounds how many stacked codings are undone for one body.
const maxCodings = 4

// decodeContent undoes the Content-Encoding of an answer. A truncated
// compressed body yields the prefix it decodes to. Unknown codings, more
// than maxCodings, and corrupt data leave the body as it is, so it is
// compared as sent.
func decodeContent(r *exchange.Response) (body []byte, truncated bool, size int64) {
	if len(r.Body) == 0 {
		return r.Body, r.Truncated, r.Size
	}
	codings, ok := contentCodings(r.Header["Content-Encoding"]) // Values, without canonicalizing
	if !ok || len(codings) == 0 {
		return r.Body, r.Truncated, r.Size
	}
	body, truncated = r.Body, r.Truncated
	for i := len(codings) - 1; i >= 0; i-- { // the last one applied is undone first
		out, cut, ok := undo(codings[i], body, truncated)
		if !ok {
			return r.Body, r.Truncated, r.Size
		}
		body, truncated = out, cut
	}
	if truncated {
		return body, true, 0 // the full decoded size is unknown
	}
	return body, false, int64(len(body))
}

// contentCodings lists the codings of Content-Encoding values in the
// order they were applied, without identity. ok is false when one is
// unknown or there are too many.
func contentCodings(values []string) (codings []string, ok bool) {
	for _, v := range values {
		for c := range strings.SplitSeq(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			switch c {
			case "", "identity":
				continue
			case "gzip", "x-gzip", "deflate", "br", "zstd":
			default:
				return nil, false
			}
			if len(codings) == maxCodings {
				return nil, false
			}
			codings = append(codings, c)
		}
	}
	return codings, true
}

// undo decodes one coding, at most maxDecoded bytes of it. cut reports
// that out is a prefix of the content: the input was truncated, or the
// content is larger than maxDecoded. ok is false for corrupt data.
func undo(coding string, data []byte, truncated bool) (out []byte, cut, ok bool) {
	zr, release, err := decoder(coding, bytes.NewReader(data))
	if err != nil {
		return nil, false, false
	}
	defer release()
	out, err = io.ReadAll(io.LimitReader(zr, maxDecoded+1))
	switch {
	case len(out) > maxDecoded:
		return out[:maxDecoded], true, true
	case err != nil && truncated && errors.Is(err, io.ErrUnexpectedEOF):
		return out, true, true
	case err != nil:
		return nil, false, false
	}
	return out, truncated, true
}

// decoder returns a reader that undoes coding, and a function that
// returns pooled state once the reader is done with.
func decoder(coding string, r *bytes.Reader) (io.Reader, func(), error) {
	switch coding {
	case "gzip", "x-gzip":
		gz, err := gzip.NewReader(r)
		return gz, func() {}, err
	case "deflate": // zlib-wrapped per RFC 9110, raw deflate in practice too
		if z, err := zlib.NewReader(r); err == nil {
			return z, func() {}, nil
		}
		r.Seek(0, io.SeekStart)
		return flate.NewReader(r), func() {}, nil
	case "br":
		br := brotliPool.Get().(*brotli.Reader)
		br.Reset(r)
		return br, func() { br.Reset(nil); brotliPool.Put(br) }, nil
	case "zstd":
		zd, _ := zstdPool.Get().(*zstd.Decoder)
		if zd == nil {
			return nil, nil, errors.New("zstd decoder unavailable")
		}
		if err := zd.Reset(r); err != nil {
			zstdPool.Put(zd)
			return nil, nil, err
		}
		return zd, func() { zd.Reset(nil); zstdPool.Put(zd) }, nil
	}
	return nil, nil, fmt.Errorf("unknown coding %q", coding)
}

// Decoders are pooled: a zstd decoder and a brotli reader each hold
// tables and buffers worth reusing. The zstd decoder runs synchronously
// (concurrency 1), so it starts no goroutine and needs no Close.
var (
	brotliPool = sync.Pool{New: func() any { return brotli.NewReader(nil) }}
	zstdPool   = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(maxDecoded),
			zstd.WithDecoderMaxWindow(maxDecoded))
		if err != nil {
			return nil
		}
		return d
	}}
)
