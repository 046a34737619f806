package demo

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

// waitFor polls cond until it holds, failing the test after a generous
// bound rather than hanging.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTrafficValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tr      *Traffic
		wantErr string
	}{
		{"valid", &Traffic{BaseURL: "http://127.0.0.1:1", Rate: 10}, ""},
		{"no url", &Traffic{Rate: 10}, "BaseURL"},
		{"relative url", &Traffic{BaseURL: "/orders", Rate: 10}, "BaseURL"},
		{"other scheme", &Traffic{BaseURL: "ftp://127.0.0.1", Rate: 10}, "BaseURL"},
		{"zero rate", &Traffic{BaseURL: "http://127.0.0.1:1"}, "Rate"},
		{"rate beyond the pacer", &Traffic{BaseURL: "http://127.0.0.1:1", Rate: 2_000_000_000}, "Rate"},
		{"negative in flight", &Traffic{BaseURL: "http://127.0.0.1:1", Rate: 1, MaxInFlight: -1}, "MaxInFlight"},
		{"negative requests", &Traffic{BaseURL: "http://127.0.0.1:1", Rate: 1, MaxRequests: -1}, "MaxRequests"},
	}
	for _, tt := range tests {
		err := tt.tr.Validate()
		if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Validate() = %v, want error naming %q", tt.name, err, tt.wantErr)
		}
		if tt.wantErr != "" {
			if err := tt.tr.Run(context.Background()); err == nil {
				t.Errorf("%s: Run accepted an invalid configuration", tt.name)
			}
		}
	}
}

// TestTrafficAgainstService runs a bounded load against a Start()ed instance:
// every start is sent or dropped, nothing fails, every kind of request is in
// the mix, and the orders it creates are synthetic, so the analytics leave
// them all out.
func TestTrafficAgainstService(t *testing.T) {
	t.Parallel()
	srv, err := Start(Options{Version: 1, Seed: 1})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer srv.Close()

	// Record what Traffic sends on its way to the server, over loopback.
	var mu sync.Mutex
	kinds := map[string]int{}
	var untagged, unflagged int
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Timeout: 30 * time.Second, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		kind := r.Method + " " + r.URL.Path
		switch {
		case strings.HasSuffix(r.URL.Path, "/cancel"):
			kind = "cancel"
		case strings.HasPrefix(r.URL.Path, "/orders/"):
			kind = "GET /orders/{id}"
		case r.URL.Path == "/orders" && r.Method == "GET":
			kind = "GET /orders?customer="
		}
		var body []byte
		if r.GetBody != nil {
			rc, _ := r.GetBody()
			body, _ = io.ReadAll(rc)
		}
		mu.Lock()
		kinds[kind]++
		if r.Header.Get("X-Synthetic") != "true" {
			untagged++
		}
		if kind == "POST /orders" {
			var flag struct{ Synthetic bool }
			if json.Unmarshal(body, &flag) != nil || !flag.Synthetic {
				unflagged++
			}
		}
		mu.Unlock()
		return base.RoundTrip(r)
	})}

	const n = 200
	tr := &Traffic{BaseURL: srv.URL, Rate: 1000, Seed: 7, MaxRequests: n, Client: client}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := tr.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	st := tr.Stats()
	if st.Sent+st.Dropped != n || st.Sent == 0 {
		t.Errorf("sent %d + dropped %d, want %d starts, most sent", st.Sent, st.Dropped, n)
	}
	if st.Failed != 0 || st.ServerErrors != 0 {
		t.Errorf("stats = %+v, want no failures and no 5xx from version 1", st)
	}
	if st.OK+st.ClientErrors != st.Sent {
		t.Errorf("answers %d OK + %d 4xx, want all %d sent", st.OK, st.ClientErrors, st.Sent)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, k := range []string{"GET /menu", "POST /orders", "GET /orders/{id}", "GET /orders?customer=", "cancel"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the mix: %v", k, kinds)
		}
	}
	if untagged != 0 || unflagged != 0 {
		t.Errorf("%d requests without X-Synthetic, %d creates without the body flag", untagged, unflagged)
	}
	got := do(t, &http.Client{Transport: base}, "GET", srv.URL+"/analytics", "")
	a := got.Body.(map[string]any)
	if a["orders"] != 0.0 || a["revenue"] != 0.0 || a["synthetic_excluded"] != float64(srv.Service.store.len()) {
		t.Errorf("analytics = %v, want 0 orders, 0 revenue, %d synthetic excluded", a, srv.Service.store.len())
	}
}

// TestTrafficDropsWhenSaturated proves starts are dropped, not queued, while
// MaxInFlight requests are stuck: the backend holds the first request until
// the other starts have been counted as dropped.
func TestTrafficDropsWhenSaturated(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer backend.Close()
	tr := &Traffic{BaseURL: backend.URL, Rate: 1000, MaxInFlight: 1, MaxRequests: 5, Seed: 1}
	done := make(chan error, 1)
	go func() { done <- tr.Run(context.Background()) }()
	waitFor(t, "four dropped starts", func() bool { return tr.Stats().Dropped == 4 })
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the backend let go")
	}
	if got, want := tr.Stats(), (TrafficStats{Sent: 1, Dropped: 4, OK: 1}); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}

// TestTrafficStopsWithContext proves Run returns once its context ends,
// cancelling what is in flight without counting it as failed.
func TestTrafficStopsWithContext(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{}, 100)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body, or the server cannot notice the client leaving.
		_, _ = io.Copy(io.Discard, r.Body)
		entered <- struct{}{}
		<-r.Context().Done() // never answers on its own
	}))
	defer backend.Close()
	tr := &Traffic{BaseURL: backend.URL, Rate: 100, MaxInFlight: 2, Seed: 1}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	for i := 0; i < 2; i++ {
		select {
		case <-entered:
		case <-time.After(30 * time.Second):
			t.Fatal("requests never reached the backend")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if st := tr.Stats(); st.Sent < 2 || st.Failed != 0 {
		t.Errorf("stats = %+v, want at least 2 sent and none failed", st)
	}
}

// TestTrafficLeavesNoGoroutine proves Run's own client closes every
// connection when Run returns, even though the server keeps running. It is
// not parallel, so the goroutines it sees are its own.
func TestTrafficLeavesNoGoroutine(t *testing.T) {
	srv, err := Start(Options{Version: 1, Seed: 1})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer srv.Close()
	before := goleak.IgnoreCurrent()
	tr := &Traffic{BaseURL: srv.URL, Rate: 2000, Seed: 1, MaxInFlight: 8, MaxRequests: 300}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st := tr.Stats(); st.OK == 0 || st.Failed != 0 {
		t.Fatalf("stats = %+v, want answers and no failures", st)
	}
	goleak.VerifyNone(t, before)
}

func TestTrafficFailuresCounted(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.NotFoundHandler())
	url := backend.URL
	backend.Close() // nothing listens there now
	tr := &Traffic{BaseURL: url, Rate: 1000, MaxRequests: 3, Seed: 1}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st := tr.Stats(); st.Failed != st.Sent || st.Sent+st.Dropped != 3 {
		t.Errorf("stats = %+v, want every sent request failed", st)
	}
}

func TestTrafficMixDeterministic(t *testing.T) {
	t.Parallel()
	calls := func(seed int64) []string {
		m := newTrafficMix(seed)
		var out []string
		for i := 0; i < 50; i++ {
			c := m.next()
			out = append(out, c.method+" "+c.path+" "+string(c.body))
		}
		return out
	}
	a, b := calls(3), calls(3)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different mix (-first +second):\n%s", diff)
	}
	if cmp.Equal(a, calls(4)) {
		t.Error("different seeds gave the same mix")
	}
}
