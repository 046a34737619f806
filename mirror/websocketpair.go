package mirror

import (
	"net/http"
	"strconv"
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// Pairing: the primary's n-th server message on a connection with the
// candidate's and the secondary's n-th on theirs, each pair an exchange.

// pair compares the primary's pending messages whose counterparts are
// all in, or whose time to wait for them has passed; final compares them
// all, as the sides are done or out of time.
func (s *wsSession) pair(now time.Time, final bool) {
	if !s.upgradeSent {
		return
	}
	timeout := s.p.cfg.CandidateTimeout
	for len(s.prim) > 0 {
		pos := s.emitted + 1
		due := final || !now.Before(time.Unix(0, s.prim[0].at).Add(timeout))
		for _, sd := range s.sides {
			if !sd.has(pos) && !sd.finished && !sd.lost && !due {
				return
			}
		}
		s.emit(pos)
	}
	if final {
		for _, sd := range s.sides {
			s.rc.unpaired.Add(uint64(len(sd.msgs)))
		}
	}
}

// emit hands the pair at position pos, the first pending, to the
// observer.
func (s *wsSession) emit(pos int) {
	ev := s.prim[0]
	s.prim = s.prim[1:]
	s.emitted = pos
	x := &exchange.Exchange{
		Request: s.req,
		Route:   s.route,
		Primary: messageResponse(exchange.Primary, ev.m, ev.lat),
		WebSocket: &exchange.WebSocket{
			Connection: s.id,
			Message:    pos,
		},
	}
	x.Request.ID = s.id + "." + strconv.Itoa(pos)
	x.Request.Header = s.req.Header.Clone()
	x.Request.Received = time.Unix(0, ev.at)
	for _, sd := range s.sides {
		r := sd.responseAt(pos)
		switch {
		case sd.side == exchange.Candidate:
			x.Candidate = r
		case !sd.lost:
			x.Secondary = &r
		}
	}
	s.give(ev.held) // the observer owns the bytes from here
	s.rc.messages.Add(1)
	s.p.observe(x)
}

// messageResponse records one side's message of a pair.
func messageResponse(side exchange.Side, m wsMessage, lat time.Duration) exchange.Response {
	kind := "binary"
	if m.op == opText {
		kind = "text"
	}
	return exchange.Response{
		Side:      side,
		Status:    http.StatusSwitchingProtocols,
		Header:    http.Header{"Websocket-Message": {kind}},
		Body:      m.data,
		Size:      m.size,
		Truncated: m.truncated,
		Latency:   lat,
	}
}

// sendUpgrade hands the upgrade's exchange to the observer: the primary's
// answer and each side's.
func (s *wsSession) sendUpgrade(pa *primaryAnswer) {
	s.upgradeSent = true
	x := &exchange.Exchange{
		Request:   s.req,
		Route:     s.route,
		WebSocket: &exchange.WebSocket{Connection: s.id},
		Primary: exchange.Response{
			Side: exchange.Primary, Status: pa.status, Header: pa.header,
			Latency: pa.at.Sub(s.req.Received),
		},
	}
	x.Request.Header = s.req.Header.Clone() // the observer owns x; later messages clone s.req's
	if pa.err != nil {
		x.Primary.Error = "primary: " + pa.err.Error()
	}
	for _, sd := range s.sides {
		if sd.side == exchange.Candidate {
			x.Candidate = sd.dialed
		} else {
			r := sd.dialed
			x.Secondary = &r
		}
		if sd.conn == nil {
			sd.lost = true // no messages of its own to compare
		}
	}
	s.p.observe(x)
}
