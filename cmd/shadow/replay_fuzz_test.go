package main

import (
	"net/http"
	"testing"
)

// FuzzParseHeaders: a --header flag either parses into a header that
// holds the name, or is refused; it never panics.
func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{"Authorization: Bearer x", "X-A:", "nocolon", ": v", "  Name  :  spaced  ", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHeaders([]string{s})
		if err != nil {
			return
		}
		if len(h) != 1 {
			t.Fatalf("parseHeaders(%q) = %v, want one header", s, h)
		}
		for name := range h {
			if name != http.CanonicalHeaderKey(name) {
				t.Errorf("name %q is not canonical", name)
			}
		}
	})
}
