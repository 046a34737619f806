package mirror

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net/http"
	"strings"
)

// permessage-deflate (RFC 7692). When the client and the primary
// negotiate it, the messages the taps read are compressed; the session
// inflates them, off the client's path, to replay the client's to the
// sides (which are never offered compression) and to compare the
// primary's. Each direction has its own inflater: with context takeover
// a message may refer to the previous 32 KiB of its direction's output.

// deflateTail ends a message's compressed bytes: the sync flush marker
// the sender removed (RFC 7692 section 7.2.2), then an empty final
// stored block, so that the reader reaches io.EOF at the message's end.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// deflateWindow is the most a compressed message may refer back to.
const deflateWindow = 32 << 10

// deflateParams is what the primary's answer negotiated.
type deflateParams struct {
	on                             bool // permessage-deflate, and no other extension
	clientTakeover, serverTakeover bool // each direction keeps its window across messages
	other                          bool // an extension other than permessage-deflate
}

// negotiatedDeflate reads the primary's Sec-WebSocket-Extensions.
func negotiatedDeflate(h http.Header) deflateParams {
	var d deflateParams
	for _, v := range h["Sec-Websocket-Extensions"] {
		for ext := range strings.SplitSeq(v, ",") {
			params := strings.Split(ext, ";")
			switch name := strings.TrimSpace(params[0]); {
			case name == "":
			case strings.EqualFold(name, "permessage-deflate") && !d.on:
				d.on, d.clientTakeover, d.serverTakeover = true, true, true
				for _, p := range params[1:] {
					k, _, _ := strings.Cut(strings.TrimSpace(p), "=")
					switch strings.ToLower(strings.TrimSpace(k)) {
					case "client_no_context_takeover":
						d.clientTakeover = false
					case "server_no_context_takeover":
						d.serverTakeover = false
					}
				}
			default:
				d.other = true
			}
		}
	}
	return d
}

// inflater inflates the compressed messages of one direction, in order.
type inflater struct {
	takeover bool
	window   []byte // the last deflateWindow bytes of output, with takeover
	r        io.ReadCloser
}

// errInflate is wrapped by every inflating error.
var errInflate = errors.New("permessage-deflate")

// inflate returns m's payload inflated, at most limit bytes of it. A
// message that inflates past limit is marked truncated; with takeover its
// direction cannot be followed past it (the window is lost), which err
// says.
func (in *inflater) inflate(m wsMessage, limit int64) (wsMessage, error) {
	if m.truncated {
		return m, errors.New("permessage-deflate: a compressed message over the size limit cannot be inflated")
	}
	src := io.MultiReader(bytes.NewReader(m.data), bytes.NewReader(deflateTail))
	if in.r == nil {
		in.r = flate.NewReaderDict(src, in.window)
	} else if err := in.r.(flate.Resetter).Reset(src, in.window); err != nil {
		return m, err
	}
	out, more, err := readBounded(in.r, limit, -1)
	if err != nil {
		return m, errors.Join(errInflate, err)
	}
	m.data, m.truncated, m.compressed = out, more, false
	m.size = int64(len(out))
	if more {
		m.size = 0 // unknown: not inflated to its end
	}
	if in.takeover {
		if more {
			return m, errors.New("permessage-deflate: a message inflated past the size limit; later ones cannot be inflated")
		}
		in.window = append(in.window, out...)
		if n := len(in.window); n > deflateWindow {
			in.window = append(in.window[:0:0], in.window[n-deflateWindow:]...)
		}
	}
	return m, nil
}
