package mirror

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// memTransport answers every request at once from memory, so allocation
// counts are the proxy's own and not a network stack's.
type memTransport struct{}

func (memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode:    http.StatusOK,
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/plain"}},
		Body:          io.NopCloser(strings.NewReader("ok")),
		ContentLength: 2,
		Request:       r,
	}, nil
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// TestSkippedPathAllocatesNothing checks that deciding not to mirror (route
// matching, method check, live settings, pause, keyed sampling, counters)
// allocates nothing: a skipped request costs exactly what the bare
// ReverseProxy inside costs.
func TestSkippedPathAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	p, err := New(Config{
		Primary: "http://127.0.0.1:1", Candidate: "http://127.0.0.1:2",
		Transport: memTransport{}, Logger: discardLogger,
		Routes: []Route{
			{Path: "/orders/{id}", Unsafe: true},
			{Path: "/admin/*", Headers: map[string]string{"X-Role": "admin"}},
			{Name: "static", Path: "/static/*", Disabled: true},
			{Name: "paused", Path: "/paused/*"},
		},
		SamplePercent: 50, SampleBy: "header:X-User-Id",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// A user out of a 50% sample: sampleHash("user-41") >= 2^63.
	const outUser = "user-41"
	if sampleHash(outUser) < sampleThreshold(50) {
		t.Fatalf("%s is in the 50%% sample; pick a user who is not", outUser)
	}
	tests := []struct {
		name, method, target string
		pause                bool
	}{
		{"disabled route", http.MethodGet, "/static/app.js", false},
		{"unsafe method", http.MethodPost, "/products", false},
		{"sampled out by key", http.MethodGet, "/products", false},
		{"paused", http.MethodGet, "/paused/x", true},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		r.Header.Set("User-Agent", "bench")
		r.Header.Set("X-User-Id", outUser)
		if tc.pause {
			p.Pause()
		}
		w := &discardWriter{h: make(http.Header)}
		run := func(h http.Handler) float64 {
			return testing.AllocsPerRun(200, func() {
				clear(w.h)
				h.ServeHTTP(w, r)
			})
		}
		bare, proxy := run(p.plain), run(p)
		if proxy > bare {
			t.Errorf("%s: %v allocations per request, want the bare ReverseProxy's %v", tc.name, proxy, bare)
		}
	}
	if s := p.Stats(); s.Mirrored != 0 || s.Skipped["route"] == 0 || s.Skipped["method"] == 0 ||
		s.Skipped["sample"] == 0 || s.Skipped["paused"] == 0 {
		t.Errorf("mirrored %d, skipped %v: want every request skipped, for each reason", s.Mirrored, s.Skipped)
	}
}
