package compare

import (
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/content"
)

// Bodies are compared by content: a Content-Encoding (gzip, deflate, br,
// zstd, or a list of them such as "gzip, br") is undone first (package
// internal/content, which capture's redaction shares), so that two
// answers that differ only in how they were compressed have equal bodies
// and differ only in the Content-Encoding header.

// maxDecoded bounds a decompressed body, against decompression bombs.
const maxDecoded = 8 << 20

// decodeContent undoes the Content-Encoding of an answer. A truncated
// compressed body yields the prefix it decodes to. Unknown codings, more
// than content.MaxCodings, and corrupt data leave the body as it is, so
// it is compared as sent.
func decodeContent(r *exchange.Response) (body []byte, truncated bool, size int64) {
	if len(r.Body) == 0 {
		return r.Body, r.Truncated, r.Size
	}
	codings, ok := content.Codings(r.Header["Content-Encoding"]) // Values, without canonicalizing
	if !ok || len(codings) == 0 {
		return r.Body, r.Truncated, r.Size
	}
	body, truncated, err := content.Decode(r.Body, codings, r.Truncated, maxDecoded)
	switch {
	case err != nil:
		return r.Body, r.Truncated, r.Size
	case truncated:
		return body, true, 0 // the full decoded size is unknown
	}
	return body, false, int64(len(body))
}
