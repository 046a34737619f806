package admin

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestPprofEndpoints(t *testing.T) {
	t.Parallel()
	r := start(t, Config{})
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/debug/pprof/", 200, `href="goroutine?debug=1"`},
		{"/debug/pprof/goroutine?debug=1", 200, "goroutine profile: total"},
		{"/debug/pprof/heap?debug=1&gc=1", 200, "heap profile:"},
		{"/debug/pprof/allocs", 200, "\x1f\x8b"}, // gzipped protobuf
		{"/debug/pprof/nope", 404, `unknown profile "nope"`},
		{"/debug/pprof/heap?seconds=5", 400, "delta profiles (seconds=) are not served"},
		{"/debug/pprof/heap?debug=x", 400, `debug="x": want an integer`},
		{"/debug/pprof/profile?seconds=0", 400, "want a number above 0 and at most 300"},
		{"/debug/pprof/profile?seconds=301", 400, "at most 300"},
		{"/debug/pprof/trace?seconds=61", 400, "at most 60"},
		{"/debug/pprof/cmdline", 404, `unknown profile "cmdline"`},
	}
	for _, tt := range tests {
		resp, body := r.get(t, tt.path, nil)
		if resp.StatusCode != tt.wantStatus || !bytes.Contains(body, []byte(tt.wantBody)) {
			t.Errorf("GET %s = %d %.200q, want %d containing %q", tt.path, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
		}
	}
	if resp, _ := r.do(t, http.MethodPost, "/debug/pprof/heap", nil, nil); resp.StatusCode != 405 {
		t.Errorf("POST /debug/pprof/heap = %d, want 405", resp.StatusCode)
	}
}

// TestCPUProfileEndsOnShutdown proves a long CPU profile neither blocks a
// second one silently (it is refused) nor holds up shutdown: it ends with a
// valid profile when the server stops.
func TestCPUProfileEndsOnShutdown(t *testing.T) {
	// Not parallel: the CPU profiler is process-wide.
	r := start(t, Config{ShutdownTimeout: wait})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.url+"/debug/pprof/profile?seconds=120", nil)
	req.Header.Set(RequestHeader, "1")
	resp, err := r.client.HTTP.Do(req) // returns once the profile runs
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("profile = %d", resp.StatusCode)
	}

	second, body := r.get(t, "/debug/pprof/profile?seconds=1", nil)
	if second.StatusCode != 500 || !strings.Contains(string(body), "cannot start profile") {
		t.Errorf("second profile while one runs = %d %q, want 500 cannot start", second.StatusCode, body)
	}

	r.cancel() // Run shuts down while the profile runs
	profile, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read profile: %v", err)
	}
	if _, err := gzip.NewReader(bytes.NewReader(profile)); err != nil {
		t.Errorf("profile is not gzipped protobuf: %v (%d bytes)", err, len(profile))
	}
	if err := r.stop(t); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

func TestTrace(t *testing.T) {
	// Not parallel: the tracer is process-wide.
	r := start(t, Config{})
	resp, body := r.get(t, "/debug/pprof/trace?seconds=0.05", nil)
	if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("go 1.")) {
		t.Errorf("trace = %d, %d bytes starting %.20q; want 200 and a Go execution trace", resp.StatusCode, len(body), body)
	}
}
