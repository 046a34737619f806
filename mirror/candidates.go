package mirror

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// Candidate is one version under test when several are compared with the
// primary at once (Config.Candidates). Each has its own queue, workers,
// breaker, timeout, transports and counters, so a dead or slow candidate
// costs the others nothing, and the client nothing either.
type Candidate struct {
	// Name names the candidate in exchanges, reports and the dashboard:
	// letters, digits, '.', '_' and '-', starting with a letter or digit,
	// at most 32 bytes, unique among the candidates. Required.
	Name string `mapstructure:"name"`
	// URL is the candidate's base URL (http or https). Required; it must
	// differ from the primary, the secondary and every other candidate.
	URL string `mapstructure:"url"`
	// Timeout bounds each copy to this candidate, like
	// Config.CandidateTimeout does for a single candidate (the first
	// candidate's also bounds the secondary's copy, which its workers
	// send). 0 means Config.CandidateTimeout.
	Timeout time.Duration `mapstructure:"timeout"`
	// Target says how requests are addressed to the candidate, as
	// Config.CandidateTarget does for a single one: host, preserve_host,
	// host_suffix, set_headers, remove_headers, tls and protocol are keys
	// of the candidate's own entry.
	Target `mapstructure:",squash"`
}

// candidateName is what Candidate.Name may be.
var candidateName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)

// validateCandidates reports every bad field of c.Candidates, each named
// "candidates[1].url"; primary and secondary are the parsed upstreams (nil
// when missing or bad).
func (c Config) validateCandidates(primary, secondary *url.URL) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Candidate != "" {
		bad("candidates", "given with candidate %q; want one of them (candidate for one version, candidates for several)", c.Candidate)
	}
	if !c.CandidateTarget.isZero() {
		bad("candidate_target", "given with candidates; set each candidate's host, tls, protocol ... in its own entry")
	}
	names := map[string]int{}
	var urls []*url.URL
	for i, cd := range c.Candidates {
		field := fmt.Sprintf("candidates[%d]", i)
		switch j, dup := names[cd.Name]; {
		case cd.Name == "":
			bad(field+".name", "required")
		case !candidateName.MatchString(cd.Name):
			bad(field+".name", "%q: want letters, digits, '.', '_' or '-', starting with a letter or digit, at most 32 bytes", cd.Name)
		case dup:
			bad(field+".name", "%q is also candidates[%d]'s name; each candidate needs its own", cd.Name, j)
		default:
			names[cd.Name] = i
		}
		var u *url.URL
		var err error
		if cd.URL == "" {
			bad(field+".url", "required")
		} else if u, err = parseUpstream(cd.URL); err != nil {
			errs = append(errs, fmt.Errorf("%s.url: %w", field, err))
		} else {
			switch {
			case primary != nil && sameUpstream(primary, u):
				bad(field+".url", "%q is the primary; mirroring to it would duplicate live traffic", cd.URL)
			case secondary != nil && sameUpstream(secondary, u):
				bad(field+".url", "%q is the secondary; a candidate must be a version of its own", cd.URL)
			}
			for j, o := range urls {
				if o != nil && sameUpstream(o, u) {
					bad(field+".url", "%q is also candidates[%d]'s url; each candidate needs its own", cd.URL, j)
					break
				}
			}
		}
		urls = append(urls, u)
		if cd.Timeout < 0 {
			bad(field+".timeout", "%s is negative; want 0 (candidate_timeout) or more", cd.Timeout)
		}
		errs = append(errs, cd.Target.validate(field)...)
		if u != nil {
			errs = append(errs, cd.Target.validateFor(field, field+".url", u)...)
		}
	}
	return errs
}

// isZero reports whether t is the zero Target (it holds a map and a
// slice, so it cannot be compared with ==).
func (t Target) isZero() bool {
	return t.Host == "" && !t.PreserveHost && t.HostSuffix == "" && len(t.SetHeaders) == 0 &&
		len(t.RemoveHeaders) == 0 && t.TLS.IsZero() && t.Protocol == ""
}

// candidateList returns the candidates a Proxy for c sends copies to: the
// configured Candidates, or the single Candidate with its
// CandidateTarget, named "".
func (c Config) candidateList() []Candidate {
	if len(c.Candidates) > 0 {
		return c.Candidates
	}
	return []Candidate{{URL: c.Candidate, Timeout: c.CandidateTimeout, Target: c.CandidateTarget}}
}

// Reasons a candidate was not sent a copy (exchange.Response.NotSent).
const (
	notSentQueueFull = "queue_full"
	notSentStale     = "stale"
	notSentDown      = "candidate_down"
)

// lane is one candidate's way to it: its target (with transports and
// breaker), queue and counters. The first lane's queue is Proxy.queue,
// whose workers also send the secondary's copy; the others have workers
// of their own. With a single candidate there is one lane and the
// proxy works exactly as before candidates existed.
type lane struct {
	index   int    // 0: Exchange.Candidate; i: Exchange.OtherCandidates[i-1]
	name    string // "" for the single candidate of Config.Candidate
	t       *target
	timeout time.Duration
	queue   chan *job

	// depth counts the jobs reserved on queue and not yet taken by a
	// worker, at most cap(queue), so that a job is queued on every lane it
	// was reserved on without ever waiting (see enqueueLanes).
	depth atomic.Int32

	queued, dropped, stale, down, errors, timeouts atomic.Uint64

	dropLog     throttle
	loggedDrops atomic.Uint64 // dropped as of the last "queue full" log
}

// CandidateStats are one candidate's counters when several are
// configured (Config.Candidates).
type CandidateStats struct {
	// Name is the candidate's name.
	Name string
	// Queued counts copies put on this candidate's queue.
	Queued uint64
	// Dropped counts copies not queued because this candidate's queue was
	// full (others may have had room).
	Dropped uint64
	// Stale counts queued copies that waited longer than MaxQueueWait.
	Stale uint64
	// Down counts copies not sent while this candidate's breaker was open
	// (it refused connections to the last copies).
	Down uint64
	// Errors counts answers that failed other than by a timeout.
	Errors uint64
	// Timeouts counts answers cut short by the candidate's timeout.
	Timeouts uint64
	// QueueDepth is how many copies wait for this candidate's workers now.
	QueueDepth int
	// QueueSize is the queue's capacity.
	QueueSize int
}

// enqueueLanes queues j on every candidate's lane that has room and whose
// candidate is not known to be down, and reports whether any took it.
// A lane that does not take it marks its answer NotSent. Room is reserved
// on every lane before j is sent to any, so j.parts is final before a
// worker can finish its part. The first lane takes j even when its
// candidate is down, if it has room and a secondary is configured,
// since its workers ask the secondary for every candidate.
func (p *Proxy) enqueueLanes(j *job) bool {
	var took [8]bool
	ok := took[:0]
	if len(p.lanes) > len(took) {
		ok = make([]bool, 0, len(p.lanes))
	}
	parts, sendable, full := 0, 0, 0
	for _, l := range p.lanes {
		a := &j.answers[l.index]
		up := l.t.down.allow()
		if !up && (l.index != 0 || p.secondary == nil) {
			a.NotSent = notSentDown
			l.down.Add(1)
			ok = append(ok, false)
			continue
		}
		if int(l.depth.Add(1)) > cap(l.queue) {
			l.depth.Add(-1)
			a.NotSent = notSentQueueFull
			l.dropped.Add(1)
			full++
			ok = append(ok, false)
			continue
		}
		if !up {
			a.NotSent = notSentDown
			l.down.Add(1)
		} else {
			sendable++
		}
		parts++
		ok = append(ok, true)
	}
	if sendable == 0 {
		for i, l := range p.lanes {
			if ok[i] {
				l.depth.Add(-1)
			}
		}
		if full > 0 {
			p.counters.dropped.Add(1)
		} else {
			p.counters.skipped[skipCandidateDown].Add(1)
		}
		return false
	}
	j.parts.Store(int32(parts))
	for i, l := range p.lanes {
		if ok[i] {
			l.queued.Add(1)
			l.queue <- j // never waits: room was reserved above
		}
	}
	p.counters.mirrored.Add(1)
	return true
}

// workLane runs one extra candidate's copies from its queue until
// Shutdown closes it.
func (p *Proxy) workLane(l *lane) {
	defer p.workerDone()
	for j := range l.queue {
		l.depth.Add(-1)
		a := &j.answers[l.index]
		switch {
		case p.hardCtx.Err() != nil:
			j.cut.Store(true)
		case p.stale(j):
			l.stale.Add(1)
			a.NotSent = notSentStale
			p.logStale()
		default:
			ctx, cancel := context.WithTimeout(p.hardCtx, l.timeout)
			res, cut := p.send(ctx, j, l.t.header(p.copyHeader(j)), l.t, exchange.Candidate)
			cancel()
			if cut {
				j.cut.Store(true)
				break
			}
			l.count(&res, &p.counters)
			res.Injected = p.injected(j, l.t, true)
			*a = res
		}
		p.partDone(j, l)
		p.logLaneDrops(l)
	}
}

// logLaneDrops logs, at most once a second, that copies to l's candidate
// were dropped because its queue was full since the last time. Workers
// log it so the client's path never writes a log line.
func (p *Proxy) logLaneDrops(l *lane) {
	d := l.dropped.Load()
	prev := l.loggedDrops.Load()
	if d == prev || !l.dropLog.allow(time.Second) {
		return
	}
	l.loggedDrops.Store(d)
	p.log.Warn("candidate "+l.name+"'s queue full: its copies dropped (the other candidates' are sent)",
		"candidate", l.name, "dropped", d-prev, "dropped_total", d, "queue_size", cap(l.queue), "workers", p.cfg.Workers)
}

// count counts a failed answer of l's candidate, for it and in all.
func (l *lane) count(res *exchange.Response, c *counters) {
	res.Name = l.name
	countFailure(res, &l.errors, &l.timeouts)
	countFailure(res, &c.candidateErrors, &c.candidateTimeouts)
}

// partDone ends l's part of j. The last part to end joins the exchange:
// it waits for the primary's answer (within l's timeout), hands the
// exchange to the observer if any candidate was asked, and lets go of
// j's body. Nothing waits for the other candidates' answers but the
// part that ends last.
func (p *Proxy) partDone(j *job, l *lane) {
	if j.parts.Add(-1) != 0 {
		return
	}
	defer p.release(j)
	if j.cut.Load() {
		p.counters.abandoned.Add(1) // Shutdown ran out of time for this copy
		return
	}
	sent, stale := false, false
	for i := range j.answers {
		sent = sent || j.answers[i].NotSent == ""
		stale = stale || j.answers[i].NotSent == notSentStale
	}
	if !sent {
		// Every candidate's copy was stale or down: counted per lane, and
		// as stale for the request when it waited too long somewhere.
		if stale {
			p.counters.stale.Add(1)
		}
		return
	}
	ctx, cancel := context.WithTimeout(p.hardCtx, l.timeout)
	defer cancel()
	prim, cut := p.awaitPrimary(ctx, j, l.timeout)
	if cut {
		p.counters.abandoned.Add(1)
		return
	}
	prim.Injected = p.injected(j, p.primary, false)
	x := p.newExchange(j, prim, j.sec, j.answers[0])
	x.OtherCandidates = j.answers[1:]
	p.observe(x)
}

// newLanes builds the lanes of c's candidates; the first one's queue is
// queue.
func newLanes(c Config, queue chan *job, preserveAll bool) []*lane {
	list := c.candidateList()
	lanes := make([]*lane, len(list))
	for i, cd := range list {
		u, _ := parseUpstream(cd.URL) // validated
		l := &lane{index: i, name: cd.Name, t: compileTarget(cd.Target, u, preserveAll),
			timeout: cmp.Or(cd.Timeout, c.CandidateTimeout), queue: queue}
		l.t.timeout, l.t.name = l.timeout, cd.Name
		if i > 0 {
			l.queue = make(chan *job, c.QueueSize)
		}
		lanes[i] = l
	}
	return lanes
}

// candidateStats returns every lane's counters when several candidates
// are configured; nil with one.
func (p *Proxy) candidateStats() []CandidateStats {
	if !p.named {
		return nil
	}
	out := make([]CandidateStats, len(p.lanes))
	for i, l := range p.lanes {
		out[i] = CandidateStats{
			Name: l.name, Queued: l.queued.Load(), Dropped: l.dropped.Load(), Stale: l.stale.Load(),
			Down: l.down.Load(), Errors: l.errors.Load(), Timeouts: l.timeouts.Load(),
			QueueDepth: len(l.queue), QueueSize: cap(l.queue),
		}
	}
	return out
}
