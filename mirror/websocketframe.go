package mirror

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// maxControlPayload is the largest payload a control frame may carry.
const maxControlPayload = 125

// wsMessage is one message read off a tapped WebSocket stream: a text or
// binary message, its fragments joined and unmasked, or a close frame.
// Pings and pongs are answered by each end on its own and not reported.
type wsMessage struct {
	op         byte   // opText, opBinary or opClose
	data       []byte // the payload, at most the parser's limit (for a close: the reason)
	size       int64  // the full payload length
	truncated  bool   // data holds only the first bytes of the payload
	compressed bool   // RSV1 was set on its first frame (permessage-deflate)
	code       int    // a close frame's status code; 1005 when it had none
}

// errFrame is wrapped by every protocol error the parser finds.
var errFrame = errors.New("websocket frame")

// frameParser reads the frames of one direction of a WebSocket
// connection as its bytes pass, a chunk at a time, however they are
// split, and reports each complete message to emit. It never changes the
// bytes it is given and holds at most limit bytes of a data message plus
// one control frame. The first protocol error stops it for good (err):
// the stream cannot be followed past it, and the peer will close the
// connection anyway.
type frameParser struct {
	limit    int64 // the most bytes of a data message kept
	extended bool  // RSV1 may be set: permessage-deflate was negotiated
	emit     func(wsMessage)
	err      error

	// The frame being read.
	hdr     [14]byte // its header as it arrives
	hdrLen  int      // bytes of hdr read
	inFrame bool     // the header is complete; payload follows
	fin     bool
	op      byte
	masked  bool
	key     [4]byte
	keyPos  int    // position in key of the next payload byte
	left    uint64 // payload bytes still to come

	// The data message being assembled from its fragments.
	inMessage bool
	msg       wsMessage

	// The control frame being read (its payload is at most 125 bytes).
	ctl    [maxControlPayload]byte
	ctlLen int
}

// feed reads p, which must follow the bytes of the previous call.
func (f *frameParser) feed(p []byte) {
	for len(p) > 0 && f.err == nil {
		if !f.inFrame {
			p = f.readHeader(p)
			continue
		}
		n := min(uint64(len(p)), f.left)
		f.payload(p[:n])
		p = p[n:]
		f.left -= n
		if f.left == 0 {
			f.endFrame()
		}
	}
}

// readHeader takes header bytes from p and returns the rest; once the
// header is complete the frame is checked and begun.
func (f *frameParser) readHeader(p []byte) []byte {
	if f.hdrLen < 2 {
		n := copy(f.hdr[f.hdrLen:2], p)
		f.hdrLen += n
		p = p[n:]
		if f.hdrLen < 2 {
			return p
		}
	}
	need := headerLen(f.hdr[1])
	n := copy(f.hdr[f.hdrLen:need], p)
	f.hdrLen += n
	p = p[n:]
	if f.hdrLen == need {
		f.begin()
	}
	return p
}

// headerLen is the length of a frame header whose second byte is b1.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// begin checks the header just read and starts its frame.
func (f *frameParser) begin() {
	h := f.hdr[:f.hdrLen]
	f.hdrLen = 0
	f.fin = h[0]&0x80 != 0
	rsv1, rsv23 := h[0]&0x40 != 0, h[0]&0x30 != 0
	f.op = h[0] & 0x0F
	f.masked = h[1]&0x80 != 0
	length := uint64(h[1] & 0x7F)
	rest := h[2:]
	switch length {
	case 126:
		length = uint64(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
	case 127:
		length = binary.BigEndian.Uint64(rest)
		rest = rest[8:]
		if length>>63 != 0 {
			f.fail("64-bit length with its high bit set")
			return
		}
	}
	if f.masked {
		copy(f.key[:], rest)
	}
	f.keyPos, f.left = 0, length
	control := f.op >= 0x8
	switch {
	case rsv23:
		f.fail("RSV2 or RSV3 set: no extension defines them here")
	case rsv1 && (!f.extended || control || f.op == opContinuation):
		f.fail("RSV1 set without permessage-deflate on a message's first frame")
	case f.op > opBinary && f.op < opClose || f.op > opPong:
		f.fail(fmt.Sprintf("reserved opcode %#x", f.op))
	case control && !f.fin:
		f.fail("fragmented control frame")
	case control && length > maxControlPayload:
		f.fail(fmt.Sprintf("control frame of %d bytes, over 125", length))
	case f.op == opContinuation && !f.inMessage:
		f.fail("continuation frame outside a message")
	case (f.op == opText || f.op == opBinary) && f.inMessage:
		f.fail("new message before the last one ended")
	}
	if f.err != nil {
		return
	}
	f.inFrame = true
	if control {
		f.ctlLen = 0
	} else if f.op != opContinuation {
		f.inMessage = true
		f.msg = wsMessage{op: f.op, compressed: rsv1}
	}
	if length == 0 {
		f.endFrame()
	}
}

// payload takes payload bytes of the current frame, unmasked into the
// message or control buffer. p itself is left as it is.
func (f *frameParser) payload(p []byte) {
	if f.op >= 0x8 {
		n := copy(f.ctl[f.ctlLen:], p)
		f.unmask(f.ctl[f.ctlLen : f.ctlLen+n])
		f.ctlLen += n
		return
	}
	m := &f.msg
	m.size += int64(len(p))
	room := f.limit - int64(len(m.data))
	if room <= 0 {
		m.truncated = true
		f.keyPos = (f.keyPos + len(p)) % 4
		return
	}
	keep := p
	if int64(len(keep)) > room {
		keep = keep[:room]
		m.truncated = true
	}
	start := len(m.data)
	if m.data == nil && f.fin {
		// A message in one frame: its length is known, so one exact buffer.
		m.data = make([]byte, 0, min(int64(f.left), f.limit))
	}
	m.data = appendBounded(m.data, keep, f.limit)
	f.unmask(m.data[start:])
	f.keyPos = (f.keyPos + len(p) - len(keep)) % 4
}

// unmask unmasks b in place, b being the next payload bytes.
func (f *frameParser) unmask(b []byte) {
	if !f.masked {
		return
	}
	for len(b) > 0 && f.keyPos != 0 { // up to the key's start
		b[0] ^= f.key[f.keyPos]
		f.keyPos = (f.keyPos + 1) & 3
		b = b[1:]
	}
	k := uint64(binary.LittleEndian.Uint32(f.key[:]))
	k |= k << 32
	for len(b) >= 8 { // eight bytes at a time: the key repeats every four
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= f.key[f.keyPos]
		f.keyPos = (f.keyPos + 1) & 3
	}
}

// endFrame finishes the current frame and reports what it completed.
func (f *frameParser) endFrame() {
	f.inFrame = false
	switch {
	case f.op == opClose:
		c := wsMessage{op: opClose, code: 1005}
		b := f.ctl[:f.ctlLen]
		switch {
		case len(b) == 1:
			f.fail("close frame with a 1-byte payload")
			return
		case len(b) >= 2:
			c.code = int(binary.BigEndian.Uint16(b))
			c.data = append([]byte(nil), b[2:]...)
		}
		c.size = int64(len(c.data))
		f.emit(c)
	case f.op >= 0x8:
		// ping or pong: each end answers its own
	case f.fin:
		f.inMessage = false
		m := f.msg
		f.msg = wsMessage{}
		f.emit(m)
	}
}

// fail stops the parser with a protocol error.
func (f *frameParser) fail(why string) {
	f.err = fmt.Errorf("%w: %s", errFrame, why)
}
