package traceparent

import (
	"net/http"
	"strings"
	"testing"
)

const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"spec example", valid, true},
		{"not sampled", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true},
		{"unknown flags kept", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09", true},
		{"future version, exact length", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},
		{"future version, more fields", "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds", true},
		{"empty", "", false},
		{"version ff", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
		{"version 00 too long", valid + "-00", false},
		{"version 00 trailing space", valid + " ", false},
		{"future version, no dash after flags", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", false},
		{"upper-case trace id", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false},
		{"upper-case version", "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
		{"upper-case flags", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A", false},
		{"all-zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", false},
		{"all-zero parent id", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false},
		{"short trace id", "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-001", false},
		{"wrong separator", "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
		{"non-hex", "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", false},
		{"plus sign", "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse(tt.in)
			if ok != tt.ok {
				t.Fatalf("Parse(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			}
			if ok && got.TraceIDString() != "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Errorf("Parse(%q).TraceIDString() = %q", tt.in, got.TraceIDString())
			}
		})
	}
}

func TestStringRoundTrips(t *testing.T) {
	t.Parallel()
	p, ok := Parse(valid)
	if !ok {
		t.Fatal("spec example does not parse")
	}
	if got := p.String(); got != valid {
		t.Errorf("String() = %q, want %q", got, valid)
	}
	future, _ := Parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
	if got := future.String(); got != valid {
		t.Errorf("future version String() = %q, want it written as version 00: %q", got, valid)
	}
}

func TestNewAndChild(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	if a.TraceID == b.TraceID {
		t.Error("two New() share a trace id")
	}
	if _, ok := Parse(a.String()); !ok || a.Flags != Sampled {
		t.Errorf("New() = %q (flags %02x), want a valid sampled value", a, a.Flags)
	}
	c := a.Child()
	if c.TraceID != a.TraceID || c.Flags != a.Flags || c.ParentID == a.ParentID {
		t.Errorf("Child() = %q of %q, want the same trace and flags under a new parent id", c, a)
	}
}

func TestFromHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    http.Header
		ok   bool
	}{
		{"one", http.Header{Header: {valid}}, true},
		{"none", http.Header{}, false},
		{"two", http.Header{Header: {valid, valid}}, false},
	}
	for _, tt := range tests {
		if _, ok := FromHeader(tt.h); ok != tt.ok {
			t.Errorf("%s: FromHeader ok = %v, want %v", tt.name, ok, tt.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(valid)
	f.Add("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
	f.Add(strings.Repeat("0", 55))
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := Parse(s)
		if !ok {
			return
		}
		// Whatever parsed writes back as a version 00 value that parses
		// to the same ids and flags.
		back, ok := Parse(p.String())
		if !ok || back.TraceID != p.TraceID || back.ParentID != p.ParentID || back.Flags != p.Flags {
			t.Fatalf("Parse(%q) = %+v; String() %q parses to %+v, %v", s, p, p.String(), back, ok)
		}
		if p.Version == 0 && p.String() != s {
			t.Fatalf("version 00 value %q writes back as %q", s, p.String())
		}
	})
}
