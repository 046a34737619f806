package wire

import (
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// withoutH2CUpgrade serves an HTTP/1.1 request that asks to upgrade to h2c
// (RFC 7540 §3.2) as the plain HTTP/1.1 request it also is: net/http does
// not implement the upgrade (it speaks h2c with prior knowledge only), and
// a server that does not switch answers as if the Upgrade header were
// absent. The h2c token, HTTP2-Settings and their Connection options are
// removed, so that what follows (a proxy) neither forwards an upgrade it
// cannot complete nor treats the request as a tunnel. Other upgrades
// (WebSocket) pass untouched.
func withoutH2CUpgrade(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && httpguts.HeaderValuesContainsToken(r.Header["Upgrade"], "h2c") {
			r = stripH2CUpgrade(r)
		}
		h.ServeHTTP(w, r)
	})
}

// stripH2CUpgrade returns a shallow copy of r with its own headers,
// without the h2c upgrade.
func stripH2CUpgrade(r *http.Request) *http.Request {
	r2 := r.WithContext(r.Context())
	h := r.Header.Clone()
	r2.Header = h
	var rest []string
	for _, v := range h["Upgrade"] {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" && !strings.EqualFold(p, "h2c") {
				rest = append(rest, p)
			}
		}
	}
	delete(h, "Http2-Settings")
	drop := map[string]bool{"http2-settings": true}
	if len(rest) == 0 {
		delete(h, "Upgrade")
		drop["upgrade"] = true
	} else {
		h["Upgrade"] = []string{strings.Join(rest, ", ")}
	}
	var keep []string
	for _, v := range h["Connection"] {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" && !drop[strings.ToLower(p)] {
				keep = append(keep, p)
			}
		}
	}
	if len(keep) == 0 {
		delete(h, "Connection")
	} else {
		h["Connection"] = []string{strings.Join(keep, ", ")}
	}
	return r2
}
