package mirror

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The differential test: one client request sequence, sent through
// shadow's Proxy and through a plain httputil.ReverseProxy with an
// http.Transport, each in front of its own copy of the same scripted,
// hostile upstream. The client must see through shadow what it sees
// through the plain proxy (neverWorse), and never the answer meant for
// another request: the stray bytes an upstream sends after a HEAD, 204 or
// 304 answer, or the 408 it sends on an idle keep-alive connection, are
// not the next client's answer.

// action is what the scripted primary does with one request.
type action uint8

const (
	actOK          action = iota // 200 with a Content-Length
	actChunked                   // 200, chunked
	actTrailers                  // 200, chunked, with a trailer
	actInfo                      // N 1xx answers (103 Early Hints), then 200
	actNoContent                 // 204, then stray bytes (a body it must not have)
	actNotModified               // 304, then stray bytes
	actStray                     // 200, then stray bytes (after HEAD: the body first)
	actStrayAnswer               // 200, then a whole answer nobody asked for
	actIdle408                   // 200, then 408 and close, as an idle timeout does
	actEarlyClose                // 200, then close without saying so
	actConnClose                 // 200 with Connection: close, then close
	actBadChunk                  // chunked, one chunk, then a bad size line
	actShort                     // Content-Length 100, 10 bytes, close
	actNoAnswer                  // close without answering
	actGarbage                   // garbage instead of an answer, then close
	numActions
)

// step is one client request and what the primary does with it.
type step struct {
	Method      string // GET, HEAD, OPTIONS or POST
	Act         action
	N           int  // 1xx answers for actInfo (0-7; more than 5 is too many)
	Later       bool // the misbehaviour after the answer waits until the client has the answer (else: sent with it)
	ClientClose bool // the client sends Connection: close
	HTTP10      bool // the client speaks HTTP/1.0
}

// script is a differential test case.
type script struct {
	Steps []step
	Junk  []byte // the stray bytes and garbage the primary sends
}

// Limits of a decoded script, so that one fuzz input costs a bounded time.
const (
	maxSteps = 8
	maxJunk  = 512
)

var scriptMethods = [4]string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPost}

// decodeScript reads a script from fuzz input: two bytes a step (flags
// and method, then action and N), the high bit of the first ending the
// steps; the rest is junk.
func decodeScript(data []byte) script {
	var s script
	for len(data) >= 2 && len(s.Steps) < maxSteps {
		b0, b1 := data[0], data[1]
		data = data[2:]
		s.Steps = append(s.Steps, step{
			Method:      scriptMethods[b0&3],
			ClientClose: b0&4 != 0,
			HTTP10:      b0&8 != 0,
			Later:       b0&16 != 0,
			Act:         action(b1 % byte(numActions)),
			N:           int(b1/byte(numActions)) % 8,
		})
		if b0&0x80 != 0 {
			break
		}
	}
	s.Junk = data[:min(len(data), maxJunk)]
	return s
}

// encode is decodeScript's inverse, for the seed corpus.
func (s script) encode() []byte {
	var out []byte
	for i, st := range s.Steps {
		var b0 byte
		for m, name := range scriptMethods {
			if name == st.Method {
				b0 = byte(m)
			}
		}
		if st.ClientClose {
			b0 |= 4
		}
		if st.HTTP10 {
			b0 |= 8
		}
		if st.Later {
			b0 |= 16
		}
		if i == len(s.Steps)-1 {
			b0 |= 0x80
		}
		out = append(out, b0, byte(st.Act)+byte(numActions)*byte(st.N))
	}
	return append(out, s.Junk...)
}

// run is one pass of a script through one proxy: the coordination between
// the client and its upstream for the misbehaviour that waits (Later).
type run struct {
	s       script
	junk    string
	got     []chan struct{} // closed when the client has step i's answer
	settled []chan struct{} // closed when step i's misbehaviour is over
	waits   []atomic.Bool   // the upstream answered step i and will misbehave later
	once    []sync.Once     // step i misbehaves once, whatever retries come
}

func newRun(s script) *run {
	n := len(s.Steps)
	r := &run{s: s, junk: string(s.Junk), got: make([]chan struct{}, n), settled: make([]chan struct{}, n),
		waits: make([]atomic.Bool, n), once: make([]sync.Once, n)}
	if r.junk == "" {
		r.junk = "\x00junk\r\n"
	}
	for i := range n {
		r.got[i], r.settled[i] = make(chan struct{}), make(chan struct{})
	}
	return r
}

// requests are the client's requests.
func (r *run) requests() []rawReq {
	out := make([]rawReq, len(r.s.Steps))
	for i, st := range r.s.Steps {
		proto, body := "HTTP/1.1", ""
		if st.HTTP10 {
			proto = "HTTP/1.0"
		}
		if st.Method == http.MethodPost {
			body = "data"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s /s/%d %s\r\nHost: shadow.test\r\n", st.Method, i, proto)
		if st.ClientClose {
			b.WriteString("Connection: close\r\n")
		}
		if body != "" {
			fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
		}
		b.WriteString("\r\n" + body)
		out[i] = rawReq{method: st.Method, raw: b.String()}
	}
	return out
}

// between runs after the client read step i's answer: it lets the
// upstream misbehave, and waits until it has.
func (r *run) between(i int, _ answer) {
	close(r.got[i])
	if r.waits[i].Load() {
		select {
		case <-r.settled[i]:
		case <-time.After(2 * wait):
		}
	}
}

// serve is the scripted primary.
func (r *run) serve(c *upConn, req *http.Request) bool {
	i, err := strconv.Atoi(strings.TrimPrefix(req.URL.Path, "/s/"))
	if err != nil || i < 0 || i >= len(r.s.Steps) {
		return false
	}
	st := r.s.Steps[i]
	head := req.Method == http.MethodHead
	// Typed, so that no server sniffs a Content-Type of its own.
	tag := fmt.Sprintf("Content-Type: text/plain\r\nX-Upstream: 1\r\nX-Step: %d\r\n", i)
	body := fmt.Sprintf("answer %d", i)
	ok := fmt.Sprintf("HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n", tag, len(body))
	if !head {
		ok += body
	}

	var answer, bad string // bad: the misbehaviour after the answer
	more, closeWrite := true, false
	switch st.Act {
	case actOK:
		answer = ok
	case actChunked:
		answer = "HTTP/1.1 200 OK\r\n" + tag + "Transfer-Encoding: chunked\r\n\r\n"
		if !head {
			answer += fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
		}
	case actTrailers:
		answer = "HTTP/1.1 200 OK\r\n" + tag + "Trailer: X-Sum\r\nTransfer-Encoding: chunked\r\n\r\n"
		if !head {
			answer += fmt.Sprintf("%x\r\n%s\r\n0\r\nX-Sum: %d\r\n\r\n", len(body), body, i)
		}
	case actInfo:
		answer = strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", st.N) + ok
	case actNoContent:
		answer, bad = "HTTP/1.1 204 No Content\r\n"+tag+"\r\n", r.junk
	case actNotModified:
		answer, bad = "HTTP/1.1 304 Not Modified\r\n"+tag+"\r\n", r.junk
	case actStray:
		answer, bad = ok, r.junk
		if head {
			bad = body + r.junk
		}
	case actStrayAnswer:
		answer = ok
		bad = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Upstream: 1\r\nX-Step: stray\r\nContent-Length: 5\r\n\r\nstray"
	case actIdle408:
		answer, closeWrite, more = ok, true, false
		bad = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
	case actEarlyClose:
		answer, closeWrite, more = ok, true, false
	case actConnClose:
		answer, more = strings.Replace(ok, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1), false
	case actBadChunk:
		answer = "HTTP/1.1 200 OK\r\n" + tag + "Transfer-Encoding: chunked\r\n\r\n"
		if !head {
			answer += "4\r\npart\r\nzz\r\n"
		}
		more = false
	case actShort:
		answer = "HTTP/1.1 200 OK\r\n" + tag + "Content-Length: 100\r\n\r\n"
		if !head {
			answer += "0123456789"
		}
		more = false
	case actNoAnswer:
		return false
	case actGarbage:
		answer, more = r.junk+"\r\n\r\n", false
	}

	if bad == "" && !closeWrite {
		_, _ = c.Write([]byte(answer))
		return more
	}
	// The client waits for the misbehaviour to be over before its next
	// request, so that only the proxy's handling of it decides what that
	// request gets: if bytes nobody asked for were still on their way when
	// it was sent, no transport could tell them from its answer. Retries
	// of the step answer plainly.
	first := false
	r.once[i].Do(func() { first = true })
	if !first {
		_, _ = c.Write([]byte(answer))
		return more
	}
	r.waits[i].Store(true)
	defer close(r.settled[i])
	if !st.Later {
		answer, bad = answer+bad, "" // in the same write, so most often the same read
	}
	if _, err := c.Write([]byte(answer)); err != nil {
		return false
	}
	if st.Later {
		select {
		case <-r.got[i]:
		case <-time.After(wait):
			return false
		}
		if _, err := c.Write([]byte(bad)); err != nil {
			return false
		}
	}
	if closeWrite {
		_ = c.Conn.(*net.TCPConn).CloseWrite()
	}
	// Settled once the proxy has given the connection up (as it must:
	// bytes nobody asked for, or an end, came on an idle connection), or,
	// if it never does, after the bounded wait: then the next request meets
	// the stray bytes, which is the failure this test exists to catch.
	if c.closedByPeer() {
		more = false
	}
	return more
}

// through runs the script's requests through the proxy front makes in
// front of a fresh copy of the scripted upstream.
func (s script) through(t testing.TB, front func(primary string) string) []answer {
	r := newRun(s)
	addr := front(startUpstream(t, r.serve))
	return rawClient(t, addr, r.requests(), r.between)
}

// differential runs s through the plain proxy and through shadow, and
// checks that shadow is never worse and never hands out another request's
// answer.
func differential(t *testing.T, s script) {
	plain := s.through(t, func(primary string) string {
		h, tr := plainProxy(t, primary)
		t.Cleanup(tr.CloseIdleConnections)
		return serveFront(t, h, nil)
	})
	candidate := newBackend(t, nil)
	shadow := s.through(t, func(primary string) string {
		_, addr := shadowFront(t, Config{
			Primary: primary, Candidate: candidate.URL,
			Routes:           []Route{{Path: "/s/*", Unsafe: true}}, // POST is mirrored too: its body is buffered
			CandidateTimeout: wait,
		}, nil)
		return addr
	})
	neverWorse(t, shadow, plain)
	for i, a := range shadow {
		if want := strconv.Itoa(i); a.ok() && a.Header.Get("X-Step") != want {
			t.Errorf("request %d: the client got the answer of step %q: %d %q", i, a.Header.Get("X-Step"), a.Status, a.Body)
		}
	}
}

// differentialSeeds are the hostile upstreams of the issue that made
// http.Transport the primary's transport, and the other known faults.
var differentialSeeds = []struct {
	name string
	s    script
}{
	{"HEAD then a stray answer", script{Steps: []step{
		{Method: "HEAD", Act: actStrayAnswer, Later: true}, {Method: "GET"}, {Method: "GET"}}}},
	{"HEAD then its body", script{Steps: []step{
		{Method: "HEAD", Act: actStray, Later: true}, {Method: "GET"}}}},
	{"HEAD then its body at once", script{Steps: []step{
		{Method: "HEAD", Act: actStray}, {Method: "GET"}}}},
	{"204 then stray bytes", script{Steps: []step{
		{Method: "GET", Act: actNoContent, Later: true}, {Method: "GET"}}, Junk: []byte("hello")}},
	{"304 then stray bytes", script{Steps: []step{
		{Method: "GET", Act: actNotModified, Later: true}, {Method: "GET"}}, Junk: []byte("hello")}},
	{"304 then stray bytes at once", script{Steps: []step{
		{Method: "GET", Act: actNotModified}, {Method: "GET"}}, Junk: []byte("hello")}},
	{"idle 408", script{Steps: []step{
		{Method: "GET", Act: actIdle408, Later: true}, {Method: "GET"}, {Method: "GET"}}}},
	{"408 with the answer", script{Steps: []step{
		{Method: "GET", Act: actIdle408}, {Method: "GET"}}}},
	{"stray bytes then a POST", script{Steps: []step{
		{Method: "GET", Act: actStray, Later: true}, {Method: "POST"}}}},
	{"pipelined garbage", script{Steps: []step{
		{Method: "GET", Act: actStrayAnswer}, {Method: "GET"}, {Method: "OPTIONS"}}}},
	{"idle close then a POST", script{Steps: []step{
		{Method: "GET", Act: actEarlyClose, Later: true}, {Method: "POST"}, {Method: "GET"}}}},
	{"early close", script{Steps: []step{
		{Method: "GET", Act: actEarlyClose}, {Method: "GET"}}}},
	{"Connection: close", script{Steps: []step{
		{Method: "GET", Act: actConnClose}, {Method: "HEAD", Act: actConnClose}, {Method: "GET"}}}},
	{"1xx", script{Steps: []step{
		{Method: "GET", Act: actInfo, N: 2}, {Method: "POST", Act: actInfo, N: 1}}}},
	{"too many 1xx", script{Steps: []step{
		{Method: "GET", Act: actInfo, N: 7}, {Method: "GET"}}}},
	{"bad chunking", script{Steps: []step{
		{Method: "GET", Act: actBadChunk}, {Method: "GET"}}}},
	{"short body", script{Steps: []step{
		{Method: "GET", Act: actShort}, {Method: "GET"}}}},
	{"no answer", script{Steps: []step{
		{Method: "GET", Act: actNoAnswer}, {Method: "POST", Act: actNoAnswer}, {Method: "GET"}}}},
	{"garbage", script{Steps: []step{
		{Method: "GET", Act: actGarbage}, {Method: "GET"}}, Junk: []byte("SSH-2.0-OpenSSH_9.6")}},
	{"trailers", script{Steps: []step{
		{Method: "GET", Act: actTrailers}, {Method: "GET", Act: actChunked}}}},
	{"client closes, HTTP/1.0", script{Steps: []step{
		{Method: "GET", ClientClose: true}, {Method: "GET", HTTP10: true, Act: actChunked}, {Method: "HEAD", HTTP10: true}}}},
}

// TestPrimaryDifferential runs the seed scripts: the deterministic half of
// FuzzPrimaryDifferential.
func TestPrimaryDifferential(t *testing.T) {
	for _, tc := range differentialSeeds {
		t.Run(tc.name, func(t *testing.T) {
			// The encoding round-trips, so the fuzz corpus holds these.
			if got := decodeScript(tc.s.encode()); fmt.Sprint(got) != fmt.Sprint(tc.s) {
				t.Fatalf("script encodes to %+v, want %+v", got, tc.s)
			}
			differential(t, tc.s)
		})
	}
}

// FuzzPrimaryDifferential runs scripts decoded from the fuzz input:
//
//	go test -run '^$' -fuzz FuzzPrimaryDifferential -fuzztime 2m ./mirror/
func FuzzPrimaryDifferential(f *testing.F) {
	for _, tc := range differentialSeeds {
		f.Add(tc.s.encode())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := decodeScript(data)
		if len(s.Steps) == 0 {
			return
		}
		differential(t, s)
	})
}
