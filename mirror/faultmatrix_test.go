package mirror

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/testio"
	"github.com/understudy-dev/understudy/wire"
)

// The fault matrix: real loopback servers and clients that misbehave on
// purpose. Every case sends the same raw client bytes through shadow and
// through a plain httputil.ReverseProxy with an http.Transport in front of
// the same upstream, and checks that shadow is never worse for the client
// (neverWorse); cases that are about shadow's own bounds also count what it
// holds (body budget bytes, requests in flight, goroutines), never the time
// anything took.

// primaryPayload is what the primary answers in the fault tests; the client
// must get exactly this whatever the candidate does.
const primaryPayload = "the primary's answer, byte for byte"

func payloadPrimary(t *testing.T) *backend {
	return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Version", "v1")
		w.Header().Set("X-Upstream", "1")
		_, _ = io.WriteString(w, primaryPayload)
	})
}

// writeBig writes n bytes of 'x' through a small buffer and returns how
// many were written before the first error (the reader leaving).
func writeBig(w io.Writer, n int64) (written int64) {
	buf := bytes.Repeat([]byte{'x'}, 64<<10)
	for n > 0 {
		k, err := w.Write(buf[:min(n, int64(len(buf)))])
		written += int64(k)
		if err != nil {
			return written
		}
		n -= int64(k)
	}
	return written
}

const hundredMiB = 100 << 20

// clientViews sends reqs through a plain proxy and through f, both in
// front of primary, and checks that f's client is never worse off.
func clientViews(t *testing.T, primary, shadowAddr string, reqs ...rawReq) (shadow []answer) {
	t.Helper()
	h, tr := plainProxy(t, primary)
	t.Cleanup(tr.CloseIdleConnections)
	plain := rawClient(t, serveFront(t, h, nil), reqs, nil)
	shadow = rawClient(t, shadowAddr, reqs, nil)
	neverWorse(t, shadow, plain)
	return shadow
}

// TestCandidateFaults proves rule 1: whatever the candidate (and the
// secondary, here the same faulty server) does, the client gets the
// primary's answer unchanged and first, exactly as through a plain
// ReverseProxy. Each fault happens only once the gate opens, and the test
// opens it only after the client has its whole answer, so a proxy that
// waited for the copy would deadlock here (and fail after the bounded
// wait). An answer over the copy limit is read no further: its connection
// is closed, so a 100 MiB or endless candidate answer costs the reading of
// MaxResponseBytes, not of the rest, and not CandidateTimeout.
func TestCandidateFaults(t *testing.T) {
	t.Parallel()
	// truncated checks an answer cut at the copy limit, of size want (0:
	// unknown), that was not drained: its server wrote far less than it
	// meant to.
	truncated := func(want int64, written *atomic.Int64) func(t *testing.T, r *exchange.Response) {
		return func(t *testing.T, r *exchange.Response) {
			if !r.OK() || r.Size != want || !r.Truncated || len(r.Body) != DefaultMaxResponseBytes || r.Timeout {
				t.Errorf("%s: kept %d of %d bytes (truncated %v, timeout %v, error %q), want %d of %d, truncated",
					r.Side, len(r.Body), r.Size, r.Truncated, r.Timeout, r.Error, DefaultMaxResponseBytes, want)
			}
			// The proxy stopped reading at 1 MiB; what the server wrote
			// beyond that sits in the sockets' buffers, a few MiB at most.
			if n := written.Load(); n > 32<<20 {
				t.Errorf("%s: the candidate wrote %d MiB before its connection was closed; want it cut near 1 MiB", r.Side, n>>20)
			}
		}
	}
	tests := []struct {
		name         string
		start        func(t *testing.T, g *gate, written *atomic.Int64) string // returns the faulty server's URL
		timeout      time.Duration
		check        func(t *testing.T, r *exchange.Response, written *atomic.Int64)
		wantErrors   uint64 // per side
		wantTimeouts uint64 // per side
	}{
		{
			name: "slow",
			start: func(t *testing.T, g *gate, _ *atomic.Int64) string {
				return newBackend(t, gated(g, nil)).URL
			},
			check: func(t *testing.T, r *exchange.Response, _ *atomic.Int64) {
				if !r.OK() || string(r.Body) != "late" {
					t.Errorf("%s: body %q error %q, want the late answer", r.Side, r.Body, r.Error)
				}
			},
		},
		{
			name: "hung past the timeout",
			start: func(t *testing.T, g *gate, _ *atomic.Int64) string {
				return newBackend(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }).URL
			},
			timeout: 300 * time.Millisecond,
			check: func(t *testing.T, r *exchange.Response, _ *atomic.Int64) {
				if !r.Timeout || !strings.Contains(r.Error, "within 300ms") {
					t.Errorf("%s: timeout %v error %q, want a timeout", r.Side, r.Timeout, r.Error)
				}
			},
			wantTimeouts: 1,
		},
		{
			name:  "dead",
			start: func(t *testing.T, g *gate, _ *atomic.Int64) string { return deadAddr(t) },
			check: func(t *testing.T, r *exchange.Response, _ *atomic.Int64) {
				if r.Timeout || !strings.Contains(r.Error, "connection refused") || r.Status != 0 {
					t.Errorf("%s: status %d error %q, want connection refused", r.Side, r.Status, r.Error)
				}
			},
			wantErrors: 1,
		},
		{
			name: "resets the connection",
			start: func(t *testing.T, g *gate, _ *atomic.Int64) string {
				return rawServer(t, func(c net.Conn) {
					<-g.ch
					_ = c.(*net.TCPConn).SetLinger(0) // close sends RST
				})
			},
			check: func(t *testing.T, r *exchange.Response, _ *atomic.Int64) {
				if r.Timeout || r.Error == "" || r.Status != 0 {
					t.Errorf("%s: status %d error %q, want a failed send", r.Side, r.Status, r.Error)
				}
			},
			wantErrors: 1,
		},
		{
			name: "speaks garbage",
			start: func(t *testing.T, g *gate, _ *atomic.Int64) string {
				return rawServer(t, func(c net.Conn) {
					<-g.ch
					_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02 not http\r\n\r\n")
				})
			},
			check: func(t *testing.T, r *exchange.Response, _ *atomic.Int64) {
				if r.Timeout || !strings.Contains(r.Error, "malformed HTTP") {
					t.Errorf("%s: error %q, want a malformed answer", r.Side, r.Error)
				}
			},
			wantErrors: 1,
		},
		{
			name: "100 MiB body",
			start: func(t *testing.T, g *gate, written *atomic.Int64) string {
				return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
					<-g.ch
					written.Add(writeBig(w, hundredMiB))
				}).URL
			},
			check: func(t *testing.T, r *exchange.Response, written *atomic.Int64) {
				truncated(0, written)(t, r) // chunked: the full size is not known
			},
		},
		{
			name: "100 MiB body with a length",
			start: func(t *testing.T, g *gate, written *atomic.Int64) string {
				return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
					<-g.ch
					w.Header().Set("Content-Length", strconv.Itoa(hundredMiB))
					written.Add(writeBig(w, hundredMiB))
				}).URL
			},
			check: func(t *testing.T, r *exchange.Response, written *atomic.Int64) {
				truncated(hundredMiB, written)(t, r) // the length says it
			},
		},
		{
			// Drained, an endless answer would run until the copy's
			// timeout (wait, here) and be marked as a timeout.
			name: "endless body",
			start: func(t *testing.T, g *gate, written *atomic.Int64) string {
				return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
					<-g.ch
					written.Add(writeBig(w, 1<<62))
				}).URL
			},
			check: func(t *testing.T, r *exchange.Response, written *atomic.Int64) {
				truncated(0, written)(t, r)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			primary := payloadPrimary(t)
			g := newGate()
			var written atomic.Int64
			faulty := tc.start(t, g, &written)
			t.Cleanup(g.open) // after the proxy is closed, before the servers are
			obs := newCollector()
			timeout := tc.timeout
			if timeout == 0 {
				timeout = wait
			}
			p, addr := shadowFront(t, Config{
				Primary: primary.URL, Candidate: faulty, Secondary: faulty,
				Observer: obs, CandidateTimeout: timeout,
			}, nil)

			got := clientViews(t, primary.URL, addr, request("GET", "/fault", ""))
			if got[0].Status != http.StatusOK || got[0].Body != primaryPayload || got[0].Header.Get("X-Version") != "v1" {
				t.Fatalf("client got %d %q, want 200 %q", got[0].Status, got[0].Body, primaryPayload)
			}
			g.open() // only now may the candidate misbehave

			x := obs.next(t)
			if !x.Primary.OK() || string(x.Primary.Body) != primaryPayload {
				t.Errorf("exchange primary: body %q error %q, want the payload", x.Primary.Body, x.Primary.Error)
			}
			tc.check(t, &x.Candidate, &written)
			if x.Secondary == nil {
				t.Fatal("no secondary answer")
			}
			tc.check(t, x.Secondary, &written)
			s := p.Stats()
			got4 := [4]uint64{s.CandidateErrors, s.CandidateTimeouts, s.SecondaryErrors, s.SecondaryTimeouts}
			want4 := [4]uint64{tc.wantErrors, tc.wantTimeouts, tc.wantErrors, tc.wantTimeouts}
			if got4 != want4 {
				t.Errorf("candidate errors, timeouts, secondary errors, timeouts = %v, want %v", got4, want4)
			}
			if s.Completed != 1 || s.PrimaryErrors != 0 {
				t.Errorf("completed %d, primary errors %d; want 1 and 0", s.Completed, s.PrimaryErrors)
			}
		})
	}
}

// TestHugeCandidateIsNotHeld checks that a 100 MiB candidate answer costs
// about MaxResponseBytes of memory, not 100 MiB. It is not parallel, so the
// allocation count is this test's alone.
func TestHugeCandidateIsNotHeld(t *testing.T) {
	primary := payloadPrimary(t)
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(hundredMiB))
		writeBig(w, hundredMiB)
	})
	obs := newCollector()
	f := startProxy(t, Config{Primary: primary.URL, Candidate: candidate.URL, Observer: obs, CandidateTimeout: time.Minute})

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f.get(t, "/big")
	x := obs.next(t)
	runtime.ReadMemStats(&after)
	if x.Candidate.Size != hundredMiB || !x.Candidate.Truncated {
		t.Fatalf("candidate size %d (truncated %v), want %d, truncated", x.Candidate.Size, x.Candidate.Truncated, hundredMiB)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 25<<20 {
		t.Errorf("allocated %d MiB to mirror a 100 MiB answer; want a few MiB (the kept 1 MiB and buffers)", alloc>>20)
	}
}

// recorder is a primary that answers with what it received: method, URI,
// Host, body length and hash, and counts its requests.
func recorder(t *testing.T) *backend {
	return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", "1")
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s host=%s", r.Method, r.RequestURI, r.Host)
	})
}

// seenBy drains what b received so far, one line per request.
func seenBy(b *backend) []string {
	var out []string
	for {
		select {
		case s := <-b.got:
			out = append(out, fmt.Sprintf("%s %s %s %x", s.Proto, s.Method, s.URI, sha256.Sum256(s.Body)))
		default:
			return out
		}
	}
}

// matrixCase is one row of the fault matrix.
type matrixCase struct {
	name string
	// primary is the upstream both proxies front; nil means recorder.
	primary func(t *testing.T) *backend
	// script, when set, is the case instead: a scripted raw primary run
	// through both proxies (see differential_test.go).
	script *script
	cfg    Config // shadow's, Primary and Candidate filled in
	// server adjusts both fronts' servers; plainServer the plain one's.
	server, plainServer func(*http.Server)
	reqs                []rawReq                                      // sent by rawClient, or:
	client              func(t *testing.T, addr string) []answer      // a client of the case's own
	check               func(t *testing.T, p *Proxy, shadow []answer) // shadow's side afterwards
	sameUpstream        bool                                          // the primary must see the same requests through both
	// candidate starts the candidate (and secondary); nil means a plain
	// backend answering "ok".
	candidate func(t *testing.T) string
	// candidates, when set, starts several named candidates instead
	// (Config.Candidates); candidate is then unused.
	candidates func(t *testing.T) []Candidate

	// HTTP/2 rows: h2 requests are sent by an HTTP/2 client (h2c prior
	// knowledge) to both fronts, which then speak h2c too; the primary
	// speaks as says (cfg.PrimaryTarget gets the test CA's ca_file for
	// TLS), and the plain proxy's transport the protocols that
	// cfg.PrimaryTarget.Protocol gives for the client's: the same
	// transport shadow uses.
	h2 []h2Req
	as serveAs
}

// TestFaultMatrix runs every row; see matrixCases.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	for _, tc := range matrixCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.script != nil {
				differential(t, *tc.script)
				return
			}
			newPrimary := tc.primary
			if newPrimary == nil {
				newPrimary = recorder
			}
			cfg := tc.cfg
			ca, caFile := testCA(t)
			if tc.as != asHTTP1 || tc.h2 != nil {
				newPrimary = func(t *testing.T) *backend { return newBackendWith(t, protoPrimary, tc.as.start(t, ca, false)) }
				if tc.as == asTLS || tc.as == asTLSHTTP1 {
					cfg.PrimaryTarget.TLS.CAFile = caFile
				}
			}
			primary := newPrimary(t)
			client := tc.client
			if client == nil {
				client = func(t *testing.T, addr string) []answer { return rawClient(t, addr, tc.reqs, nil) }
			}
			server := tc.server
			if tc.h2 != nil {
				client = func(t *testing.T, addr string) []answer { return h2Client(t, addr, tc.h2) }
				server = withH2C(tc.server)
			}

			h, tr := plainProxy(t, primary.URL)
			t.Cleanup(tr.CloseIdleConnections)
			if tc.as != asHTTP1 || tc.h2 != nil {
				major := 1
				if tc.h2 != nil {
					major = 2
				}
				scheme, _, _ := strings.Cut(primary.URL, ":")
				tr.Protocols = cfg.PrimaryTarget.Protocol.Protocols(scheme, major)
				tr.TLSClientConfig = &tls.Config{RootCAs: ca.Pool()}
			}
			plainAdjust := func(s *http.Server) {
				if server != nil {
					server(s)
				}
				if tc.plainServer != nil {
					tc.plainServer(s)
				}
			}
			plain := client(t, serveFront(t, h, plainAdjust))
			plainSaw := seenBy(primary)

			cfg.Primary = primary.URL
			if tc.candidates != nil {
				cfg.Candidates = tc.candidates(t)
			}
			if tc.candidate != nil {
				cfg.Candidate = tc.candidate(t)
			}
			if cfg.Candidate == "" && cfg.Candidates == nil {
				cfg.Candidate = newBackend(t, nil).URL
			}
			p, addr := shadowFront(t, cfg, server)
			shadow := client(t, addr)
			neverWorse(t, shadow, plain)
			if tc.sameUpstream {
				if got := seenBy(primary); fmt.Sprint(got) != fmt.Sprint(plainSaw) {
					t.Errorf("the primary saw through shadow\n\t%q\nand through the plain proxy\n\t%q", got, plainSaw)
				}
			}
			if tc.check != nil {
				tc.check(t, p, shadow)
			}
		})
	}
}

// severalReqs are the requests of the several-candidates rows: a read,
// a mirrored write, and a read after it on the same connection.
var severalReqs = []rawReq{request("GET", "/a", ""), request("POST", "/b", "body"), request("GET", "/c", "")}

// beside starts two named candidates: v2, a backend answering "ok", and
// v3 at the address other gives (hung, dead), whose copies time out
// quickly so that the test's shutdown does not wait for them.
func beside(other func(t *testing.T) string) func(t *testing.T) []Candidate {
	return func(t *testing.T) []Candidate {
		return []Candidate{
			{Name: "v2", URL: newBackend(t, nil).URL},
			{Name: "v3", URL: other(t), Timeout: 300 * time.Millisecond},
		}
	}
}

// queuedForEach checks that every candidate was given its own copy of
// each of the n requests: one failing candidate takes none from another.
func queuedForEach(n int) func(t *testing.T, p *Proxy, _ []answer) {
	return func(t *testing.T, p *Proxy, _ []answer) {
		for _, c := range p.Stats().Candidates {
			if c.Queued != uint64(n) || c.Dropped != 0 {
				t.Errorf("candidate %s: %d copies queued, %d dropped; want %d, none", c.Name, c.Queued, c.Dropped, n)
			}
		}
		if got := len(p.Stats().Candidates); got != 2 {
			t.Errorf("stats of %d candidates, want 2", got)
		}
	}
}

// once is a client that sends raw on a new connection and reads one
// answer: for requests that stall, smuggle or leave.
func once(method, raw string) func(t *testing.T, addr string) []answer {
	return func(t *testing.T, addr string) []answer {
		return rawClient(t, addr, []rawReq{{method: method, raw: raw}}, nil)
	}
}

// leaving is a client that sends raw, a request cut short, and goes away.
func leaving(raw string) func(t *testing.T, addr string) []answer {
	return func(t *testing.T, addr string) []answer {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, raw)
		_ = c.Close()
		return []answer{{Err: "left"}}
	}
}

// settles checks that shadow lets go of everything the client's requests
// (received of them reached the handler) held: none in flight, no body
// buffered, and no primary error counted for what the client did.
func settles(received uint64, wantSkip string) func(t *testing.T, p *Proxy, _ []answer) {
	return func(t *testing.T, p *Proxy, _ []answer) {
		testio.Eventually(t, "every request to end and its body to be let go", func() bool {
			s := p.Stats()
			return s.Received == received && s.InFlight == 0 && s.BufferedBytes == 0
		})
		s := p.Stats()
		if s.PrimaryErrors != 0 {
			t.Errorf("primary errors %d, want 0: the client broke the request", s.PrimaryErrors)
		}
		if wantSkip != "" && s.Skipped[wantSkip] != 1 {
			t.Errorf("skipped %v, want one %s", s.Skipped, wantSkip)
		}
	}
}

// status checks the status shadow's client got for its first request.
func status(want int, then func(t *testing.T, p *Proxy, got []answer)) func(t *testing.T, p *Proxy, got []answer) {
	return func(t *testing.T, p *Proxy, got []answer) {
		if got[0].Status != want {
			t.Errorf("shadow's client got %d (%s), want %d", got[0].Status, got[0].Err, want)
		}
		then(t, p, got)
	}
}

// upgradeClient asks for an "echo" protocol upgrade, then speaks it.
func upgradeClient(t *testing.T, addr string) []answer {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	br := bufio.NewReader(c)
	a, _ := roundTrip(c, br, request("GET", "/up", "", "Connection: Upgrade", "Upgrade: echo"))
	if a.Status != http.StatusSwitchingProtocols {
		return []answer{a}
	}
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		a.Err = errClass(err)
		return []answer{a}
	}
	line, err := br.ReadString('\n')
	a.Body = line
	if err != nil {
		a.Err = errClass(err)
	}
	return []answer{a}
}

// upgradePrimary switches to "echo": it answers a line with the line in
// capitals.
func upgradePrimary(t *testing.T) *backend {
	return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want Upgrade: echo", http.StatusBadRequest)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\nX-Upstream: 1\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n')
		_, _ = brw.WriteString(strings.ToUpper(line))
		_ = brw.Flush()
	})
}

// wsPrimary is a coder/websocket echo server (wsEchoHandler).
func wsPrimary(t *testing.T) *backend {
	return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", "1")
		wsEchoHandler(t)(w, r)
	})
}

// wsMatrixClient speaks WebSocket to the primary through addr: a text
// and a binary echo, then the server's close with a code of its own; the
// answer is the 101 and what the client read.
func wsMatrixClient(t *testing.T, addr string) []answer {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, res, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		return []answer{{Err: errClass(err)}}
	}
	defer c.CloseNow()
	a := answer{Proto: res.Proto, Status: res.StatusCode, Header: http.Header{"X-Upstream": res.Header["X-Upstream"]}}
	var got []string
	for _, m := range []struct {
		typ websocket.MessageType
		msg string
	}{{websocket.MessageText, "hello"}, {websocket.MessageBinary, "\x00\x01"}, {websocket.MessageText, "close:4001"}} {
		if err := c.Write(ctx, m.typ, []byte(m.msg)); err != nil {
			a.Err = errClass(err)
			break
		}
		typ, msg, err := c.Read(ctx)
		if err != nil {
			got = append(got, fmt.Sprint("close ", int(websocket.CloseStatus(err))))
			break
		}
		got = append(got, fmt.Sprintf("%v %q", typ, msg))
	}
	a.Body = strings.Join(got, "; ")
	return []answer{a}
}

// wsMirrored checks that the client got its echoes and close code, and
// that the connection was mirrored (or passed through as a skipped
// upgrade), and, eventually, stats.
func wsMirrored(mirrored bool, stats func(WebSocketStats) bool) func(t *testing.T, p *Proxy, got []answer) {
	return func(t *testing.T, p *Proxy, got []answer) {
		if want := `MessageText "hello"; MessageBinary "\x00\x01"; close 4001`; got[0].Status != http.StatusSwitchingProtocols || got[0].Body != want {
			t.Errorf("client got %d %q (%s), want 101 and %q", got[0].Status, got[0].Body, got[0].Err, want)
		}
		s := p.Stats()
		switch {
		case !mirrored && s.Skipped["upgrade"] != 1:
			t.Errorf("skipped %v, want one upgrade", s.Skipped)
		case mirrored && s.WebSockets[0].Connections != 1:
			t.Errorf("websocket stats %+v, want one connection", s.WebSockets[0])
		}
		if stats != nil {
			testio.Eventually(t, "websocket stats", func() bool { return stats(p.Stats().WebSockets[0]) })
		}
	}
}

// handlerPrimary is a primary answering with h, marked as the upstream's.
func handlerPrimary(h http.HandlerFunc) func(t *testing.T) *backend {
	return func(t *testing.T) *backend {
		return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Upstream", "1")
			h(w, r)
		})
	}
}

// matrixCases are the rows of the fault matrix. Scripted rows run the
// differential test's raw primary; the others a real net/http primary.
func matrixCases() []matrixCase {
	short := 200 * time.Millisecond
	unsafeAll := Config{Routes: []Route{{Unsafe: true}}} // POST bodies are buffered and mirrored too
	big := strings.Repeat("a", 64<<10)
	return []matrixCase{
		{name: "idle closes", script: &script{Steps: []step{
			{Method: "GET", Act: actEarlyClose, Later: true}, {Method: "GET", Act: actEarlyClose, Later: true},
			{Method: "POST"}, {Method: "GET"}}}},
		{name: "Connection: close from the primary", script: &script{Steps: []step{
			{Method: "GET", Act: actConnClose}, {Method: "HEAD", Act: actConnClose}, {Method: "POST", Act: actConnClose}}}},
		{name: "stray bytes after HEAD", script: &script{Steps: []step{
			{Method: "HEAD", Act: actStray, Later: true}, {Method: "GET"},
			{Method: "HEAD", Act: actStrayAnswer, Later: true}, {Method: "GET"}}}},
		{name: "stray bytes after 204", script: &script{Steps: []step{
			{Method: "GET", Act: actNoContent, Later: true}, {Method: "GET"}, {Method: "GET", Act: actNoContent}, {Method: "GET"}}}},
		{name: "stray bytes after 304", script: &script{Steps: []step{
			{Method: "GET", Act: actNotModified, Later: true}, {Method: "GET"}, {Method: "GET", Act: actNotModified}, {Method: "GET"}}}},
		{name: "idle 408", script: &script{Steps: []step{
			{Method: "GET", Act: actIdle408, Later: true}, {Method: "GET"}, {Method: "POST", Act: actIdle408, Later: true}, {Method: "POST"}}}},
		{name: "1xx from a raw primary", script: &script{Steps: []step{
			{Method: "GET", Act: actInfo, N: 1}, {Method: "GET", Act: actInfo, N: 7}, {Method: "GET"}}}},
		{
			name: "Connection: close from the client", cfg: unsafeAll,
			reqs: []rawReq{request("GET", "/a", "", "Connection: close"), request("POST", "/b", "body", "Connection: close"), request("GET", "/c", "")},
		},
		{
			name: "HTTP/1.0 client",
			primary: handlerPrimary(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "part one, ")
				w.(http.Flusher).Flush() // chunked to the proxy; an HTTP/1.0 client needs it close-delimited
				_, _ = io.WriteString(w, "part two")
			}),
			reqs: []rawReq{
				{method: "GET", raw: "GET /ten HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
				{method: "GET", raw: "GET /ten HTTP/1.0\r\n\r\n"},
			},
		},
		{
			name: "trailers",
			primary: handlerPrimary(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Trailer", "X-Sum")
				_, _ = io.WriteString(w, "body with a trailer")
				w.Header().Set("X-Sum", "42")
			}),
			reqs: []rawReq{request("GET", "/t", "", "TE: trailers"), request("GET", "/t", "")},
		},
		{
			name: "1xx",
			primary: handlerPrimary(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", "</a.css>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Del("Link")
				_, _ = io.WriteString(w, "final")
			}),
			reqs: []rawReq{request("GET", "/hints", ""), request("GET", "/hints", "")},
		},
		{
			name: "64 KB headers",
			primary: handlerPrimary(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Big-Len", strconv.Itoa(len(r.Header.Get("X-Big"))))
				w.Header().Set("X-Echo", r.Header.Get("X-Big"))
			}),
			reqs: []rawReq{request("GET", "/h", "", "X-Big: "+big), request("POST", "/h", "x", "X-Big: "+big)},
			cfg:  unsafeAll,
		},
		{
			name: "headers over the server's limit",
			reqs: []rawReq{request("GET", "/h", "", "X-Big: "+strings.Repeat(big, 17))}, // over 1 MiB: 431
		},
		{
			name: "smuggling: Content-Length and Transfer-Encoding", cfg: unsafeAll, sameUpstream: true,
			reqs: []rawReq{
				{method: "POST", raw: "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"},
				{method: "GET"}, // the answer to the request after the chunked body, if it is one
				request("GET", "/after", ""),
			},
		},
		{
			name: "smuggling: two Content-Lengths", cfg: unsafeAll, sameUpstream: true,
			reqs: []rawReq{
				{method: "POST", raw: "POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 39\r\n\r\nabcdGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"},
				{method: "GET"},
				request("GET", "/after", ""),
			},
		},
		{
			name: "smuggling: Transfer-Encoding chunked, identity", cfg: unsafeAll, sameUpstream: true,
			reqs: []rawReq{
				{method: "POST", raw: "POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"},
				request("GET", "/after", ""),
			},
		},
		{
			name: "smuggling: chunk size overflow", cfg: unsafeAll, sameUpstream: true,
			reqs: []rawReq{
				{method: "POST", raw: "POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff1\r\nx\r\n0\r\n\r\n"},
				request("GET", "/after", ""),
			},
		},
		{
			name: "absolute-URI request", sameUpstream: true,
			reqs: []rawReq{
				{method: "GET", raw: "GET http://elsewhere.example/abs?q=1 HTTP/1.1\r\nHost: shadow.test\r\n\r\n"},
				{method: "GET", raw: "GET http://elsewhere.example HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n"},
			},
		},
		{
			name: "CONNECT", sameUpstream: true,
			reqs: []rawReq{
				{method: "CONNECT", raw: "CONNECT elsewhere.example:443 HTTP/1.1\r\nHost: elsewhere.example:443\r\n\r\n"},
				request("GET", "/after", ""),
			},
		},
		{
			name: "upgrade (101 passes through)", primary: upgradePrimary, client: upgradeClient,
			check: func(t *testing.T, p *Proxy, got []answer) {
				if got[0].Status != http.StatusSwitchingProtocols || got[0].Body != "PING\n" {
					t.Errorf("client got %d %q (%s), want 101 and the echo", got[0].Status, got[0].Body, got[0].Err)
				}
				if s := p.Stats(); s.Skipped["upgrade"] != 1 {
					t.Errorf("skipped %v, want one upgrade", s.Skipped)
				}
			},
		},
		{name: "two candidates, the second hung", cfg: unsafeAll, reqs: severalReqs, sameUpstream: true,
			candidates: beside(hungServer), check: queuedForEach(len(severalReqs))},
		{name: "two candidates, the second dead", cfg: unsafeAll, reqs: severalReqs, sameUpstream: true,
			candidates: beside(deadAddr), check: queuedForEach(len(severalReqs))},
		{name: "websocket (not mirrored)", primary: wsPrimary, client: wsMatrixClient, candidate: hungServer, check: wsMirrored(false, nil)},
		{name: "websocket mirrored, echo candidate", primary: wsPrimary, client: wsMatrixClient, cfg: Config{Routes: wsRoutes},
			candidate: func(t *testing.T) string { return wsServer(t, wsEchoHandler(t)).URL }, check: wsMirrored(true, nil)},
		{name: "websocket mirrored, candidate refuses the upgrade", primary: wsPrimary, client: wsMatrixClient, cfg: Config{Routes: wsRoutes},
			check: wsMirrored(true, func(s WebSocketStats) bool { return s.Refused == 1 })},
		{name: "websocket mirrored, candidate dead", primary: wsPrimary, client: wsMatrixClient, cfg: Config{Routes: wsRoutes},
			candidate: deadAddr, check: wsMirrored(true, func(s WebSocketStats) bool { return s.Refused == 1 })},
		{name: "websocket mirrored, candidate hung in its handshake", primary: wsPrimary, client: wsMatrixClient, cfg: Config{Routes: wsRoutes},
			candidate: hungServer, check: wsMirrored(true, nil)},
		{name: "websocket mirrored, candidate never reads", primary: wsPrimary, client: wsMatrixClient, cfg: Config{Routes: wsRoutes},
			candidate: upgradedHungServer, check: wsMirrored(true, nil)},
		{
			name: "client leaves mid-body (mirrored)", cfg: unsafeAll,
			client: leaving("POST /leave HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789"),
			check:  settles(1, "body_error"),
		},
		{
			name:   "client leaves mid-body (not mirrored)",
			client: leaving("POST /leave HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789"),
			check:  settles(1, ""),
		},
		{
			name:   "slowloris headers",
			server: func(s *http.Server) { s.ReadHeaderTimeout = short },
			client: once("GET", "GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n"),
			check:  settles(0, ""),
		},
		{
			name: "slowloris body (mirrored)", cfg: Config{Routes: unsafeAll.Routes, BodyReadTimeout: short},
			plainServer: func(s *http.Server) { s.ReadTimeout = time.Second }, // the nearest a plain server has
			client:      once("POST", "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789"),
			check:       status(http.StatusRequestTimeout, settles(1, "body_error")),
		},
		{
			name: "slowloris body (not mirrored)", cfg: Config{BodyReadTimeout: short},
			plainServer: func(s *http.Server) { s.ReadTimeout = time.Second },
			client:      once("POST", "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789"),
			check:       status(http.StatusRequestTimeout, settles(1, "")),
		},
		{name: "HTTP/2 client, HTTP/1.1 primary", cfg: unsafeAll, h2: h2Reqs, sameUpstream: true, check: mirroredAll(len(h2Reqs))},
		{name: "HTTP/2 client, h2c primary", as: asH2C, cfg: withProtocol(unsafeAll, wire.H2C), h2: h2Reqs, sameUpstream: true, check: mirroredAll(len(h2Reqs))},
		{name: "HTTP/2 client, TLS primary offering h2", as: asTLS, cfg: unsafeAll, h2: h2Reqs, sameUpstream: true, check: mirroredAll(len(h2Reqs))},
		{name: "HTTP/2 client, TLS primary without h2", as: asTLSHTTP1, cfg: unsafeAll, h2: h2Reqs, sameUpstream: true, check: mirroredAll(len(h2Reqs))},
		{name: "HTTP/1.1 client, h2c primary", as: asH2C, cfg: withProtocol(unsafeAll, wire.H2C), reqs: h1Reqs(), sameUpstream: true, check: mirroredAll(len(h1Reqs()))},
		{name: "HTTP/1.1 client, TLS primary offering h2", as: asTLS, cfg: unsafeAll, reqs: h1Reqs(), sameUpstream: true, check: mirroredAll(len(h1Reqs()))},
	}
}
