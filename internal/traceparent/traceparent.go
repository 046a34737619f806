// Package traceparent reads and writes the W3C Trace Context traceparent
// header (https://www.w3.org/TR/trace-context/#traceparent-header), strictly:
// a value that breaks the grammar is no trace context at all, as the
// specification asks of a receiver.
package traceparent

import (
	"encoding/hex"
	"math/rand/v2"
	"net/http"
)

// Header is the canonical name of the traceparent header.
const Header = "Traceparent"

// length is the length of a version 00 value:
// "00-" + 32 hex + "-" + 16 hex + "-" + 2 hex.
const length = 55

// Sampled is the trace-flags bit that says the caller may have recorded the
// trace.
const Sampled byte = 0x01

// TraceParent is one parsed traceparent value. The zero value is not valid
// (its ids are all zeros); get one from Parse, FromHeader or New.
type TraceParent struct {
	// Version is the version the value was written in. String always
	// writes version 00, the only one this package knows.
	Version byte
	// TraceID identifies the whole trace; never all zeros.
	TraceID [16]byte
	// ParentID identifies the caller's span; never all zeros.
	ParentID [8]byte
	// Flags holds the trace-flags; see Sampled.
	Flags byte
}

// Parse parses a traceparent value. It reports false for anything the
// specification does not allow: a wrong length or separator, upper-case or
// non-hex digits, version ff, an all-zero trace or parent id. A version
// above 00 is read by its first 55 characters, which must then end the
// value or be followed by "-".
func Parse(s string) (TraceParent, bool) {
	var t TraceParent
	if len(s) < length || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return t, false
	}
	var v [1]byte
	if !decodeLower(v[:], s[0:2]) || v[0] == 0xff {
		return t, false
	}
	t.Version = v[0]
	if t.Version == 0 && len(s) != length {
		return t, false
	}
	if len(s) > length && s[length] != '-' {
		return t, false
	}
	var flags [1]byte
	if !decodeLower(t.TraceID[:], s[3:35]) || !decodeLower(t.ParentID[:], s[36:52]) || !decodeLower(flags[:], s[53:55]) {
		return t, false
	}
	t.Flags = flags[0]
	if t.TraceID == ([16]byte{}) || t.ParentID == ([8]byte{}) {
		return t, false
	}
	return t, true
}

// FromHeader parses the traceparent of h. More than one traceparent value
// is no trace context: a receiver cannot tell which one its caller meant.
func FromHeader(h http.Header) (TraceParent, bool) {
	vs := h[Header]
	if len(vs) != 1 {
		return TraceParent{}, false
	}
	return Parse(vs[0])
}

// New returns a traceparent that starts a new sampled trace: random trace
// and parent ids, version 00.
func New() TraceParent {
	t := TraceParent{Flags: Sampled}
	fill(t.TraceID[:])
	fill(t.ParentID[:])
	return t
}

// Child returns the traceparent of a call made from t's span: the same
// trace and flags under a new random parent id, the way an instrumented
// service propagates the trace to its outbound calls.
func (t TraceParent) Child() TraceParent {
	c := TraceParent{TraceID: t.TraceID, Flags: t.Flags}
	fill(c.ParentID[:])
	return c
}

// String writes t as a version 00 value.
func (t TraceParent) String() string {
	var b [length]byte
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], t.TraceID[:])
	b[35] = '-'
	hex.Encode(b[36:52], t.ParentID[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{t.Flags})
	return string(b[:])
}

// TraceIDString returns the trace id as 32 lower-case hex digits.
func (t TraceParent) TraceIDString() string { return hex.EncodeToString(t.TraceID[:]) }

// ParentIDString returns the parent (span) id as 16 lower-case hex digits.
func (t TraceParent) ParentIDString() string { return hex.EncodeToString(t.ParentID[:]) }

// decodeLower decodes s into dst; it reports false unless s is exactly
// 2*len(dst) lower-case hex digits.
func decodeLower(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

// fill fills b with random bytes that are not all zero.
func fill(b []byte) {
	for {
		var nonzero byte
		for i := range b {
			b[i] = byte(rand.Uint32())
			nonzero |= b[i]
		}
		if nonzero != 0 {
			return
		}
	}
}
