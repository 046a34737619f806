package mirror

import (
	"net"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/wire"
	"golang.org/x/net/idna"
)

// upstream is how requests reach one upstream: a transport for each
// protocol a client request may need, and the failures reaching it.
//
// Under wire.Auto the request keeps the protocol its client spoke where
// the upstream can: an HTTP/1.1 client's request goes over HTTP/1.1, an
// HTTP/2 client's over HTTP/2 when the upstream offers h2 by ALPN (over
// TLS). A request asking for a protocol upgrade (WebSocket) always goes
// over HTTP/1.1, the only version that has them; a gRPC call always over
// HTTP/2, the only version it has (under wire.Auto: h2c to an http
// upstream, h2 to an https one). Each transport has its own connections,
// so the protocols never share a pool.
type upstream struct {
	side     exchange.Side
	name     string            // a named candidate's (Candidate.Name); "" otherwise
	h1, h2   http.RoundTripper // for HTTP/1 and HTTP/2 clients' requests
	upgrade  http.RoundTripper // for upgrade requests
	grpc     http.RoundTripper // for gRPC calls
	all      []http.RoundTripper
	failures [numKinds]failureCount
}

// failureCount counts one kind of failure reaching an upstream.
type failureCount struct {
	n      atomic.Uint64
	reason atomic.Pointer[string] // the first failure's error
}

// numKinds is how many kinds of failure there are; kindIndex maps a kind
// to its index in wire.Kinds.
const numKinds = len(wire.Kinds)

var kindIndex = func() map[string]int {
	m := make(map[string]int, len(wire.Kinds))
	for i, k := range wire.Kinds {
		m[k] = i
	}
	return m
}()

// newUpstream builds the transports to the upstream at u as t says, each
// keeping maxIdle idle connections. shared, when not nil, is used for
// every request instead (Config.Transport), and t's TLS and Protocol are
// not used. With lean, plain HTTP/1.1 requests to an http upstream go
// through a copyClient (which sends the rest through the transport).
func newUpstream(side exchange.Side, t Target, u *url.URL, maxIdle int, shared http.RoundTripper, lean bool) (*upstream, error) {
	up := &upstream{side: side}
	if shared != nil {
		up.h1, up.h2, up.upgrade, up.grpc, up.all = shared, shared, shared, shared, []http.RoundTripper{shared}
		return up, nil
	}
	made := map[string]http.RoundTripper{}
	build := func(ps *http.Protocols) (http.RoundTripper, error) {
		if rt, ok := made[ps.String()]; ok {
			return rt, nil
		}
		tr, err := wire.NewTransport(newTransport(maxIdle), t.TLS, ps)
		if err != nil {
			return nil, err
		}
		var rt http.RoundTripper = tr
		if lean && copyClientWorks && u.Scheme == "http" && ps.HTTP1() && !ps.UnencryptedHTTP2() {
			rt = newCopyClient(dialAddr(u), maxIdle, tr)
		}
		made[ps.String()] = rt
		up.all = append(up.all, rt)
		return rt, nil
	}
	var err error
	if up.h1, err = build(t.Protocol.Protocols(u.Scheme, 1)); err != nil {
		return nil, err
	}
	if up.h2, err = build(t.Protocol.Protocols(u.Scheme, 2)); err != nil {
		return nil, err
	}
	if up.upgrade, err = build(wire.HTTP1.Protocols(u.Scheme, 1)); err != nil {
		return nil, err
	}
	if up.grpc, err = build(grpcProtocol(t.Protocol, u.Scheme).Protocols(u.Scheme, 2)); err != nil {
		return nil, err
	}
	return up, nil
}

// dialAddr is the host:port to dial for the http URL u, as http.Transport
// makes it: the host in ASCII (IDNA), and its port, or 80 when it names
// none.
func dialAddr(u *url.URL) string {
	host, port := u.Hostname(), u.Port()
	if a, err := idna.Lookup.ToASCII(host); err == nil {
		host = a
	}
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port)
}

// RoundTrip sends req over the transport for its client's protocol
// (req.ProtoMajor, which ReverseProxy's outbound request and a copy's
// request carry from the client's).
func (up *upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	switch {
	case len(req.Header["Upgrade"]) > 0:
		return up.upgrade.RoundTrip(req)
	case isGRPCRequest(req):
		return up.grpc.RoundTrip(req)
	case req.ProtoMajor == 2:
		return up.h2.RoundTrip(req)
	}
	return up.h1.RoundTrip(req)
}

// closeIdle closes the idle connections of every transport.
func (up *upstream) closeIdle() {
	for _, rt := range up.all {
		closeIdle(rt)
	}
}

// record counts a failure of kind (one of wire.Kinds) reaching the
// upstream, for the reason given, and reports whether it is the first of
// its kind (to be logged).
func (up *upstream) record(kind, reason string) (first bool) {
	f := &up.failures[kindIndex[kind]]
	if f.reason.Load() == nil { // before counting: a count comes with its reason
		first = f.reason.CompareAndSwap(nil, &reason)
	}
	f.n.Add(1)
	return first
}

// appendFailures appends the upstream's failures, a Failure per kind seen.
func (up *upstream) appendFailures(out []Failure) []Failure {
	for i, k := range wire.Kinds {
		f := &up.failures[i]
		if n := f.n.Load(); n > 0 {
			var reason string
			if r := f.reason.Load(); r != nil {
				reason = *r
			}
			out = append(out, Failure{Upstream: string(up.side), Candidate: up.name, Kind: k, Count: n, Reason: reason})
		}
	}
	return out
}

// label names the upstream in logs: "primary", "candidate", "secondary",
// or "candidate v2" for a named candidate.
func (up *upstream) label() string {
	if up.name != "" {
		return string(up.side) + " " + up.name
	}
	return string(up.side)
}
