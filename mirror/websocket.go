package mirror

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"sync/atomic"

	"golang.org/x/net/http/httpguts"
)

// WebSockets. Every upgrade passes through httputil.ReverseProxy, which
// joins the client's connection to the primary's byte for byte; shadow
// adds nothing to it unless the request's route says WebSocket: true.
// Then a session (websocketsession.go) mirrors the connection: the
// primary's connection is wrapped in a tap that reads the frames of both
// directions as their bytes pass (frameParser), after they were written
// or before they are returned, unchanged, and hands each message on
// without waiting; parallel connections to the candidate and the
// secondary (websocketside.go) get the client's messages in order, and
// the server messages of the three are paired by position.

// Bounds of WebSocket mirroring, besides Config.MaxBodyBytes (the largest
// client message replayed), Config.MaxResponseBytes (the most of a
// server message kept) and Config.MaxBufferedBytes (all message bytes
// held, together with request bodies).
const (
	// wsQueueMessages is how many messages may wait at each stage of a
	// session: from the taps to the session, and from the session to each
	// side's socket.
	wsQueueMessages = 256
	// wsSessionBytesFactor times the larger message limit is the most a
	// session holds in messages at once.
	wsSessionBytesFactor = 4
)

// webSockets is the proxy's WebSocket mirroring state.
type webSockets struct {
	proxy    *httputil.ReverseProxy // the primary's, with the tap
	stopping chan struct{}          // closed when Shutdown begins
	active   atomic.Int64           // sessions running
	routes   []wsCounters           // indexed by route.index
}

// wsCounters count one route's mirrored WebSocket connections.
type wsCounters struct {
	connections, refused, skipped, unfollowed atomic.Uint64
	messages, dropped, late, unpaired         atomic.Uint64
}

// WebSocketStats count the mirrored WebSocket connections of one route
// with WebSocket set.
type WebSocketStats struct {
	// Route is the route's name.
	Route string
	// Connections counts the upgrades mirrored: a session was started
	// and the candidate (and secondary) asked to upgrade too.
	Connections uint64
	// Refused counts the Connections where the primary upgraded and the
	// candidate did not: it answered another status, or could not be
	// reached in time. Their upgrade's exchange shows what it answered;
	// no message of theirs is compared.
	Refused uint64
	// Skipped counts the upgrades on the route passed through without a
	// session: as many as Config.Workers were mirrored already, or
	// Shutdown had begun.
	Skipped uint64
	// Unfollowed counts the Connections whose messages could not be
	// followed: the primary negotiated an extension other than
	// permessage-deflate, a message did not inflate, or a frame broke the
	// protocol. They pass through as ever.
	Unfollowed uint64
	// Messages counts the server messages handed to the observer, each
	// with its counterparts from the candidate (and secondary).
	Messages uint64
	// Dropped counts the messages not compared because a bound was
	// reached: a queue full, the bytes held at their limit, a client
	// message over MaxBodyBytes (it cannot be replayed). Pairing is by
	// position, so once a message of a connection is lost to the
	// candidate its later messages are dropped too.
	Dropped uint64
	// Late counts the candidate's and secondary's messages that arrived
	// after the message they pair with was compared without them
	// (CandidateTimeout passed).
	Late uint64
	// Unpaired counts the candidate's and secondary's messages beyond
	// the primary's last: they have nothing to be compared with.
	Unpaired uint64
}

// wsKey is the context key under which an upgrade request carries its
// session to modifyUpgrade.
type wsKey struct{}

// initWebSockets sets up WebSocket mirroring; New calls it once the plain
// ReverseProxy is built.
func (p *Proxy) initWebSockets() {
	ws := &p.ws
	ws.stopping = make(chan struct{})
	ws.routes = make([]wsCounters, len(p.routes))
	rp := *p.plain
	rp.ModifyResponse = p.modifyUpgrade
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if s, _ := r.Context().Value(wsKey{}).(*wsSession); s != nil {
			_, _ = s.primaryAnswered(nil, err)
		}
		p.errorHandler(w, r, err)
	}
	ws.proxy = &rp
}

// stopWebSockets ends every session (Shutdown has begun); the client's
// connections carry on.
func (p *Proxy) stopWebSockets() { close(p.ws.stopping) }

// isWebSocketUpgrade reports whether r asks to upgrade to WebSocket.
func isWebSocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet &&
		httpguts.HeaderValuesContainsToken(r.Header["Upgrade"], "websocket") &&
		httpguts.HeaderValuesContainsToken(r.Header["Connection"], "upgrade")
}

// serveWebSocket serves a WebSocket upgrade on a route that mirrors them:
// the client's connection is the primary's as through ReverseProxy, and a
// session mirrors it when one may start.
func (p *Proxy) serveWebSocket(w http.ResponseWriter, r *http.Request, rt *route) {
	s := p.startSession(r, rt)
	if s == nil {
		p.plain.ServeHTTP(w, r)
		return
	}
	defer s.liveEnded() // deferred: runs on ReverseProxy's abort panic too
	p.ws.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), wsKey{}, s)))
}

// startSession starts mirroring r, or returns nil (counted) when no
// session may start.
func (p *Proxy) startSession(r *http.Request, rt *route) *wsSession {
	rc := &p.ws.routes[rt.index]
	// As enqueue: Shutdown waits for this section before it can see the
	// workers (and sessions, counted in live) all gone.
	p.enqueuing.Add(1)
	defer p.enqueuing.Add(-1)
	if p.closing.Load() {
		rc.skipped.Add(1)
		return nil
	}
	if p.ws.active.Add(1) > int64(p.cfg.Workers) {
		p.ws.active.Add(-1)
		rc.skipped.Add(1)
		return nil
	}
	p.live.Add(1)
	rc.connections.Add(1)
	s := p.newSession(r, rt, rc)
	go s.run()
	return s
}

// endSession is a session's last act.
func (p *Proxy) endSession() {
	p.ws.active.Add(-1)
	if p.live.Add(-1) == 0 {
		close(p.done)
	}
}

// modifyUpgrade records the primary's answer to a mirrored upgrade and,
// when it switched to WebSocket, wraps its connection in the tap.
func (p *Proxy) modifyUpgrade(res *http.Response) error {
	s, _ := res.Request.Context().Value(wsKey{}).(*wsSession)
	if s == nil {
		return nil
	}
	tap, deflate := s.primaryAnswered(res, nil)
	if !tap {
		return nil
	}
	if rwc, ok := res.Body.(io.ReadWriteCloser); ok {
		t := &wsTap{ReadWriteCloser: rwc, s: s}
		t.down = frameParser{limit: p.cfg.MaxResponseBytes, extended: deflate, emit: s.fromPrimary}
		t.up = frameParser{limit: p.cfg.MaxBodyBytes, extended: deflate, emit: s.fromClient}
		res.Body = t
	}
	return nil
}

// wsTap is the primary's side of an upgraded connection as ReverseProxy
// sees it: every byte read from the primary (to the client) and written
// to it (from the client) is passed on unchanged, and read by a frame
// parser after the write or before the return. Each direction is used by
// one of ReverseProxy's two copying goroutines.
type wsTap struct {
	io.ReadWriteCloser
	s        *wsSession
	down, up frameParser
}

// What a tap does with the bytes that pass, as its session says.
const (
	tapFollow = iota // read the messages and hand them on
	tapCount         // a message was lost: only count the later ones (no copy kept)
	tapOff           // the session is over: nothing
)

// follow reports whether f, one of the tap's parsers, is to read on; it
// keeps no copy of a message once only counting is left. Each direction's
// goroutine calls it for its own parser.
func (t *wsTap) follow(f *frameParser) bool {
	switch t.s.tapMode.Load() {
	case tapOff:
		return false
	case tapCount:
		f.limit = 0
	}
	return true
}

// Read reads the primary's bytes for the client.
func (t *wsTap) Read(b []byte) (int, error) {
	n, err := t.ReadWriteCloser.Read(b)
	if n > 0 && t.down.err == nil && t.follow(&t.down) {
		t.down.feed(b[:n])
		if t.down.err != nil {
			t.s.unfollowable(t.down.err)
		}
	}
	return n, err
}

// Write writes the client's bytes to the primary.
func (t *wsTap) Write(b []byte) (int, error) {
	n, err := t.ReadWriteCloser.Write(b)
	if n > 0 && t.up.err == nil && t.follow(&t.up) {
		t.up.feed(b[:n])
		if t.up.err != nil {
			t.s.unfollowable(t.up.err)
		}
	}
	return n, err
}

// CloseWrite half-closes the primary's connection, as ReverseProxy does
// when the client has finished sending.
func (t *wsTap) CloseWrite() error {
	if cw, ok := t.ReadWriteCloser.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return fmt.Errorf("CloseWrite: %w", http.ErrNotSupported)
}

// appendWebSocketStats appends the counters of every route that mirrors
// WebSockets.
func (p *Proxy) appendWebSocketStats(out []WebSocketStats) []WebSocketStats {
	for i := range p.routes {
		if !p.routes[i].websocket {
			continue
		}
		c := &p.ws.routes[i]
		out = append(out, WebSocketStats{
			Route:       p.routes[i].name,
			Connections: c.connections.Load(),
			Refused:     c.refused.Load(),
			Skipped:     c.skipped.Load(),
			Unfollowed:  c.unfollowed.Load(),
			Messages:    c.messages.Load(),
			Dropped:     c.dropped.Load(),
			Late:        c.late.Load(),
			Unpaired:    c.unpaired.Load(),
		})
	}
	return out
}
