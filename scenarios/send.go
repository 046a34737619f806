package scenarios

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// maxPooledBody is the largest answer buffer kept for reuse; larger ones
// are left to the garbage collector so one big answer does not pin memory.
const maxPooledBody = 64 << 10

// bodyPool holds answer buffers between requests: at thousands of
// requests a second, a fresh buffer per answer is a large share of what
// the runner allocates.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads up to maxBodyBytes of an answer into a pooled buffer,
// drains a bounded rest so the connection can be reused, and closes the
// body. The caller hands the buffer back with putBody once it no longer
// reads it.
func readBody(resp *http.Response) (*bytes.Buffer, error) {
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBodyBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 8*maxBodyBytes))
	resp.Body.Close()
	return buf, err
}

func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBody {
		bodyPool.Put(buf)
	}
}

// send sends req. With the runner's own client it goes straight to the
// transport: that client follows no redirect and has no cookie jar or
// timeout of its own, so http.Client would only add a copy of every
// request's headers. Errors read as the client's would ("Get "URL":
// ..."). A URL with user info, or a client from RunnerOptions, goes
// through the client.
func (r *Runner) send(req *http.Request) (*http.Response, error) {
	if r.transport == nil || req.URL.User != nil {
		return r.client.Do(req)
	}
	resp, err := r.transport.RoundTrip(req)
	if err != nil {
		return nil, &url.Error{Op: urlErrorOp(req.Method), URL: req.URL.String(), Err: err}
	}
	return resp, nil
}

// urlErrorOp is how http.Client names a method in its errors: "Get",
// "Post".
func urlErrorOp(method string) string {
	if method == "" {
		return "Get"
	}
	return method[:1] + strings.ToLower(method[1:])
}

// maxDials bounds the connections the runner's own client opens at once.
const maxDials = 32

// limitDials lets at most n dials run at once. After a stall, a burst of
// starts finds no idle connection and net/http dials one for each; on a
// busy machine those dials (and the target accepting them) take long
// enough for the next starts to find none either, until max_in_flight is
// reached. With the dials limited, most of the burst is served by
// connections coming back, and the pool still grows to whatever the
// target needs, n at a time.
func limitDials(dial func(ctx context.Context, network, addr string) (net.Conn, error), n int) func(context.Context, string, string) (net.Conn, error) {
	sem := make(chan struct{}, n)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-sem }()
		return dial(ctx, network, addr)
	}
}
