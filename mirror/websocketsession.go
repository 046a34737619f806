package mirror

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// wsSession mirrors one WebSocket connection. Its run goroutine owns the
// pairing: it takes the messages the taps hand it, replays the client's
// to each side in order, and pairs the server messages by position. The
// taps never wait for it: they hand a message on if the session's queue
// and byte budget have room, and otherwise the message is dropped,
// counted, and the session stops comparing (positions cannot be paired
// past a lost message).
type wsSession struct {
	p     *Proxy
	rc    *wsCounters
	id    string
	route string
	req   exchange.Request // the upgrade request as recorded
	// header, url and subprotocols build each side's upgrade request.
	header       http.Header
	url          *http.Request // the client's URL, for SetURL
	subprotocols []string

	ctx    context.Context // cancelled when the session ends
	cancel context.CancelFunc

	budget int64        // the most message bytes held at once
	held   atomic.Int64 // message bytes held now (also taken from p.bodies)

	answered atomic.Bool
	primary  chan primaryAnswer // the primary's answer to the upgrade
	ended    chan struct{}      // closed when the client's connection is done

	// The taps' side: under mu so that finish can stop them for good.
	mu         sync.Mutex
	closed     bool // the session is over: the taps hand nothing on
	lost       bool // a message was lost: later ones are counted as dropped
	events     chan wsEvent
	tapMode    atomic.Int32 // tapFollow, tapCount or tapOff: what the taps still do
	lastClient atomic.Int64 // when the client's last data message passed, Unix ns
	opened     atomic.Int64 // when the primary answered the upgrade, Unix ns

	sides   []*wsSide // the candidate, then the secondary if any
	dials   chan *wsSide
	replies chan wsReply
	wg      sync.WaitGroup // the sides' goroutines

	// Owned by run.
	upgradeSent bool
	emitted     int       // server messages compared so far
	prim        []wsEvent // the primary's messages not yet compared
	liveDone    bool      // ended was closed
	// inClient and inServer inflate the messages of each direction when
	// permessage-deflate was negotiated (websocketdeflate.go).
	inClient, inServer inflater
	clientClose        *wsMessage // the client's close frame, if it sent one
	grace              time.Time  // when liveDone: the sides' time to finish
}

// primaryAnswer is the primary's answer to the upgrade.
type primaryAnswer struct {
	status   int
	header   http.Header
	err      error
	at       time.Time
	upgraded bool // it switched to WebSocket
	extended bool // with an extension other than permessage-deflate: not followed
	deflate  deflateParams
}

// wsEvent is a message a tap handed on.
type wsEvent struct {
	client bool // from the client, else from the primary
	m      wsMessage
	at     int64         // when it passed, Unix ns
	lat    time.Duration // a server message: since the client's last
	held   int64         // budget bytes it holds
}

// newSession prepares the mirroring of r's connection.
func (p *Proxy) newSession(r *http.Request, rt *route, rc *wsCounters) *wsSession {
	rec := r.Header.Clone()
	removeHopByHop(rec)
	for _, k := range []string{"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions", "Sec-Websocket-Protocol"} {
		delete(rec, k) // each side's dialer sends its own
	}
	var protos []string
	for _, v := range r.Header["Sec-Websocket-Protocol"] {
		for sp := range strings.SplitSeq(v, ",") {
			if sp = strings.TrimSpace(sp); sp != "" {
				protos = append(protos, sp)
			}
		}
	}
	if len(protos) > 0 {
		rec["Sec-Websocket-Protocol"] = []string{strings.Join(protos, ", ")}
	}
	u := *r.URL
	u.RawQuery = cleanQuery(u.RawQuery)
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	s := &wsSession{
		p:     p,
		rc:    rc,
		id:    p.idPrefix + "-" + strconv.FormatUint(p.seq.Add(1), 10),
		route: rt.name,
		req: exchange.Request{
			Method: r.Method, URL: uri, Host: r.Host, Header: rec, Received: time.Now(),
		},
		header:       p.copyHeader(&job{header: rec, remoteAddr: r.RemoteAddr, host: r.Host, tls: r.TLS != nil}),
		url:          &http.Request{URL: &u},
		subprotocols: protos,
		budget:       wsSessionBytesFactor * max(p.cfg.MaxBodyBytes, p.cfg.MaxResponseBytes),
		primary:      make(chan primaryAnswer, 1),
		ended:        make(chan struct{}),
		events:       make(chan wsEvent, wsQueueMessages),
		dials:        make(chan *wsSide),
		replies:      make(chan wsReply),
	}
	delete(s.header, "Sec-Websocket-Protocol") // sent by the dialer from subprotocols
	s.req.ID = s.id
	s.ctx, s.cancel = context.WithCancel(p.hardCtx)
	s.sides = append(s.sides, newSide(s, p.candidate, exchange.Candidate))
	if p.secondary != nil {
		s.sides = append(s.sides, newSide(s, p.secondary, exchange.Secondary))
	}
	return s
}

// urlFor returns the URL of the session's upgrade at t, routed as the
// primary's (httputil.ProxyRequest.SetURL).
func (s *wsSession) urlFor(t *target) string {
	u := *s.url.URL
	out := &http.Request{URL: &u, Header: http.Header{}}
	(&httputil.ProxyRequest{Out: out}).SetURL(t.url)
	return out.URL.String()
}

// primaryAnswered records the primary's answer to the upgrade (res), or
// why there was none (err), and reports whether the connection is to be
// tapped, and whether permessage-deflate was negotiated. Only the first
// call counts.
func (s *wsSession) primaryAnswered(res *http.Response, err error) (tap, deflate bool) {
	if !s.answered.CompareAndSwap(false, true) {
		return false, false
	}
	a := primaryAnswer{err: err, at: time.Now()}
	if res != nil {
		a.status, a.header = res.StatusCode, res.Header.Clone()
		a.upgraded = res.StatusCode == http.StatusSwitchingProtocols && isWebSocketUpgrade(&http.Request{
			Method: http.MethodGet, Header: http.Header{"Upgrade": res.Header["Upgrade"], "Connection": res.Header["Connection"]},
		})
		a.deflate = negotiatedDeflate(res.Header)
		a.extended = a.deflate.other
		// Set before the taps start, which hand messages to run.
		s.inClient.takeover, s.inServer.takeover = a.deflate.clientTakeover, a.deflate.serverTakeover
		removeHopByHop(a.header)
		cleanUpgradeHeader(a.header)
	}
	s.opened.Store(a.at.UnixNano())
	s.primary <- a // buffered for the one send
	return a.upgraded && !a.extended, a.deflate.on
}

// cleanUpgradeHeader removes from a recorded upgrade answer the headers
// that belong to each connection's own handshake: Sec-WebSocket-Accept
// answers each key, and extensions are never offered on the mirrored
// connections.
func cleanUpgradeHeader(h http.Header) {
	delete(h, "Sec-Websocket-Accept")
	delete(h, "Sec-Websocket-Extensions")
}

// liveEnded tells the session that the client's connection is over.
func (s *wsSession) liveEnded() { close(s.ended) }

// fromClient is the client→primary tap's report of a message.
func (s *wsSession) fromClient(m wsMessage) {
	now := time.Now().UnixNano()
	if m.op != opClose {
		s.lastClient.Store(now)
	}
	s.offer(wsEvent{client: true, m: m, at: now})
}

// fromPrimary is the primary→client tap's report of a message.
func (s *wsSession) fromPrimary(m wsMessage) {
	now := time.Now().UnixNano()
	since := s.lastClient.Load()
	if since == 0 {
		since = s.opened.Load()
	}
	s.offer(wsEvent{m: m, at: now, lat: time.Duration(now - since)})
}

// offer hands ev to the session if it has room, and never waits. A
// message that does not fit is dropped and counted, and the session
// stops comparing.
func (s *wsSession) offer(ev wsEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.lost:
		s.rc.dropped.Add(1)
		return
	case s.closed:
		return
	case ev.client && ev.m.truncated:
		s.loseLocked() // over MaxBodyBytes: it cannot be replayed
		return
	}
	ev.held = int64(cap(ev.m.data))
	if !s.take(ev.held) {
		s.loseLocked()
		return
	}
	select {
	case s.events <- ev:
	default:
		s.give(ev.held)
		s.loseLocked()
	}
}

// loseLocked marks a message lost (counted); s.mu is held.
func (s *wsSession) loseLocked() {
	s.lost = true
	s.tapMode.Store(tapCount)
	s.rc.dropped.Add(1)
}

// unfollowable stops the session when a tap's parser cannot follow the
// stream.
func (s *wsSession) unfollowable(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed && !s.lost {
		s.lost = true
		s.tapMode.Store(tapCount)
		s.rc.unfollowed.Add(1)
		s.p.log.Debug("websocket: stream not followed", "route", s.route, "id", s.id, "err", err)
	}
}

// take reserves n message bytes from the session's budget and the
// proxy's, or reports that either is spent.
func (s *wsSession) take(n int64) bool {
	if s.held.Add(n) > s.budget {
		s.held.Add(-n)
		return false
	}
	if !s.p.bodies.take(n) {
		s.held.Add(-n)
		return false
	}
	return true
}

// give returns n bytes taken before.
func (s *wsSession) give(n int64) {
	if n != 0 {
		s.held.Add(-n)
		s.p.bodies.give(n)
	}
}

// isLost reports whether a message was lost.
func (s *wsSession) isLost() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost
}

// markLost stops comparing, as a lost message does.
func (s *wsSession) markLost() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lost {
		s.lost = true
		s.tapMode.Store(tapCount)
	}
}

// run is the session: it dials the sides, records the upgrade, and pairs
// the messages until the connection ends, the sides are done or a message
// is lost.
func (s *wsSession) run() {
	defer s.p.endSession()
	defer s.finish()
	for _, sd := range s.sides {
		s.wg.Add(1)
		go sd.dial()
	}
	var (
		pa      *primaryAnswer
		pending = len(s.sides) // dials not yet done
		timer   = time.NewTimer(time.Hour)
		ended   = s.ended
	)
	defer timer.Stop()
	for {
		if d, ok := s.nextDeadline(); ok {
			timer.Reset(time.Until(d))
		}
		select {
		case a := <-s.primary:
			pa = &a
		case sd := <-s.dials:
			pending--
			sd.up = true
			if sd.conn != nil {
				s.wg.Add(1)
				go sd.read()
			}
		case ev := <-s.events:
			s.handle(ev)
		case rep := <-s.replies:
			s.reply(rep)
		case <-ended:
			ended = nil // once
			s.closeTaps()
			s.liveDone, s.grace = true, time.Now().Add(s.p.cfg.CandidateTimeout)
			if pa == nil {
				select {
				case a := <-s.primary:
					pa = &a
				default:
					pa = &primaryAnswer{err: errors.New("no answer"), at: time.Now()}
				}
			}
		case <-timer.C:
		case <-s.p.ws.stopping:
			return
		case <-s.ctx.Done():
			return
		}
		if !s.upgradeSent {
			if pa == nil || pending > 0 {
				continue
			}
			s.sendUpgrade(pa)
			cand := s.sides[0]
			if !pa.upgraded {
				return
			}
			if cand.conn == nil {
				s.rc.refused.Add(1)
				return
			}
			if pa.extended {
				s.rc.unfollowed.Add(1)
				return
			}
		}
		if s.isLost() {
			s.rc.dropped.Add(uint64(len(s.prim)))
			return
		}
		now := time.Now()
		s.pair(now, false)
		if s.liveDone {
			for _, sd := range s.sides {
				sd.finishWhenDone(s.emitted+len(s.prim), now, s.grace, s.clientClose)
			}
		}
		if s.liveDone && (s.sidesDone() || !now.Before(s.grace)) {
			s.pair(now, true)
			return
		}
	}
}

// nextDeadline is when run must look again without news: the oldest
// pending message's time to pair, or the end of the sides' grace.
func (s *wsSession) nextDeadline() (time.Time, bool) {
	var d time.Time
	if len(s.prim) > 0 && s.upgradeSent {
		d = time.Unix(0, s.prim[0].at).Add(s.p.cfg.CandidateTimeout)
	}
	if s.liveDone && (d.IsZero() || s.grace.Before(d)) {
		d = s.grace
	}
	return d, !d.IsZero()
}

// closeTaps stops the taps handing messages on and takes what they had
// handed on already.
func (s *wsSession) closeTaps() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	for {
		select {
		case ev := <-s.events:
			s.handle(ev)
		default:
			return
		}
	}
}

// handle takes one message from the taps: a client's is queued for each
// side, a primary's waits for its counterparts.
func (s *wsSession) handle(ev wsEvent) {
	if s.isLost() {
		s.give(ev.held)
		s.rc.dropped.Add(1)
		return
	}
	if ev.m.compressed && !s.inflate(&ev) {
		return
	}
	if ev.client && ev.m.op == opClose {
		m := ev.m // at most 123 bytes, not counted
		s.clientClose = &m
		s.give(ev.held)
		return
	}
	if !ev.client {
		if ev.m.op == opClose {
			s.give(ev.held)
			return // the end of the primary's side; its close is not compared
		}
		if len(s.prim) >= wsQueueMessages {
			// The sides are that far behind: held no longer. (Bytes bound
			// the messages too, but an empty one takes none.)
			s.give(ev.held)
			s.rc.dropped.Add(1)
			s.markLost()
			return
		}
		s.prim = append(s.prim, ev)
		return
	}
	for _, sd := range s.sides {
		sd.enqueue(ev)
	}
	s.give(ev.held) // each side took its own share
}

// inflate replaces ev's compressed payload with its inflated one, and
// reports whether it could: a message that cannot be inflated stops the
// session, as a lost one does.
func (s *wsSession) inflate(ev *wsEvent) bool {
	in, limit := &s.inServer, s.p.cfg.MaxResponseBytes
	if ev.client {
		in, limit = &s.inClient, s.p.cfg.MaxBodyBytes
	}
	m, err := in.inflate(ev.m, limit)
	s.give(ev.held)
	ev.m, ev.held = m, int64(cap(m.data))
	switch {
	case err != nil:
		s.rc.unfollowed.Add(1)
		s.p.log.Debug("websocket: message not inflated", "route", s.route, "id", s.id, "err", err)
	case ev.client && m.truncated:
		s.rc.dropped.Add(1) // over MaxBodyBytes: it cannot be replayed
	case s.take(ev.held):
		return true
	default:
		s.rc.dropped.Add(1)
	}
	ev.held = 0
	s.markLost()
	return false
}

// sidesDone reports whether every side's connection is over.
func (s *wsSession) sidesDone() bool {
	for _, sd := range s.sides {
		if !sd.finished && !sd.lost {
			return false
		}
	}
	return true
}

// finish ends the session: the taps hand nothing more on, the sides'
// connections are closed, and every byte held is given back.
func (s *wsSession) finish() {
	s.mu.Lock()
	s.closed = true
	if !s.lost {
		s.tapMode.Store(tapOff) // a lost session's taps go on counting
	}
	s.mu.Unlock()
	s.cancel()
	for _, sd := range s.sides {
		sd.closeNow()
	}
	s.wg.Wait()
	for {
		select {
		case ev := <-s.events:
			s.give(ev.held)
			continue
		default:
		}
		break
	}
	for _, ev := range s.prim {
		s.give(ev.held)
	}
	s.prim = nil
	for _, sd := range s.sides {
		sd.release()
	}
	if n := s.held.Load(); n != 0 {
		s.p.log.Error("websocket: session ended holding bytes", "id", s.id, "bytes", n) // a bug
		s.give(n)
	}
}

// closedText says why a side has no message: its connection ended after
// n of them, with err.
func closedText(n int, err error) string {
	return fmt.Sprintf("connection ended after %d messages: %v", n, err)
}
