package replay

import (
	"encoding/binary"
	"net/http"
	"strings"

	"github.com/understudy-dev/understudy/exchange"
)

// gRPC calls. A recorded request with a gRPC Content-Type (application/grpc,
// application/grpc+proto, ...) is replayed over HTTP/2, the only version
// gRPC speaks: with prior knowledge (h2c) to an http:// candidate, by ALPN
// to an https:// one; with "TE: trailers", which gRPC servers expect and
// the proxy, as it does every hop-by-hop header, did not record. Its body
// is the frames the client sent, as recorded. A call of one request
// message (unary or server-streaming) is replayed like a safe method,
// because shadow run mirrors those too; a call of more messages
// (client-streaming or bidi) only with Unsafe.

// isGRPC reports whether a recorded request is a gRPC call.
func isGRPC(h http.Header) bool {
	ct := strings.ToLower(h.Get("Content-Type"))
	return ct == "application/grpc" || strings.HasPrefix(ct, "application/grpc+") || strings.HasPrefix(ct, "application/grpc;")
}

// unaryGRPC reports whether a recorded request is a gRPC call whose body
// is exactly one message.
func unaryGRPC(req *exchange.Request) bool {
	if !isGRPC(req.Header) {
		return false
	}
	b := req.Body
	return len(b) >= 5 && uint64(len(b)-5) == uint64(binary.BigEndian.Uint32(b[1:5]))
}

// grpcTransport sends gRPC calls over HTTP/2 (h2c in the clear) and
// every other request over the transport it wraps.
type grpcTransport struct {
	http, h2c *http.Transport
}

// newGRPCTransport returns a transport that sends gRPC calls in the clear
// over h2c with base's settings, and the rest (and gRPC over TLS, which
// base's ALPN takes to HTTP/2) over base.
func newGRPCTransport(base *http.Transport) *grpcTransport {
	h2c := base.Clone()
	h2c.Protocols = &http.Protocols{}
	h2c.Protocols.SetUnencryptedHTTP2(true)
	return &grpcTransport{http: base, h2c: h2c}
}

// RoundTrip sends req.
func (t *grpcTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if isGRPC(req.Header) && req.URL.Scheme == "http" {
		return t.h2c.RoundTrip(req)
	}
	return t.http.RoundTrip(req)
}

// CloseIdleConnections closes both transports' idle connections.
func (t *grpcTransport) CloseIdleConnections() {
	t.http.CloseIdleConnections()
	t.h2c.CloseIdleConnections()
}
