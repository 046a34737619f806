package compare

import (
	"strconv"
	"strings"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/grpcstatus"
)

// The status of a gRPC answer is its grpc-status, not its HTTP status: a
// gRPC server answers HTTP 200 to an OK and to a NOT_FOUND alike, and
// says which in the grpc-status trailer (or header, for an answer of
// trailers only). So when either answer of a pair is a gRPC answer, the
// pair's status difference is between gRPC statuses ("OK" against
// "NOT_FOUND"), and an answer that is not a gRPC one has the status a
// gRPC client would see: what the gRPC spec maps its HTTP status to
// ("UNAVAILABLE (HTTP 503)"). grpc-message is not compared.

// The gRPC codes that HTTP statuses map to.
const (
	grpcUnknown       = 2
	grpcInternal      = 13
	grpcUnimplemented = 12
	grpcUnavailable   = 14
	grpcPermission    = 7
	grpcUnauthentic   = 16
)

// statusDiff returns the status difference between two answers, if
// any: their gRPC statuses when either is a gRPC answer, else their HTTP
// statuses.
func statusDiff(a, b *exchange.Response) (Difference, bool) {
	if !isGRPCAnswer(a) && !isGRPCAnswer(b) {
		if a.Status == b.Status {
			return Difference{}, false
		}
		return Difference{Path: "status", Kind: Changed, Primary: strconv.Itoa(a.Status),
			Candidate: strconv.Itoa(b.Status), field: "status"}, true
	}
	ca, ta := grpcStatus(a)
	cb, tb := grpcStatus(b)
	if ca == cb {
		return Difference{}, false
	}
	return Difference{Path: "status", Kind: Changed, Primary: ta, Candidate: tb, field: "status"}, true
}

// isGRPCAnswer reports whether an answer is a gRPC one: a gRPC
// Content-Type, or a grpc-status.
func isGRPCAnswer(r *exchange.Response) bool {
	if ct := r.Header["Content-Type"]; len(ct) > 0 && isGRPCType(ct[0]) {
		return true
	}
	return len(r.Trailer["Grpc-Status"]) > 0 || len(r.Header["Grpc-Status"]) > 0
}

// isGRPCType reports whether a Content-Type is gRPC's: application/grpc,
// or application/grpc+proto and the like (not gRPC-Web).
func isGRPCType(ct string) bool {
	if !containsGRPC(ct) {
		return false // most answers: no need to lower-case the type
	}
	mt := mediaType(ct)
	return mt == "application/grpc" || strings.HasPrefix(mt, "application/grpc+")
}

// grpcStatus returns an answer's gRPC status code and its display text:
// grpc-status from the trailers, else from the headers (an answer of
// trailers only), else the code its HTTP status maps to.
func grpcStatus(r *exchange.Response) (int, string) {
	v := r.Trailer["Grpc-Status"]
	if len(v) == 0 {
		v = r.Header["Grpc-Status"]
	}
	if len(v) > 0 {
		code, err := strconv.Atoi(strings.TrimSpace(v[0]))
		if err != nil || code < 0 {
			return -1, "malformed grpc-status " + quote(clipTo(v[0], 32))
		}
		return code, grpcstatus.Name(code)
	}
	code := grpcUnknown
	switch r.Status {
	case 200:
		return code, "UNKNOWN (no grpc-status)"
	case 400:
		code = grpcInternal
	case 401:
		code = grpcUnauthentic
	case 403:
		code = grpcPermission
	case 404:
		code = grpcUnimplemented
	case 429, 502, 503, 504:
		code = grpcUnavailable
	}
	return code, grpcstatus.Name(code) + " (HTTP " + strconv.Itoa(r.Status) + ")"
}

// grpcEndpoint returns the route of a gRPC call's endpoint: its full
// method name ("/pkg.Service/Method"), as it is. Templating would fold a
// service name that looks like an id ("/shop.v1.OrderService2/Get" is
// long and has digits), or many methods of one service, into "{id}";
// MaxEndpoints still bounds how many there are. A request is a gRPC call
// when its Content-Type is gRPC's.
func grpcEndpoint(r *exchange.Request) (string, bool) {
	ct := r.Header["Content-Type"]
	if len(ct) == 0 || !isGRPCType(ct[0]) {
		return "", false
	}
	return requestPath(r.URL), true
}

// containsGRPC reports whether s holds "grpc" in any ASCII case. A type
// without it is no gRPC type: no other rune lower-cases to g, r, p or c.
func containsGRPC(s string) bool {
	for i := 0; i+4 <= len(s); i++ {
		if s[i]|0x20 == 'g' && s[i+1]|0x20 == 'r' && s[i+2]|0x20 == 'p' && s[i+3]|0x20 == 'c' {
			return true
		}
	}
	return false
}
