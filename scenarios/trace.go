package scenarios

import (
	"encoding/hex"
	"math/rand/v2"
)

// traceparentHeader is the W3C trace context header every synthetic
// request carries, so that synthetic traffic can be found in tracing.
const traceparentHeader = "Traceparent"

// traceID is a W3C trace id: one per journey.
type traceID [16]byte

// newTrace returns a random trace id (never all zeros, which W3C forbids).
func newTrace() traceID {
	var t traceID
	for t == (traceID{}) {
		putUint64(t[:8], rand.Uint64())
		putUint64(t[8:], rand.Uint64())
	}
	return t
}

// spanID is a W3C parent id: one per step.
type spanID [8]byte

func newSpanID() spanID {
	var s spanID
	for s == (spanID{}) {
		putUint64(s[:], rand.Uint64())
	}
	return s
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}

// String returns the id in hex, as trace tools show it.
func (t traceID) String() string { return hex.EncodeToString(t[:]) }

// String returns the id in hex.
func (s spanID) String() string { return hex.EncodeToString(s[:]) }

// parent returns the traceparent value for a request of span s in trace
// t: version 00, sampled, so that tracing keeps synthetic traffic.
func (t traceID) parent(s spanID) string {
	var b [55]byte
	copy(b[:], "00-")
	hex.Encode(b[3:35], t[:])
	b[35] = '-'
	hex.Encode(b[36:52], s[:])
	copy(b[52:], "-01")
	return string(b[:])
}
