package mirror

import (
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// Thresholds of the candidate's breaker: after breakerThreshold copies in
// a row could not connect to the candidate, copies are skipped for
// breakerBackoff, then one copy probes it.
const (
	breakerThreshold = 5
	breakerBackoff   = time.Second
)

// breaker stops the proxy from sending copies to a candidate that refuses
// connections. A dead candidate would otherwise cost a dial, a failure and
// an exchange per request (a thousand dials a second at a thousand
// requests a second), on the cores the client's requests need. After
// breakerThreshold consecutive connection failures it opens: copies are
// skipped (counted as "candidate_down") for breakerBackoff; then the first
// eligible request is let through as the one probe, and the others are
// skipped until the probe's result closes the breaker (any answer, even an
// error status) or opens it again (another connection failure). A probe
// that is never sent (its copy dropped) is replaced by another after
// breakerBackoff, so the breaker cannot stay stuck.
//
// The zero value is a closed breaker. It takes no lock: the client's path
// reads one atomic while it is closed.
type breaker struct {
	fails     atomic.Int32 // consecutive connection failures
	openUntil atomic.Int64 // unix nanoseconds until which copies are skipped; 0: closed
}

// allow reports whether a copy may be sent now. When the backoff has
// passed, exactly one caller is allowed (the probe) and the backoff starts
// again for the others.
func (b *breaker) allow() bool {
	u := b.openUntil.Load()
	if u == 0 {
		return true
	}
	now := time.Now().UnixNano()
	return now >= u && b.openUntil.CompareAndSwap(u, now+int64(breakerBackoff))
}

// record takes the result of one copy to the candidate: err is the error
// of its request, nil when an answer (any status) came back.
func (b *breaker) record(err error) {
	if !connectFailed(err) {
		// Written only when set, so that a healthy candidate's copies do not
		// keep writing a cache line the client's path reads.
		if b.fails.Load() != 0 {
			b.fails.Store(0)
		}
		if b.openUntil.Load() != 0 {
			b.openUntil.Store(0)
		}
		return
	}
	if b.fails.Add(1) >= breakerThreshold {
		b.openUntil.Store(time.Now().Add(breakerBackoff).UnixNano())
	}
}

// connectFailed reports whether err says that no connection to the
// upstream could be made (refused, unreachable, dial timeout), as opposed
// to an upstream that was reached and then failed or was slow.
func connectFailed(err error) bool {
	var op *net.OpError
	return err != nil && errors.As(err, &op) && op.Op == "dial"
}
