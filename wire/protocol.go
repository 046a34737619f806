package wire

import (
	"fmt"
	"net/http"
)

// Protocol is the HTTP version spoken to an upstream. The zero value is
// Auto.
type Protocol string

// The protocols an upstream may speak.
const (
	// Auto speaks HTTP/2 over TLS when the upstream offers it by ALPN
	// (and, for a proxied request, when the client spoke HTTP/2 too), and
	// HTTP/1.1 otherwise; always HTTP/1.1 in the clear.
	Auto Protocol = "auto"
	// HTTP1 always speaks HTTP/1.1, over TLS or in the clear.
	HTTP1 Protocol = "http1"
	// H2 always speaks HTTP/2 over TLS (an https URL); an upstream that
	// does not select h2 by ALPN fails with a protocol error.
	H2 Protocol = "h2"
	// H2C always speaks HTTP/2 in the clear with prior knowledge (an http
	// URL), as gRPC servers without TLS do.
	H2C Protocol = "h2c"
)

// Validate reports whether p can be spoken to an upstream whose URL has
// scheme ("http" or "https").
func (p Protocol) Validate(scheme string) error {
	switch p {
	case "", Auto, HTTP1:
		return nil
	case H2:
		if scheme != "https" {
			return fmt.Errorf("%q needs an https:// upstream (HTTP/2 in the clear is h2c)", p)
		}
		return nil
	case H2C:
		if scheme != "http" {
			return fmt.Errorf("%q needs an http:// upstream (HTTP/2 over TLS is h2)", p)
		}
		return nil
	}
	return fmt.Errorf("%q is not a protocol; want auto, http1, h2 or h2c", string(p))
}

// Protocols returns what a transport to an upstream with scheme offers
// under p for a request whose client spoke HTTP/clientMajor (0: no client
// to follow, a request of our own). Under Auto over TLS an HTTP/1 client's
// request stays HTTP/1.1, so that the upstream sees the protocol the
// client used; any other is offered h2 and http/1.1 by ALPN.
func (p Protocol) Protocols(scheme string, clientMajor int) *http.Protocols {
	var ps http.Protocols
	switch {
	case p == HTTP1:
		ps.SetHTTP1(true)
	case p == H2:
		ps.SetHTTP2(true)
	case p == H2C:
		ps.SetUnencryptedHTTP2(true)
	case scheme == "https" && clientMajor != 1:
		ps.SetHTTP1(true)
		ps.SetHTTP2(true)
	default:
		ps.SetHTTP1(true)
	}
	return &ps
}
