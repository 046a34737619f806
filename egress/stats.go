package egress

import (
	"sync/atomic"

	"github.com/understudy-dev/understudy/exchange"
)

// Reason says why a secondary or candidate call was refused (answered 503)
// instead of being answered from the primary's call. It is the value of
// exchange.OutboundCall.Refused and of the X-Shadow-Egress-Refused header
// of the refusal.
type Reason string

// The reasons for refusing a call. None of them ever lets a call through
// to the real dependency.
const (
	// RefusedNoTrace: the call carried no valid traceparent, so it cannot
	// be matched with any primary call.
	RefusedNoTrace Reason = "no_trace"
	// RefusedNoMatch: the primary made no call with the same key, or did
	// not finish it, within Limits.MaxWait.
	RefusedNoMatch Reason = "no_match"
	// RefusedIncomplete: the primary's call was made but its answer was
	// not recorded whole (larger than Limits.MaxBodyBytes, cut off,
	// upgraded to another protocol, or out of memory budget).
	RefusedIncomplete Reason = "incomplete"
	// RefusedOverLimit: the side, or the primary, had made
	// Limits.MaxCallsPerTrace calls in this trace already.
	RefusedOverLimit Reason = "over_limit"
	// RefusedMemory: the memory budget had no room to record a call of
	// the side, or of the primary, in this trace.
	RefusedMemory Reason = "memory"
	// RefusedEvicted: the primary's record was evicted (Limits.RecordTTL
	// or Limits.MaxMemoryBytes) before the call could be answered.
	RefusedEvicted Reason = "evicted"
	// RefusedTaken: the trace was taken (Egress.Take) before the call
	// could be answered: the exchange was already complete.
	RefusedTaken Reason = "taken"
	// RefusedUnknownDependency: a forward-proxy call for a host that is no
	// configured dependency.
	RefusedUnknownDependency Reason = "unknown_dependency"
	// RefusedUnsupported: a CONNECT tunnel or protocol upgrade, which
	// cannot be recorded or replayed.
	RefusedUnsupported Reason = "unsupported"
	// RefusedCancelled: the caller gave up while waiting.
	RefusedCancelled Reason = "cancelled"
	// RefusedShutdown: egress was shutting down.
	RefusedShutdown Reason = "shutdown"
)

// reasons lists every Reason, in the order of counters.refused.
var reasons = [...]Reason{
	RefusedNoTrace, RefusedNoMatch, RefusedIncomplete, RefusedOverLimit,
	RefusedMemory, RefusedEvicted, RefusedTaken, RefusedUnknownDependency,
	RefusedUnsupported, RefusedCancelled, RefusedShutdown,
}

func reasonIndex(r Reason) int {
	for i, x := range reasons {
		if x == r {
			return i
		}
	}
	return len(reasons) - 1 // unreachable: every Reason is listed
}

// numSides is how many sides there are; sideIndex numbers them.
const numSides = 3

func sideIndex(s exchange.Side) int {
	switch s {
	case exchange.Primary:
		return 0
	case exchange.Secondary:
		return 1
	default:
		return 2
	}
}

// Stats counts what egress did since it started.
type Stats struct {
	// Primary counts the primary's calls.
	Primary PrimaryStats `json:"primary"`
	// Secondary and Candidate count the calls of the sides that are never
	// forwarded.
	Secondary CopyStats `json:"secondary"`
	Candidate CopyStats `json:"candidate"`
	// EvictedTTL and EvictedMemory count traces dropped before they were
	// taken: older than Limits.RecordTTL, or pushed out by newer ones when
	// Limits.MaxMemoryBytes was reached.
	EvictedTTL    int64 `json:"evicted_ttl"`
	EvictedMemory int64 `json:"evicted_memory"`
	// OverBudget counts records (or parts of bodies) that did not fit in
	// the memory budget even after evicting every other trace.
	OverBudget int64 `json:"over_budget"`
	// Traces is how many traces are held now.
	Traces int `json:"traces"`
	// BytesHeld is what the held records are charged to the memory
	// budget now; PeakBytes the most it has been. Neither exceeds
	// Limits.MaxMemoryBytes.
	BytesHeld int64 `json:"bytes_held"`
	PeakBytes int64 `json:"peak_bytes"`
}

// PrimaryStats counts the primary's calls. Every one of them is forwarded
// to the real dependency, whether or not it is recorded.
type PrimaryStats struct {
	// Forwarded counts calls sent on to the dependency.
	Forwarded int64 `json:"forwarded"`
	// Recorded counts calls recorded whole, ready to answer the other
	// sides.
	Recorded int64 `json:"recorded"`
	// Untraced counts calls without a valid traceparent: forwarded, not
	// recorded.
	Untraced int64 `json:"untraced"`
	// NotRecorded counts traced calls that were forwarded but could not be
	// recorded whole: over MaxCallsPerTrace or the memory budget, a body
	// over MaxBodyBytes, an answer cut off or upgraded.
	NotRecorded int64 `json:"not_recorded"`
	// Failed counts calls the dependency did not answer (answered 502 by
	// egress).
	Failed int64 `json:"failed"`
	// Refused counts forward-proxy requests egress does not forward: for
	// hosts that are no configured dependency, and CONNECT tunnels.
	Refused int64 `json:"refused"`
}

// CopyStats counts the calls of a side that is never forwarded.
type CopyStats struct {
	// Calls counts every call that arrived.
	Calls int64 `json:"calls"`
	// Answered counts calls answered from the primary's record.
	Answered int64 `json:"answered"`
	// Refused counts the calls answered 503 instead, by Reason.
	Refused map[Reason]int64 `json:"refused,omitempty"`
}

// counters are the live counts behind Stats.
type counters struct {
	forwarded, recorded, untraced, notRecorded, failed, proxyRefused atomic.Int64
	calls, answered                                                  [numSides]atomic.Int64
	refused                                                          [numSides][len(reasons)]atomic.Int64
	evictedTTL, evictedMemory, overBudget                            atomic.Int64
}

func (c *counters) refuse(side exchange.Side, r Reason) {
	c.refused[sideIndex(side)][reasonIndex(r)].Add(1)
}

func (c *counters) copyStats(side exchange.Side) CopyStats {
	i := sideIndex(side)
	out := CopyStats{Calls: c.calls[i].Load(), Answered: c.answered[i].Load()}
	for j, r := range reasons {
		if n := c.refused[i][j].Load(); n > 0 {
			if out.Refused == nil {
				out.Refused = map[Reason]int64{}
			}
			out.Refused[r] = n
		}
	}
	return out
}

// stats returns a snapshot of the counts and of what s holds.
func (s *store) stats() Stats {
	c := &s.counts
	s.mu.Lock()
	traces := len(s.traces)
	s.mu.Unlock()
	return Stats{
		Primary: PrimaryStats{
			Forwarded:   c.forwarded.Load(),
			Recorded:    c.recorded.Load(),
			Untraced:    c.untraced.Load(),
			NotRecorded: c.notRecorded.Load(),
			Failed:      c.failed.Load(),
			Refused:     c.proxyRefused.Load(),
		},
		Secondary:     c.copyStats(exchange.Secondary),
		Candidate:     c.copyStats(exchange.Candidate),
		EvictedTTL:    c.evictedTTL.Load(),
		EvictedMemory: c.evictedMemory.Load(),
		OverBudget:    c.overBudget.Load(),
		Traces:        traces,
		BytesHeld:     s.used.Load(),
		PeakBytes:     s.peak.Load(),
	}
}
