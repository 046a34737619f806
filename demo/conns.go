package demo

import (
	"context"
	"errors"
	"net"
	"sync"
)

// errConnsClosed is returned by a dial after closeAll.
var errConnsClosed = errors.New("traffic stopped")

// connSet dials connections for Traffic's own transport and remembers them,
// so that Run can close every one when it returns. Closing idle connections
// through the transport is not enough: a connection whose answer was just
// read goes back to the idle pool a moment after the reader sees the end of
// the body, and would keep its two goroutines until the idle timeout.
type connSet struct {
	dialer net.Dialer

	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

func newConnSet() *connSet {
	return &connSet{conns: make(map[*trackedConn]struct{})}
}

// dial opens a connection and tracks it until it is closed.
func (s *connSet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := s.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, set: s}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return nil, errConnsClosed
	}
	s.conns[tc] = struct{}{}
	return tc, nil
}

// closeAll closes every tracked connection and refuses new ones.
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

// trackedConn leaves its set when closed.
type trackedConn struct {
	net.Conn
	set *connSet
}

func (c *trackedConn) Close() error {
	c.set.mu.Lock()
	delete(c.set.conns, c)
	c.set.mu.Unlock()
	return c.Conn.Close()
}
