package egress

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/understudy-dev/understudy/internal/traceparent"
)

func TestTrace(t *testing.T) {
	t.Parallel()
	const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tests := []struct {
		name    string
		in      []string
		wantSet bool
	}{
		{"client's valid one kept", []string{valid}, false},
		{"none", nil, true},
		{"invalid replaced", []string{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}, true},
		{"two replaced", []string{valid, valid}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got TraceInfo
			var header http.Header
			h := Trace(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = TraceFromContext(r.Context())
				header = r.Header.Clone()
			}))
			req := httptest.NewRequest("GET", "/orders", nil)
			for _, v := range tt.in {
				req.Header.Add("Traceparent", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got.Set != tt.wantSet {
				t.Errorf("Set = %v, want %v", got.Set, tt.wantSet)
			}
			vs := header.Values("Traceparent")
			if len(vs) != 1 || vs[0] != got.Traceparent {
				t.Fatalf("next saw traceparent %q, info says %q; want exactly one, the same", vs, got.Traceparent)
			}
			tp, ok := traceparent.Parse(vs[0])
			if !ok || tp.TraceIDString() != got.TraceID || TraceID(header) != got.TraceID {
				t.Errorf("traceparent %q: trace id %q, TraceID(header) %q, info %q; want one valid trace id", vs[0], tp.TraceIDString(), TraceID(header), got.TraceID)
			}
			if !tt.wantSet && got.Traceparent != valid {
				t.Errorf("client's valid traceparent changed to %q", got.Traceparent)
			}
			if tt.wantSet && (tp.Flags&traceparent.Sampled == 0 || len(got.Replaced) != len(tt.in)) {
				t.Errorf("new traceparent %q (replaced %q): want sampled, and the client's %d values kept in Replaced", vs[0], got.Replaced, len(tt.in))
			}
		})
	}
	if _, ok := TraceFromContext(t.Context()); ok {
		t.Error("TraceFromContext on a context Trace never saw reports true")
	}
}
