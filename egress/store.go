package egress

import (
	"cmp"
	"container/list"
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// Fixed costs charged to the memory budget on top of bodies and headers,
// rough sizes of the structures that hold them.
const (
	traceCost = 256
	callCost  = 384
	slotCost  = 96
)

// store holds, per trace id, every side's outbound calls: the primary's,
// recorded as they are forwarded, so that the other sides' calls can be
// answered from them; and the secondary's and candidate's, so that what
// they would have sent can be compared. It is bounded by Limits: calls per
// trace, bytes held (oldest traces are evicted first) and age. It needs
// no goroutine: expired traces are swept when new ones arrive. It is safe
// for concurrent use.
type store struct {
	lim Limits

	mu     sync.Mutex
	traces map[string]*trace
	age    *list.List // of *trace, oldest first

	// evicted remembers when each trace evicted before it was taken was
	// evicted, for RecordTTL (at most maxEvictedIDs of them), so that the trace's later calls are not recorded in
	// a new trace of the same id: a copy's call would wait for a primary
	// call that is gone, then be reported as one the primary never made,
	// or be paired with a later call of the primary's by a restarted
	// ordinal.
	evicted     map[string]time.Time
	evictedIDs  []string // a ring of maxEvictedIDs
	evictedNext int

	used atomic.Int64 // bytes charged to the budget
	peak atomic.Int64 // the most used has been

	stop     chan struct{} // closed by shutdown: waiting copies give up
	stopOnce sync.Once

	counts counters
}

// newStore returns an empty store bounded by lim; zero fields take their
// documented defaults.
func newStore(lim Limits) *store {
	return &store{
		lim:     lim.withDefaults(),
		traces:  map[string]*trace{},
		evicted: map[string]time.Time{},
		age:     list.New(),
		stop:    make(chan struct{}),
	}
}

// trace is everything held for one trace id.
type trace struct {
	id      string
	created time.Time
	elem    *list.Element
	eps     map[endpointKey]*endpoint
	calls   [numSides][]*call // in arrival order
	fixed   int64             // fixed costs charged for this trace
	broken  [numSides]Reason  // why a side's calls are no longer taken
}

// endpointKey is a call's key without trace and ordinal.
type endpointKey struct {
	dep, method, template string
}

// endpoint holds the calls of one trace to one endpoint.
type endpoint struct {
	next  [numSides]int // the next ordinal per side
	slots []*slot       // the primary's calls, by ordinal
}

// slot is where the primary's call with one key is published and where
// the other sides' calls with that key wait for it.
type slot struct {
	begun  atomic.Bool // the primary has made the call
	done   chan struct{}
	once   sync.Once
	call   *call  // the primary's call, when it was answered whole
	reason string // why there is none, when call is nil
}

// publish fills the slot once and wakes every waiter.
func (s *slot) publish(c *call, reason string) {
	s.once.Do(func() {
		s.call, s.reason = c, reason
		close(s.done)
	})
}

// call is one side's call as it is being recorded. Every change to oc
// happens under mu and only while the call is live; once its trace is
// removed (taken or evicted) it is dead and oc no longer changes.
type call struct {
	mu   sync.Mutex
	oc   exchange.OutboundCall
	dead bool
	held int64 // body bytes charged to the budget
	t    *trace
}

// key is what a call is looked up by.
type key struct {
	trace string
	ep    endpointKey
}

// begin registers a call of side under k and returns it with the slot of
// the primary's call with the same key and ordinal. It reports a refusal
// reason instead when the side has made MaxCallsPerTrace calls in the
// trace or the budget has no room. A refusal breaks the side's ordinals,
// so the side's later calls in the trace are refused too (the primary's:
// recorded no more, and every copy call of the trace refused) rather than
// answered with another call's answer.
func (s *store) begin(side exchange.Side, k key, req *http.Request, path string, now time.Time) (*call, *slot, Reason) {
	si := sideIndex(side)
	header := cloneHeader(req.Header)
	cost := int64(callCost + len(path) + len(req.URL.RawQuery) + headerBytes(header))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	t := s.traces[k.trace]
	if at, ok := s.evicted[k.trace]; ok && t == nil && now.Sub(at) < s.lim.RecordTTL {
		return nil, nil, RefusedEvicted
	}
	if t == nil {
		// Evicting every other trace makes room: Validate keeps the
		// budget above traceCost.
		if !s.reserveLocked(traceCost, nil) {
			return nil, nil, RefusedMemory
		}
		t = &trace{id: k.trace, created: now, eps: map[endpointKey]*endpoint{}, fixed: traceCost}
		t.elem = s.age.PushBack(t)
		s.traces[k.trace] = t
	}
	if r := cmp.Or(t.broken[0], t.broken[si]); r != "" {
		return nil, nil, r
	}
	if len(t.calls[si]) >= s.lim.MaxCallsPerTrace {
		s.breakLocked(t, si, RefusedOverLimit)
		return nil, nil, RefusedOverLimit
	}
	ep := t.eps[k.ep]
	ord := 0
	if ep != nil {
		ord = ep.next[si]
	}
	if ep == nil || ord >= len(ep.slots) {
		cost += slotCost
	}
	if !s.reserveLocked(cost, t) {
		s.breakLocked(t, si, RefusedMemory)
		return nil, nil, RefusedMemory
	}
	t.fixed += cost
	if ep == nil {
		ep = &endpoint{}
		t.eps[k.ep] = ep
	}
	ep.next[si]++
	if ord >= len(ep.slots) { // ordinals grow by one, so ord == len
		ep.slots = append(ep.slots, &slot{done: make(chan struct{})})
	}
	uri := path
	if req.URL.RawQuery != "" {
		uri += "?" + req.URL.RawQuery
	}
	c := &call{t: t, oc: exchange.OutboundCall{
		Side:       side,
		Dependency: k.ep.dep,
		Method:     k.ep.method,
		URL:        uri,
		Template:   k.ep.template,
		Ordinal:    ord,
		Header:     header,
		Started:    now,
	}}
	t.calls[si] = append(t.calls[si], c)
	sl := ep.slots[ord]
	if si == 0 {
		sl.begun.Store(true)
	}
	return c, sl, ""
}

// await waits until the primary's call in sl has been answered and returns
// it, or returns why the caller gets no answer: the primary's call was
// not recorded whole, did not come within MaxWait, or the record went
// away. It also gives up when ctx ends or the store shuts down.
func (s *store) await(ctx context.Context, sl *slot) (*call, Reason) {
	t := time.NewTimer(s.lim.MaxWait)
	defer t.Stop()
	select {
	case <-sl.done:
		if sl.call == nil {
			return nil, Reason(sl.reason)
		}
		return sl.call, ""
	case <-t.C:
		return nil, RefusedNoMatch
	case <-ctx.Done():
		return nil, RefusedCancelled
	case <-s.stop:
		return nil, RefusedShutdown
	}
}

// take removes the trace's calls from the store and returns them, the
// primary's first, then the secondary's and the candidate's, each side's
// in the order they arrived. A call still in flight is returned as far as
// it got. It returns nil for a trace id it holds nothing for.
func (s *store) take(traceID string) []exchange.OutboundCall {
	s.mu.Lock()
	t := s.traces[traceID]
	if t != nil {
		s.removeLocked(t, RefusedTaken)
	}
	s.mu.Unlock()
	if t == nil {
		return nil
	}
	var out []exchange.OutboundCall
	for _, side := range t.calls {
		for _, c := range side {
			out = append(out, c.oc) // dead: no longer written
		}
	}
	return out
}

// breakLocked refuses side si's further calls in t for reason; for the
// primary it also refuses every copy call still waiting in t. s.mu is
// held.
func (s *store) breakLocked(t *trace, si int, reason Reason) {
	t.broken[si] = reason
	if si != 0 {
		return
	}
	for _, ep := range t.eps {
		for _, sl := range ep.slots {
			sl.publish(nil, string(reason))
		}
	}
}

// sweep evicts traces older than RecordTTL. s.mu is held.
func (s *store) sweep(now time.Time) {
	for e := s.age.Front(); e != nil; e = s.age.Front() {
		t := e.Value.(*trace)
		if now.Sub(t.created) < s.lim.RecordTTL {
			return
		}
		s.removeLocked(t, RefusedEvicted)
		s.counts.evictedTTL.Add(1)
	}
}

// removeLocked drops t from the store, releases its bytes and wakes the
// copies still waiting in it. s.mu is held.
func (s *store) removeLocked(t *trace, why Reason) {
	delete(s.traces, t.id)
	if why == RefusedEvicted {
		s.rememberEvictedLocked(t.id, time.Now())
	}
	s.age.Remove(t.elem)
	released := t.fixed
	for _, side := range t.calls {
		for _, c := range side {
			c.mu.Lock()
			c.dead = true
			released += c.held
			c.held = 0
			c.mu.Unlock()
		}
	}
	s.used.Add(-released)
	for _, ep := range t.eps {
		for _, sl := range ep.slots {
			sl.publish(nil, string(why))
		}
	}
}

// maxEvictedIDs bounds the evicted trace ids remembered (about 100 bytes
// each, outside the memory budget).
const maxEvictedIDs = 4096

// rememberEvictedLocked notes that trace id was evicted at now, forgetting
// the oldest id past maxEvictedIDs. s.mu is held.
func (s *store) rememberEvictedLocked(id string, now time.Time) {
	if _, ok := s.evicted[id]; !ok {
		if len(s.evictedIDs) < maxEvictedIDs {
			s.evictedIDs = append(s.evictedIDs, id)
		} else {
			delete(s.evicted, s.evictedIDs[s.evictedNext])
			s.evictedIDs[s.evictedNext] = id
			s.evictedNext = (s.evictedNext + 1) % maxEvictedIDs
		}
	}
	s.evicted[id] = now
}

// reserve charges n bytes for a call of trace t, evicting the oldest other
// traces when the budget is full. It reports false when they cannot make
// room.
func (s *store) reserve(n int64, t *trace) bool {
	for {
		cur := s.used.Load()
		if cur+n > s.lim.MaxMemoryBytes {
			break
		}
		if s.used.CompareAndSwap(cur, cur+n) {
			s.notePeak(cur + n)
			return true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reserveLocked(n, t)
}

// reserveLocked is reserve with s.mu held.
func (s *store) reserveLocked(n int64, t *trace) bool {
	for {
		cur := s.used.Add(n)
		if cur <= s.lim.MaxMemoryBytes {
			s.notePeak(cur)
			return true
		}
		s.used.Add(-n)
		e := s.age.Front()
		if e != nil && e.Value.(*trace) == t {
			e = e.Next()
		}
		if e == nil {
			s.counts.overBudget.Add(1)
			return false
		}
		s.removeLocked(e.Value.(*trace), RefusedEvicted)
		s.counts.evictedMemory.Add(1)
	}
}

func (s *store) notePeak(v int64) {
	for {
		p := s.peak.Load()
		if v <= p || s.peak.CompareAndSwap(p, v) {
			return
		}
	}
}

// release returns n bytes to the budget.
func (s *store) release(n int64) { s.used.Add(-n) }

// shutdown makes every waiting copy give up at once.
func (s *store) shutdown() { s.stopOnce.Do(func() { close(s.stop) }) }

// appendBody records p as the next part of c's request body (or, with
// answer, of its answer body), as far as MaxBodyBytes and the budget
// allow; the size counts all of p either way. It reports whether all of p
// was kept; when not, the body is marked truncated. Nothing is kept once
// the call is dead.
func (s *store) appendBody(c *call, answer bool, p []byte) bool {
	c.mu.Lock()
	dst := &c.oc.Body
	if answer {
		dst = &c.oc.Response.Body
	}
	room := s.lim.MaxBodyBytes - int64(len(*dst))
	c.mu.Unlock()
	keep := p[:min(int64(len(p)), max(room, 0))]
	if len(keep) > 0 && !s.reserve(int64(len(keep)), c.t) {
		keep = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		s.release(int64(len(keep)))
		return false
	}
	*dst = append(*dst, keep...)
	c.held += int64(len(keep))
	whole := len(keep) == len(p)
	if answer {
		c.oc.Response.Size += int64(len(p))
		c.oc.Response.Truncated = c.oc.Response.Truncated || !whole
	} else {
		c.oc.BodySize += int64(len(p))
		c.oc.BodyTruncated = c.oc.BodyTruncated || !whole
	}
	return whole
}

// update changes a live call's record under its lock and reports whether
// it was still live.
func (c *call) update(f func(oc *exchange.OutboundCall)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return false
	}
	f(&c.oc)
	return true
}

// headerBytes estimates what a header map holds.
func headerBytes(h http.Header) int {
	n := 0
	for k, vs := range h {
		n += len(k) + 16
		for _, v := range vs {
			n += len(v) + 16
		}
	}
	return n
}
