package mirror

import (
	"bytes"
	"context"
	"github.com/understudy-dev/understudy/internal/testio"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/wire"
)

// The HTTP/2 rows of the fault matrix (see matrixCases): an HTTP/2 client,
// or an HTTP/1.1 client in front of an HTTP/2 primary, through shadow and
// through a plain ReverseProxy with the same transport.

// protoPrimary answers by path: trailers, no content, a large body, a
// body in two flushed parts, or what it was asked.
func protoPrimary(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Upstream", "1")
	w.Header().Set("X-Proto", r.Proto)
	switch r.URL.Path {
	case "/trailers":
		w.Header().Set("Trailer", "X-Sum")
		_, _ = io.WriteString(w, "body with a trailer")
		w.Header().Set("X-Sum", "42")
	case "/empty":
		w.WriteHeader(http.StatusNoContent)
	case "/big":
		writeBig(w, 1<<20)
	case "/stream":
		_, _ = io.WriteString(w, "part one, ")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "part two")
	case "/missing":
		http.NotFound(w, r)
	default:
		_, _ = io.WriteString(w, r.Method+" "+r.RequestURI)
	}
}

// h2Req is one request of an HTTP/2 client.
type h2Req struct {
	method, path, body string
	header             []string // name, value, ...
}

// h2Reqs are what the HTTP/2 rows send.
var h2Reqs = []h2Req{
	{method: "GET", path: "/plain?q=1"},
	{method: "GET", path: "/trailers", header: []string{"Te", "trailers"}},
	{method: "HEAD", path: "/plain"},
	{method: "GET", path: "/empty"},
	{method: "GET", path: "/missing"},
	{method: "POST", path: "/post", body: strings.Repeat("b", 100<<10)},
	{method: "GET", path: "/big"},
	{method: "GET", path: "/stream"},
}

// h1Reqs are h2Reqs as raw HTTP/1.1 requests on one connection.
func h1Reqs() []rawReq {
	var out []rawReq
	for _, rq := range h2Reqs {
		var lines []string
		for j := 0; j+1 < len(rq.header); j += 2 {
			lines = append(lines, rq.header[j]+": "+rq.header[j+1])
		}
		out = append(out, request(rq.method, rq.path, rq.body, lines...))
	}
	return out
}

// h2Client sends reqs to addr with an HTTP/2 client (h2c prior knowledge),
// one connection for all, and returns the answers as rawClient does.
func h2Client(t *testing.T, addr string, reqs []h2Req) []answer {
	t.Helper()
	tr := &http.Transport{Protocols: &http.Protocols{}}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	out := make([]answer, len(reqs))
	for i, rq := range reqs {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		req, err := http.NewRequestWithContext(ctx, rq.method, "http://"+addr+rq.path, bytes.NewReader([]byte(rq.body)))
		if err != nil {
			t.Fatal(err)
		}
		if rq.body == "" {
			req.Body = nil
		}
		for j := 0; j+1 < len(rq.header); j += 2 {
			req.Header.Add(rq.header[j], rq.header[j+1])
		}
		res, err := tr.RoundTrip(req)
		if err != nil {
			out[i].Err = errClass(err)
			cancel()
			continue
		}
		a := answer{Proto: res.Proto, Status: res.StatusCode, Header: res.Header}
		a.Header.Del("Date")
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		a.Body = string(body)
		if err != nil {
			a.Err = errClass(err)
		}
		if len(res.Trailer) > 0 {
			a.Trailer = res.Trailer
		}
		out[i] = a
		cancel()
	}
	return out
}

// withH2C returns adjust, then h2c turned on beside HTTP/1.1.
func withH2C(adjust func(*http.Server)) func(*http.Server) {
	return func(s *http.Server) {
		if adjust != nil {
			adjust(s)
		}
		s.Protocols = &http.Protocols{}
		s.Protocols.SetHTTP1(true)
		s.Protocols.SetUnencryptedHTTP2(true)
	}
}

// withProtocol returns cfg with its primary spoken to in p.
func withProtocol(cfg Config, p wire.Protocol) Config {
	cfg.PrimaryTarget.Protocol = p
	return cfg
}

// mirroredAll checks that shadow compared n exchanges, every copy
// answered.
func mirroredAll(n int) func(t *testing.T, p *Proxy, _ []answer) {
	return func(t *testing.T, p *Proxy, _ []answer) {
		testio.Eventually(t, "every copy to be compared", func() bool { return p.Stats().Completed == uint64(n) })
		if s := p.Stats(); s.CandidateErrors != 0 || s.PrimaryErrors != 0 || len(s.Failures) != 0 {
			t.Errorf("candidate errors %d, primary errors %d, failures %+v; want none", s.CandidateErrors, s.PrimaryErrors, s.Failures)
		}
	}
}
