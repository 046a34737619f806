package mirror

import (
	"net/http"
	"net/textproto"
	"testing"
)

// TestHopHeadersCanonical guards removeHopByHop, which deletes hopHeaders
// by map key: a name not in canonical form would never match.
func TestHopHeadersCanonical(t *testing.T) {
	for _, h := range hopHeaders {
		if c := textproto.CanonicalMIMEHeaderKey(h); c != h {
			t.Errorf("hop header %q is not canonical (%q): removeHopByHop would leave it", h, c)
		}
	}
}

// TestRemoveHopByHop checks that the well-known hop-by-hop headers and the
// ones Connection names (in any case) go, and end-to-end headers stay.
func TestRemoveHopByHop(t *testing.T) {
	h := http.Header{}
	for _, k := range hopHeaders {
		h.Set(k, "x")
	}
	h.Set("Connection", "close, x-private ,Keep-Alive")
	h.Set("X-Private", "secret")
	h.Set("Content-Type", "text/plain")
	h.Set("X-Request-Id", "1")
	removeHopByHop(h)
	want := http.Header{"Content-Type": {"text/plain"}, "X-Request-Id": {"1"}}
	if len(h) != len(want) || h.Get("Content-Type") != "text/plain" || h.Get("X-Request-Id") != "1" {
		t.Errorf("after removeHopByHop: %v, want %v", h, want)
	}
}
