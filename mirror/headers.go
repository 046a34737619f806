package mirror

import (
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// hopHeaders are the hop-by-hop headers ReverseProxy removes (RFC 9110
// section 7.6.1); copies and recorded headers drop the same ones. Each is
// in canonical form (TestHopHeadersCanonical).
var hopHeaders = []string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// removeHopByHop removes hop-by-hop headers from h exactly as ReverseProxy
// does: the ones named in Connection, then the well-known ones.
func removeHopByHop(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, f := range hopHeaders {
		delete(h, f) // canonical already: h.Del would canonicalize each name again, on every request
	}
}

// Shared read-only values for X-Forwarded-Proto: never appended to or
// modified, so every request may point at them instead of allocating.
var (
	protoHTTP  = []string{"http"}
	protoHTTPS = []string{"https"}
)

// setForwarded sets the forwarding headers of an outbound request, the same
// way for the primary and for every copy, so the candidate sees what the
// primary saw. in holds the client's headers, out the outbound ones.
//
// The proxy is meant to be invisible to the primary, so what the client (or
// a load balancer in front of the proxy) sent is kept: Forwarded,
// X-Forwarded-Host and X-Forwarded-Proto pass unchanged, and the client's
// address is appended to X-Forwarded-For as ReverseProxy does by default.
// X-Forwarded-Host and X-Forwarded-Proto are only filled in when absent,
// because the Host header the upstream gets is its own.
func setForwarded(out, in http.Header, remoteAddr, host string, tls bool) {
	if v := in["Forwarded"]; len(v) > 0 {
		out["Forwarded"] = v
	}
	if ip, _, err := net.SplitHostPort(remoteAddr); err == nil {
		if prior := in["X-Forwarded-For"]; len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		out["X-Forwarded-For"] = []string{ip}
	} else if v := in["X-Forwarded-For"]; len(v) > 0 {
		out["X-Forwarded-For"] = v
	}
	if v := in["X-Forwarded-Host"]; len(v) > 0 {
		out["X-Forwarded-Host"] = v
	} else if host != "" {
		out["X-Forwarded-Host"] = []string{host}
	}
	switch v := in["X-Forwarded-Proto"]; {
	case len(v) > 0:
		out["X-Forwarded-Proto"] = v
	case tls:
		out["X-Forwarded-Proto"] = protoHTTPS
	default:
		out["X-Forwarded-Proto"] = protoHTTP
	}
}

// cleanQuery removes unparsable query parameters the way ReverseProxy does
// before its Rewrite hook runs (a query the upstream would parse
// differently from the proxy is a known smuggling vector), so that copies
// carry the same query as the primary.
func cleanQuery(s string) string {
	reencode := func(s string) string {
		v, _ := url.ParseQuery(s)
		return v.Encode()
	}
	if strings.Count(s, "&")+1 > maxQueryParams {
		return reencode(s)
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case ';':
			return reencode(s)
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return reencode(s)
			}
			i += 3
		default:
			i++
		}
	}
	return s
}

// maxQueryParams is ReverseProxy's default limit on query parameters.
const maxQueryParams = 10000

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
