package mirror

import (
	"sync/atomic"
	"time"
)

// Stats are the proxy's counters since it started.
type Stats struct {
	// Received counts client requests.
	Received uint64
	// Mirrored counts copies put on the queue.
	Mirrored uint64
	// Completed counts exchanges handed to the observer.
	Completed uint64
	// Streamed counts the copies among Mirrored whose body was over
	// MaxBodyBytes and streamed through a spool file (MaxStreamBodyBytes).
	Streamed uint64
	// Dropped counts copies not queued because the queue was full.
	Dropped uint64
	// Abandoned counts queued copies cancelled by Shutdown before they
	// finished; they never reach the observer.
	Abandoned uint64
	// Stale counts queued copies that waited longer than MaxQueueWait for
	// a worker (lost to overload, like Dropped): they are not sent and
	// never reach the observer.
	Stale uint64
	// Skipped counts requests not mirrored, by reason: "method" (unsafe
	// method on a route without Unsafe), "route" (a Disabled route),
	// "paused" (Pause; counted only for requests the route and method
	// would have let through), "sample" (left out by SamplePercent),
	// "body_size" (body over MaxStreamBodyBytes, or over MaxBodyBytes when
	// streaming is off), "body_error" (the client's body could not be
	// read), "stream" (a body over MaxBodyBytes that could not be
	// streamed: MaxSpooledBodies all in use, the spool file failed, or the
	// primary stopped reading the body before its end), "upgrade"
	// (protocol upgrades such as WebSocket), "shutdown" (after Shutdown
	// began), "candidate_down" (the candidate refused connections to the
	// last copies: skipped for a second at a time, with one copy probing
	// it, so a dead candidate costs no dial per request), "body_budget"
	// (buffering the body would have taken the bodies held past
	// MaxBufferedBytes), "grpc_stream" (a client-streaming or bidi gRPC
	// call on a route without GRPCStreams). Every reason is present, zero
	// or not.
	Skipped map[string]uint64

	// PrimaryErrors counts primary failures: every 502 the proxy answered
	// because the primary failed before answering, and, for mirrored
	// requests (whose answer is teed), bodies the primary cut short.
	// Clients going away are not primary errors.
	PrimaryErrors uint64
	// CandidateErrors counts candidate answers that failed for a reason
	// other than a timeout.
	CandidateErrors uint64
	// CandidateTimeouts counts candidate answers cut short by
	// CandidateTimeout.
	CandidateTimeouts uint64
	// SecondaryErrors counts secondary answers that failed for a reason
	// other than a timeout.
	SecondaryErrors uint64
	// SecondaryTimeouts counts secondary answers cut short by
	// CandidateTimeout.
	SecondaryTimeouts uint64
	// Failures says why requests to each upstream got no (complete)
	// answer: one entry per upstream and kind of failure seen, the primary
	// first, then the candidates and the secondary, kinds in wire.Kinds
	// order. The first failure of each kind to a candidate or secondary
	// is logged with its reason; later ones are only counted here.
	Failures []Failure
	// WebSockets counts the mirrored WebSocket connections and their
	// messages, one entry per route with WebSocket set, in route order.
	WebSockets []WebSocketStats

	// InFlight is how many client requests are being served now.
	InFlight int64
	// BufferedBytes is how many bytes of request bodies are held in memory
	// for copies now (the capacity of their buffers), at most
	// MaxBufferedBytes.
	BufferedBytes int64
	// QueueDepth is how many copies wait for a worker now.
	QueueDepth int
	// QueueSize is the queue's capacity.
	QueueSize int
	// Workers is the number of workers.
	Workers int

	// Candidates holds each candidate's counters, in the order they are
	// configured, when Config.Candidates lists them; nil with a single
	// Candidate. Then Mirrored counts requests queued for at least one
	// candidate, Dropped those no candidate's queue had room for,
	// Skipped["candidate_down"] those every candidate was down for,
	// Stale those no candidate's copy was sent for, one having waited too
	// long,
	// CandidateErrors and CandidateTimeouts sum all candidates, and
	// QueueDepth and QueueSize are the first candidate's (whose workers
	// also ask the secondary).
	Candidates []CandidateStats
}

// Failure counts the requests to one upstream that failed one way.
type Failure struct {
	// Upstream is "primary", "candidate" or "secondary".
	Upstream string
	// Candidate names the candidate when Upstream is "candidate" and
	// several are configured (Config.Candidates); "" otherwise.
	Candidate string
	// Kind is the kind of failure: one of wire.Kinds (tls, refused,
	// timeout, protocol, reset, other).
	Kind string
	// Count is how many requests failed this way.
	Count uint64
	// Reason is the error of the first of them.
	Reason string
}

// skipReason says why a request was not mirrored; it indexes
// counters.skipped so that counting a skip is one atomic add.
type skipReason int

const (
	skipMethod skipReason = iota
	skipRoute
	skipPaused
	skipSample
	skipBodySize
	skipBodyError
	skipStream
	skipUpgrade
	skipShutdown
	skipCandidateDown
	skipBodyBudget
	skipGRPCStream
	numSkipReasons
)

// skipNames are the Stats.Skipped keys, indexed by skipReason.
var skipNames = [numSkipReasons]string{
	skipMethod:    "method",
	skipRoute:     "route",
	skipPaused:    "paused",
	skipSample:    "sample",
	skipBodySize:  "body_size",
	skipBodyError: "body_error",
	skipStream:    "stream",
	skipUpgrade:   "upgrade",
	skipShutdown:  "shutdown",

	skipCandidateDown: "candidate_down",
	skipBodyBudget:    "body_budget",
	skipGRPCStream:    "grpc_stream",
}

func (s skipReason) String() string { return skipNames[s] }

// counters are updated with atomics only, so the client's path never takes
// a lock to count, and Stats never blocks it.
type counters struct {
	received, mirrored, streamed, completed atomic.Uint64
	dropped, abandoned, stale               atomic.Uint64
	skipped                                 [numSkipReasons]atomic.Uint64
	primaryErrors                           atomic.Uint64
	candidateErrors, candidateTimeouts      atomic.Uint64
	secondaryErrors, secondaryTimeouts      atomic.Uint64
	inFlight                                atomic.Int64
}

// Stats returns a snapshot of the proxy's counters. It takes no lock; the
// fields are read one by one, so a snapshot taken under load may be off by
// the requests that moved between two reads.
func (p *Proxy) Stats() Stats {
	c := &p.counters
	s := Stats{
		Received:          c.received.Load(),
		Mirrored:          c.mirrored.Load(),
		Streamed:          c.streamed.Load(),
		Completed:         c.completed.Load(),
		Dropped:           c.dropped.Load(),
		Abandoned:         c.abandoned.Load(),
		Stale:             c.stale.Load(),
		Skipped:           make(map[string]uint64, numSkipReasons),
		PrimaryErrors:     c.primaryErrors.Load(),
		CandidateErrors:   c.candidateErrors.Load(),
		CandidateTimeouts: c.candidateTimeouts.Load(),
		SecondaryErrors:   c.secondaryErrors.Load(),
		SecondaryTimeouts: c.secondaryTimeouts.Load(),
		InFlight:          c.inFlight.Load(),
		BufferedBytes:     p.bodies.held(),
		QueueDepth:        len(p.queue),
		QueueSize:         cap(p.queue),
		Workers:           p.cfg.Workers,
	}
	for i := range c.skipped {
		s.Skipped[skipNames[i]] = c.skipped[i].Load()
	}
	for _, t := range p.targets() {
		s.Failures = t.up.appendFailures(s.Failures)
	}
	s.Candidates = p.candidateStats()
	s.WebSockets = p.appendWebSocketStats(nil)
	return s
}

// throttle lets an event through at most once per interval, without a
// lock: for log lines that could otherwise come once per request.
type throttle struct{ last atomic.Int64 }

// allow reports whether the event may happen now, and if so records it.
func (t *throttle) allow(every time.Duration) bool {
	now := time.Now().UnixNano()
	last := t.last.Load()
	return now-last >= int64(every) && t.last.CompareAndSwap(last, now)
}
