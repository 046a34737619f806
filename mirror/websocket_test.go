package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/testio"
)

// wsRoutes mirrors WebSockets on /ws.
var wsRoutes = []Route{{Name: "ws", Path: "/ws", WebSocket: true}}

// wsEchoHandler is a coder/websocket server: it answers each message
// with the same message ("close:CODE" closes with CODE; "push:N" sends N
// messages of its own first; "big:N" answers N bytes), and answers pings
// on its own.
func wsEchoHandler(t testing.TB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(-1)
		ctx := r.Context()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			s := string(msg)
			switch {
			case strings.HasPrefix(s, "close:"):
				code, _ := strconv.Atoi(s[len("close:"):])
				_ = c.Close(websocket.StatusCode(code), "bye")
				return
			case strings.HasPrefix(s, "push:"):
				n, _ := strconv.Atoi(s[len("push:"):])
				for i := range n {
					if c.Write(ctx, websocket.MessageText, []byte("push "+strconv.Itoa(i))) != nil {
						return
					}
				}
			case strings.HasPrefix(s, "big:"):
				n, _ := strconv.Atoi(s[len("big:"):])
				msg = bytes.Repeat([]byte{'b'}, n)
			}
			if c.Write(ctx, typ, msg) != nil {
				return
			}
		}
	}
}

// wsServer starts h on loopback; Cleanup closes it and its hijacked
// connections.
func wsServer(t testing.TB, h http.Handler) *httptest.Server {
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = discardLogLogger
	s.Start()
	t.Cleanup(func() { closeServer(s) })
	return s
}

// recordingConn records what the client reads off its connection.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	got bytes.Buffer
}

func (c *recordingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.got.Write(b[:n])
	c.mu.Unlock()
	return n, err
}

// afterHead returns what was read after the 101 answer's head: the
// frames. The head differs between connections (Sec-WebSocket-Accept
// answers each one's random key); the frames must not.
func (c *recordingConn) afterHead() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.got.Bytes()
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return bytes.Clone(b[i+4:])
	}
	return nil
}

// wsDial dials addr's /ws, recording what the client reads.
func wsDial(t testing.TB, ctx context.Context, addr string) (*websocket.Conn, *recordingConn) {
	t.Helper()
	rec := &recordingConn{}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, a)
		if err != nil {
			return nil, err
		}
		rec.Conn = c
		return rec, nil
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c.SetReadLimit(-1)
	return c, rec
}

// wsView is what a client saw of a scripted conversation.
type wsView struct {
	messages  []string // type and content (long ones by length)
	pings     int      // pings answered
	closeCode websocket.StatusCode
	frames    []byte // every byte after the head
}

// wsScript talks to addr as a client of a WebSocket service: text and
// binary echoes, pings between them, a long run of round trips on one
// connection, a message larger than a socket buffer, server pushes, and a
// close with a code of the server's.
func wsScript(t *testing.T, addr string) wsView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, rec := wsDial(t, ctx, addr)
	defer c.CloseNow()

	var v wsView
	got := make(chan string, 1024)
	readErr := make(chan error, 1)
	go func() {
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				readErr <- err
				close(got)
				return
			}
			s := string(msg)
			if len(msg) > 64 {
				s = fmt.Sprintf("%d bytes", len(msg))
			}
			got <- typ.String() + " " + s
		}
	}()
	next := func() string {
		select {
		case m := <-got:
			return m
		case <-ctx.Done():
			t.Fatal("no message")
			return ""
		}
	}
	send := func(typ websocket.MessageType, msg []byte, replies int) {
		if err := c.Write(ctx, typ, msg); err != nil {
			t.Fatalf("write: %v", err)
		}
		for range replies {
			v.messages = append(v.messages, next())
		}
	}
	send(websocket.MessageText, []byte("hello"), 1)
	send(websocket.MessageBinary, []byte{0, 1, 2, 0xff}, 1)
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	v.pings++
	for i := range 200 { // a long-lived connection
		send(websocket.MessageText, []byte(`{"n":`+strconv.Itoa(i)+`}`), 1)
	}
	send(websocket.MessageBinary, bytes.Repeat([]byte{7}, 3<<20), 1) // over a socket buffer: back-pressure
	send(websocket.MessageText, []byte("big:200000"), 1)
	send(websocket.MessageText, []byte("push:3"), 4)
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	v.pings++
	send(websocket.MessageText, []byte("close:4001"), 0)
	for range got {
	}
	v.closeCode = websocket.CloseStatus(<-readErr)
	v.frames = rec.afterHead()
	return v
}

// hungServer accepts connections and reads the upgrade request, then
// neither answers nor reads until the test ends: a hung candidate socket.
func hungServer(t *testing.T) string {
	stop := make(chan struct{})
	addr := rawServer(t, func(c net.Conn) { <-stop })
	t.Cleanup(func() { close(stop) }) // before rawServer's cleanup waits for it
	return addr
}

// upgradedHungServer upgrades every connection, then never reads.
func upgradedHungServer(t *testing.T) string {
	stop := make(chan struct{})
	s := wsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		<-stop
	}))
	t.Cleanup(func() { close(stop) })
	return s.URL
}

// TestWebSocketPassThrough proves the client's WebSocket connection is the
// primary's byte for byte, as through a plain httputil.ReverseProxy,
// whether the route mirrors WebSockets or not, with a candidate that
// hangs in its handshake or upgrades and never reads.
func TestWebSocketPassThrough(t *testing.T) {
	primary := wsServer(t, wsEchoHandler(t))
	h, tr := plainProxy(t, primary.URL)
	t.Cleanup(tr.CloseIdleConnections)
	plain := wsScript(t, serveFront(t, h, nil))
	if len(plain.messages) != 208 || plain.closeCode != 4001 || plain.pings != 2 {
		t.Fatalf("through a plain proxy: %d messages, close %v, %d pings", len(plain.messages), plain.closeCode, plain.pings)
	}
	for _, tc := range []struct {
		name      string
		candidate func(*testing.T) string
		routes    []Route
	}{
		{"not mirrored, hung candidate", hungServer, nil},
		{"mirrored, candidate hung in its handshake", hungServer, wsRoutes},
		{"mirrored, candidate never reads", upgradedHungServer, wsRoutes},
		{"mirrored, echo candidate", func(t *testing.T) string { return wsServer(t, wsEchoHandler(t)).URL }, wsRoutes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, addr := shadowFront(t, Config{Primary: primary.URL, Candidate: tc.candidate(t), Routes: tc.routes}, nil)
			got := wsScript(t, addr)
			if !bytes.Equal(got.frames, plain.frames) {
				t.Errorf("the client read %d bytes after the head, the plain proxy's client %d; not the same bytes", len(got.frames), len(plain.frames))
			}
			if strings.Join(got.messages, "\n") != strings.Join(plain.messages, "\n") || got.closeCode != plain.closeCode || got.pings != plain.pings {
				t.Errorf("the client saw %d messages, close %v; through a plain proxy %d, close %v", len(got.messages), got.closeCode, len(plain.messages), plain.closeCode)
			}
			s := p.Stats()
			if tc.routes == nil {
				if s.Skipped["upgrade"] != 1 || len(s.WebSockets) != 0 {
					t.Errorf("skipped %v, websockets %+v; want one upgrade skipped", s.Skipped, s.WebSockets)
				}
			} else if s.WebSockets[0].Connections != 1 {
				t.Errorf("websocket stats %+v, want one connection mirrored", s.WebSockets[0])
			}
		})
	}
}

// wsSessionsDone waits until p runs no WebSocket session.
func wsSessionsDone(t *testing.T, p *Proxy) {
	t.Helper()
	testio.Eventually(t, "websocket sessions to end", func() bool { return p.ws.active.Load() == 0 })
}

// TestWebSocketMirror proves the client's messages reach the candidate and
// the secondary in order and that the server messages are paired by
// position: the upgrade first, then one exchange per primary message with
// the others' message at the same position.
func TestWebSocketMirror(t *testing.T) {
	col := newCollector()
	primary := wsServer(t, wsEchoHandler(t))
	cand := wsServer(t, wsEchoHandler(t))
	sec := wsServer(t, wsEchoHandler(t))
	p, addr := shadowFront(t, Config{Primary: primary.URL, Candidate: cand.URL, Secondary: sec.URL, Routes: wsRoutes, Observer: col}, nil)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _ := wsDial(t, ctx, addr)
	defer c.CloseNow()
	msgs := []string{"one", "two", "push:2", "three"}
	var want []string
	for _, m := range msgs {
		if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
		n := 1
		if m == "push:2" {
			n = 3
		}
		for range n {
			_, got, err := c.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, string(got))
		}
	}
	if err := c.Write(ctx, websocket.MessageBinary, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	want = append(want, "\x01\x02")
	_ = c.Close(websocket.StatusNormalClosure, "")

	up := col.next(t)
	if up.WebSocket == nil || up.WebSocket.Message != 0 || up.Primary.Status != 101 || up.Candidate.Status != 101 || up.Secondary.Status != 101 {
		t.Fatalf("first exchange %+v, want the upgrade with 101 on every side", up)
	}
	if up.Request.URL != "/ws" || up.Request.Method != "GET" || up.Route != "ws" {
		t.Errorf("upgrade request %s %s route %q", up.Request.Method, up.Request.URL, up.Route)
	}
	for i, w := range want {
		x := col.next(t)
		if x.WebSocket == nil || x.WebSocket.Message != i+1 || x.WebSocket.Connection != up.Request.ID {
			t.Fatalf("exchange %d: websocket %+v", i+1, x.WebSocket)
		}
		for _, r := range []*exchange.Response{&x.Primary, &x.Candidate, x.Secondary} {
			if string(r.Body) != w || r.Error != "" {
				t.Errorf("message %d from the %s: %q (%s), want %q", i+1, r.Side, r.Body, r.Error, w)
			}
		}
		if kind := x.Primary.Header.Get("Websocket-Message"); (i == len(want)-1) != (kind == "binary") {
			t.Errorf("message %d is %s", i+1, kind)
		}
	}
	wsSessionsDone(t, p)
	col.none(t)
	if s := p.Stats().WebSockets[0]; s.Messages != uint64(len(want)) || s.Dropped != 0 || s.Refused != 0 {
		t.Errorf("stats %+v, want %d messages", s, len(want))
	}
	if n := p.Stats().BufferedBytes; n != 0 {
		t.Errorf("%d bytes held after the session", n)
	}
}

// TestWebSocketCandidateRefuses proves a candidate that answers the
// upgrade with another status is counted and shown: the upgrade's
// exchange holds its answer, and no message is compared.
func TestWebSocketCandidateRefuses(t *testing.T) {
	col := newCollector()
	primary := wsServer(t, wsEchoHandler(t))
	cand := wsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no websockets here", http.StatusForbidden)
	}))
	p, addr := shadowFront(t, Config{Primary: primary.URL, Candidate: cand.URL, Routes: wsRoutes, Observer: col}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _ := wsDial(t, ctx, addr)
	if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != "hi" {
		t.Fatalf("client got %q, %v", got, err)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	x := col.next(t)
	if x.Primary.Status != 101 || x.Candidate.Status != http.StatusForbidden || !strings.Contains(string(x.Candidate.Body), "no websockets") {
		t.Errorf("upgrade: primary %d, candidate %d %q", x.Primary.Status, x.Candidate.Status, x.Candidate.Body)
	}
	wsSessionsDone(t, p)
	col.none(t)
	if s := p.Stats().WebSockets[0]; s.Refused != 1 || s.Messages != 0 {
		t.Errorf("stats %+v, want one refused", s)
	}
}

// TestWebSocketBounds proves a hung candidate socket costs the client
// nothing and the proxy a bounded amount: its queue fills, later
// messages are dropped and counted, the bytes held stay within the
// session's budget and the goroutines stay few however many messages
// pass; once the connection ends, nothing is held.
func TestWebSocketBounds(t *testing.T) {
	for _, tc := range []struct {
		name      string
		candidate func(*testing.T) string
	}{
		{"hung in its handshake", hungServer},
		{"never reads", upgradedHungServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			primary := wsServer(t, wsEchoHandler(t))
			const limit = 64 << 10
			cfg := Config{Primary: primary.URL, Candidate: tc.candidate(t), Routes: wsRoutes, MaxBodyBytes: limit, MaxResponseBytes: limit, CandidateTimeout: wait}
			p, addr := shadowFront(t, cfg, nil)
			// 6.4 MiB each way: slow under the race detector on a loaded
			// machine, so a longer safety net than wait.
			ctx, cancel := context.WithTimeout(context.Background(), 4*wait)
			defer cancel()
			c, _ := wsDial(t, ctx, addr)
			defer c.CloseNow()
			before := runtime.NumGoroutine()
			msg := bytes.Repeat([]byte{'m'}, limit-1)
			var peak int64
			// 6.4 MiB: more than the socket buffers of a peer that never reads
			// hold (its receive window never grows), and far more than the
			// session may.
			const n = 100
			for i := range n {
				if err := c.Write(ctx, websocket.MessageBinary, msg); err != nil {
					t.Fatal(err)
				}
				if _, got, err := c.Read(ctx); err != nil || len(got) != len(msg) {
					t.Fatalf("message %d: %d bytes, %v", i, len(got), err)
				}
				peak = max(peak, p.Stats().BufferedBytes)
			}
			if budget := int64(wsSessionBytesFactor * limit); peak > budget {
				t.Errorf("held up to %d bytes, over the session's %d", peak, budget)
			}
			if g := runtime.NumGoroutine(); g > before+4 {
				t.Errorf("%d goroutines after %d messages, %d before", g, n, before)
			}
			s := p.Stats().WebSockets[0]
			if s.Dropped == 0 || s.Messages != 0 {
				t.Errorf("stats %+v, want messages dropped and none compared", s)
			}
			_ = c.Close(websocket.StatusNormalClosure, "")
			_ = p.Close()
			wsSessionsDone(t, p)
			if n := p.Stats().BufferedBytes; n != 0 {
				t.Errorf("%d bytes held after the session", n)
			}
		})
	}
}

// TestWebSocketSessionLimit proves at most Workers connections are
// mirrored at once; more pass through, counted as skipped.
func TestWebSocketSessionLimit(t *testing.T) {
	primary := wsServer(t, wsEchoHandler(t))
	p, addr := shadowFront(t, Config{Primary: primary.URL, Candidate: hungServer(t), Routes: wsRoutes, Workers: 1, CandidateTimeout: wait}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for range 3 {
		c, _ := wsDial(t, ctx, addr)
		defer c.CloseNow()
		if err := c.Write(ctx, websocket.MessageText, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if s := p.Stats().WebSockets[0]; s.Connections != 1 || s.Skipped != 2 {
		t.Errorf("stats %+v, want 1 mirrored and 2 skipped", s)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("timed out")
	}
}

// TestWebSocketShutdown proves Shutdown ends the sessions without waiting
// for the clients' connections, which carry on with the primary.
func TestWebSocketShutdown(t *testing.T) {
	primary := wsServer(t, wsEchoHandler(t))
	cand := wsServer(t, wsEchoHandler(t))
	p, addr := shadowFront(t, Config{Primary: primary.URL, Candidate: cand.URL, Routes: wsRoutes}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _ := wsDial(t, ctx, addr)
	defer c.CloseNow()
	echo := func(m string) {
		t.Helper()
		if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.Read(ctx); err != nil || string(got) != m {
			t.Fatalf("echo %q: %q, %v", m, got, err)
		}
	}
	echo("before")
	if _, err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := p.ws.active.Load(); n != 0 {
		t.Errorf("%d sessions after Shutdown", n)
	}
	echo("after")
	if n := p.Stats().BufferedBytes; n != 0 {
		t.Errorf("%d bytes held after Shutdown", n)
	}
}

// TestWebSocketSilentCandidate proves the primary's messages waiting for
// a candidate that reads but never answers are bounded by count, not only
// by bytes (empty messages take none): past the bound they are dropped
// and counted.
func TestWebSocketSilentCandidate(t *testing.T) {
	primary := wsServer(t, wsEchoHandler(t))
	cand := wsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	p, addr := shadowFront(t, Config{Primary: primary.URL, Candidate: cand.URL, Routes: wsRoutes, CandidateTimeout: 4 * wait}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _ := wsDial(t, ctx, addr)
	defer c.CloseNow()
	for range 2 * wsQueueMessages {
		if err := c.Write(ctx, websocket.MessageBinary, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}
	testio.Eventually(t, "messages dropped", func() bool { return p.Stats().WebSockets[0].Dropped > 0 })
	wsSessionsDone(t, p) // the session gave up; the taps go on counting, keeping no copy
	d0 := p.Stats().WebSockets[0].Dropped
	for range 10 {
		if err := c.Write(ctx, websocket.MessageText, []byte("more")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if d := p.Stats().WebSockets[0].Dropped; d != d0+20 {
		t.Errorf("dropped %d after 10 more round trips, want %d", d, d0+20)
	}
	if s := p.Stats().WebSockets[0]; s.Messages != 0 {
		t.Errorf("stats %+v, want none compared", s)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	wsSessionsDone(t, p)
}

// TestWebSocketCandidateTimeout proves a primary message whose
// counterpart does not come within CandidateTimeout is compared without
// it, as a candidate timeout.
func TestWebSocketCandidateTimeout(t *testing.T) {
	col := newCollector()
	primary := wsServer(t, wsEchoHandler(t))
	cand := wsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for { // reads, never answers
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	_, addr := shadowFront(t, Config{Primary: primary.URL, Candidate: cand.URL, Routes: wsRoutes, Observer: col, CandidateTimeout: 500 * time.Millisecond}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _ := wsDial(t, ctx, addr)
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("anyone?")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if up := col.next(t); up.Candidate.Status != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: candidate %d (%s)", up.Candidate.Status, up.Candidate.Error)
	}
	x := col.next(t) // while the connection is still open
	if x.WebSocket.Message != 1 || string(x.Primary.Body) != "anyone?" || !x.Candidate.Timeout || x.Candidate.ErrorKind != "timeout" {
		t.Errorf("message 1: primary %q, candidate %+v", x.Primary.Body, x.Candidate)
	}
}
