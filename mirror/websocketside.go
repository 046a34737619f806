package mirror

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/wire"
)

// wsSide is the candidate's or the secondary's connection of a session.
// A dial-and-write goroutine upgrades it and writes the client's messages
// from its queue in order; once upgraded, a reader goroutine reads its
// messages for the session. The queue is bounded (wsQueueMessages, and
// the session's bytes): a slow or hung socket fills it, and the session
// drops and counts instead of waiting.
type wsSide struct {
	s    *wsSession
	t    *target
	side exchange.Side
	q    chan wsEvent // the client's messages to write

	// Set by dial before it reports on s.dials; read by run after.
	conn   *websocket.Conn
	dialed exchange.Response // the upgrade's answer

	lastWrite syncTime // when the last client message was written

	closeOnce sync.Once

	// Owned by the session's run goroutine.
	up       bool // dial has reported: conn may be used
	qClosed  bool
	lost     bool // not compared any more: never upgraded, or a message lost
	finished bool // its connection is over
	endErr   error
	got      int       // messages read so far
	first    int       // the position of msgs[0]
	msgs     []wsReply // read, not yet compared
}

// wsReply is a message read from a side, or the end of its connection.
type wsReply struct {
	sd   *wsSide
	m    wsMessage
	lat  time.Duration // since the client's last message was written to it
	held int64
	lost bool  // its bytes did not fit: the side is out of step
	end  error // not nil: the connection is over
}

// expired is a context whose deadline has passed, for failed to call a
// handshake that ran out of time a timeout.
var expired, _ = context.WithDeadline(context.Background(), time.Time{})

// syncTime is a time stamp shared between goroutines.
type syncTime struct {
	mu sync.Mutex
	t  time.Time
}

func (s *syncTime) set(t time.Time) { s.mu.Lock(); s.t = t; s.mu.Unlock() }
func (s *syncTime) get() time.Time  { s.mu.Lock(); defer s.mu.Unlock(); return s.t }

func newSide(s *wsSession, t *target, side exchange.Side) *wsSide {
	return &wsSide{s: s, t: t, side: side, q: make(chan wsEvent, wsQueueMessages)}
}

// dial upgrades the side's connection with the client's request, reports
// on s.dials, then writes the queue to it.
func (sd *wsSide) dial() {
	s, p := sd.s, sd.s.p
	defer s.wg.Done()
	// The handshake's context stays alive with the connection: the
	// transport closes an upgraded connection when its request's context
	// ends. CandidateTimeout bounds the handshake alone.
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	timer := time.AfterFunc(p.cfg.CandidateTimeout, cancel)
	res := exchange.Response{Side: sd.side}
	start := time.Now()
	conn, resp, err := websocket.Dial(ctx, s.urlFor(sd.t), &websocket.DialOptions{
		HTTPClient: &http.Client{
			Transport:     sd.t.up,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		HTTPHeader:      sd.t.header(s.header),
		Host:            sd.t.hostFor(s.req.Host),
		Subprotocols:    s.subprotocols,
		CompressionMode: websocket.CompressionDisabled,
	})
	res.Latency = time.Since(start)
	timedOut := !timer.Stop()
	if sd.side == exchange.Candidate {
		p.candidateDown.record(err)
	}
	if resp != nil {
		removeHopByHop(resp.Header)
		cleanUpgradeHeader(resp.Header)
		res.Status, res.Header = resp.StatusCode, resp.Header
		if resp.Body != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			res.Body, _ = io.ReadAll(resp.Body) // Dial kept at most 1 KiB of it
			res.Size = int64(len(res.Body))
		}
	}
	if err != nil && (resp == nil || resp.StatusCode == http.StatusSwitchingProtocols) {
		// No answer, or a broken upgrade: a failure, not an answer.
		fctx := s.ctx
		if timedOut {
			fctx = expired
		}
		res, _ = p.failed(fctx, res, sd.t, "upgrade", err)
	}
	if conn != nil {
		conn.SetReadLimit(-1) // messages are read bounded, by read
	}
	sd.conn, sd.dialed = conn, res
	select {
	case s.dials <- sd:
	case <-s.ctx.Done():
		if conn != nil {
			_ = conn.CloseNow() // the session never saw it
		}
		return
	}
	if conn != nil {
		sd.write()
	}
}

// write writes the client's messages from the queue until it is closed or
// the session ends; the client's close frame is passed on as a close.
func (sd *wsSide) write() {
	s, p := sd.s, sd.s.p
	for {
		var ev wsEvent
		var ok bool
		select {
		case ev, ok = <-sd.q:
		case <-s.ctx.Done():
			return
		}
		if !ok {
			// The client's connection ended without a close frame: so does
			// this one.
			_ = sd.conn.CloseNow()
			return
		}
		if ev.m.op == opClose {
			s.give(ev.held)
			code := websocket.StatusCode(ev.m.code)
			if ev.m.code == 1005 {
				code = websocket.StatusNormalClosure
			}
			_ = sd.conn.Close(code, string(ev.m.data))
			return
		}
		typ := websocket.MessageBinary
		if ev.m.op == opText {
			typ = websocket.MessageText
		}
		ctx, cancel := context.WithTimeout(s.ctx, p.cfg.CandidateTimeout)
		err := sd.conn.Write(ctx, typ, ev.m.data)
		cancel()
		sd.lastWrite.set(time.Now())
		s.give(ev.held)
		if err != nil {
			return // the connection is closed; read reports its end
		}
	}
}

// read reads the side's messages for the session until its connection
// ends.
func (sd *wsSide) read() {
	s, p := sd.s, sd.s.p
	defer s.wg.Done()
	limit := p.cfg.MaxResponseBytes
	for {
		typ, r, err := sd.conn.Reader(s.ctx)
		if err != nil {
			sd.report(wsReply{sd: sd, end: err})
			return
		}
		data, more, err := readBounded(r, limit, -1)
		size := int64(len(data))
		if more {
			n, cerr := io.Copy(io.Discard, r)
			size += 1 + n // readBounded read one byte past the limit
			err = cerr
		}
		if err != nil {
			sd.report(wsReply{sd: sd, end: err})
			return
		}
		since := sd.lastWrite.get()
		if since.IsZero() {
			since = time.Unix(0, s.opened.Load())
		}
		m := wsMessage{op: opBinary, data: data, size: size, truncated: more}
		if typ == websocket.MessageText {
			m.op = opText
		}
		rep := wsReply{sd: sd, m: m, lat: time.Since(since), held: int64(cap(data))}
		if !s.take(rep.held) {
			rep.lost, rep.held, rep.m.data = true, 0, nil
		}
		if !sd.report(rep) {
			s.give(rep.held)
			return
		}
	}
}

// report hands rep to the session, unless the session has ended.
func (sd *wsSide) report(rep wsReply) bool {
	select {
	case sd.s.replies <- rep:
		return true
	case <-sd.s.ctx.Done():
		return false
	}
}

// enqueue queues a client message for the side, without waiting: when
// its queue or the session's bytes are full, the message is dropped and
// the side is out of step for good.
func (sd *wsSide) enqueue(ev wsEvent) {
	if sd.lost || sd.finished || sd.qClosed {
		return
	}
	if !sd.s.take(ev.held) {
		sd.loseMessage()
		return
	}
	select {
	case sd.q <- ev:
	default:
		sd.s.give(ev.held)
		sd.loseMessage()
	}
}

// loseMessage takes the side out of step: it missed a client message.
// Losing the candidate ends the comparison; losing the secondary only
// its part in it.
func (sd *wsSide) loseMessage() {
	sd.s.rc.dropped.Add(1)
	sd.lost = true
	sd.closeNow()
	if sd.side == exchange.Candidate {
		sd.s.markLost()
	}
}

// finishWhenDone passes the end of the client's connection on to the
// side once it has sent as many messages as the primary did, has ended,
// or is out of time (now past grace): the client's close frame, if it
// sent one, then the end of the queue. Not before: a close handshake
// reads (and discards) what the side still had to say.
func (sd *wsSide) finishWhenDone(total int, now, grace time.Time, close *wsMessage) {
	if sd.qClosed || (sd.got < total && !sd.finished && !sd.lost && now.Before(grace)) {
		return
	}
	if close != nil && !sd.lost && !sd.finished {
		select {
		case sd.q <- wsEvent{client: true, m: *close}:
		default: // full: the writer ends the connection without one
		}
	}
	sd.closeQueue()
}

// closeQueue tells the writer that the client's connection is over.
func (sd *wsSide) closeQueue() {
	if !sd.qClosed {
		sd.qClosed = true
		close(sd.q)
	}
}

// closeNow closes the side's connection, if it was upgraded.
func (sd *wsSide) closeNow() {
	if sd.up && sd.conn != nil {
		sd.closeOnce.Do(func() { _ = sd.conn.CloseNow() })
	}
}

// reply takes a side's message or end.
func (s *wsSession) reply(rep wsReply) {
	sd := rep.sd
	switch {
	case rep.end != nil:
		sd.finished, sd.endErr = true, rep.end
		return
	case sd.lost:
		s.give(rep.held)
		return
	case rep.lost:
		if sd.side == exchange.Candidate {
			s.markLost()
		}
		sd.s.rc.dropped.Add(1)
		sd.lost = true
		sd.closeNow()
		return
	}
	sd.got++
	pos := sd.got
	if pos <= s.emitted {
		s.give(rep.held)
		s.rc.late.Add(1)
		return
	}
	if len(sd.msgs) == 0 {
		sd.first = pos
	}
	sd.msgs = append(sd.msgs, rep)
	if len(sd.msgs) > wsQueueMessages {
		// Far ahead of the primary: held no longer.
		s.rc.dropped.Add(uint64(len(sd.msgs)))
		sd.release()
		sd.lost = true
		sd.closeNow()
		if sd.side == exchange.Candidate {
			s.markLost()
		}
	}
}

// has reports whether the side's message at position pos is in.
func (sd *wsSide) has(pos int) bool {
	return len(sd.msgs) > 0 && sd.first == pos
}

// responseAt takes the side's message at pos for its pair, or says why
// there is none.
func (sd *wsSide) responseAt(pos int) exchange.Response {
	if sd.has(pos) {
		rep := sd.msgs[0]
		sd.msgs = sd.msgs[1:]
		sd.first++
		sd.s.give(rep.held)
		return messageResponse(sd.side, rep.m, rep.lat)
	}
	r := exchange.Response{Side: sd.side}
	switch {
	case sd.finished:
		r.Error = closedText(sd.got, sd.endErr)
		r.ErrorKind = wire.ErrorKind(sd.endErr)
		if websocket.CloseStatus(sd.endErr) != -1 {
			r.ErrorKind = wire.KindOther // it closed: no transport failure
		}
	default:
		r.Timeout, r.ErrorKind = true, wire.KindTimeout
		r.Error = fmt.Sprintf("no message %d within %s", pos, sd.s.p.cfg.CandidateTimeout)
	}
	return r
}

// release gives back the bytes of the messages read and not compared,
// and of those queued and not written.
func (sd *wsSide) release() {
	for _, rep := range sd.msgs {
		sd.s.give(rep.held)
	}
	sd.msgs = nil
	for {
		select {
		case ev, ok := <-sd.q:
			if !ok {
				return
			}
			sd.s.give(ev.held)
		default:
			return
		}
	}
}
