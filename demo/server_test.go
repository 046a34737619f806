package demo

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestStartServesAndCloses(t *testing.T) {
	t.Parallel()
	srv, err := Start(Options{Version: 2, Seed: 5, SlowDelay: -1, ErrorRate: -1})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want a loopback address", srv.URL)
	}
	if got := srv.Service.Version(); got != 2 {
		t.Errorf("Service.Version() = %d, want 2", got)
	}
	client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	if got := do(t, client, "GET", srv.URL+"/healthz", ""); got.Status != http.StatusOK || got.Raw != "ok" {
		t.Errorf("healthz = %d %q, want 200 ok", got.Status, got.Raw)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := client.Get(srv.URL + "/healthz"); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	t.Parallel()
	if srv, err := Start(Options{Version: 7}); err == nil || !strings.Contains(err.Error(), "Version") {
		if srv != nil {
			srv.Close()
		}
		t.Errorf("Start(Version: 7) error = %v, want one naming Version", err)
	}
}

// TestCloseEndsDelayedAnswers proves Close does not wait out a long delay: a
// request parked in version 2's slow endpoint gets 503 as soon as the server
// closes, and no goroutine is left (TestMain checks).
func TestCloseEndsDelayedAnswers(t *testing.T) {
	t.Parallel()
	svc := New(Options{Version: 2, SlowDelay: time.Hour, ErrorRate: -1})
	parked := make(chan struct{})
	svc.sleep = func(ctx context.Context, d time.Duration) bool {
		close(parked)
		return sleepContext(ctx, d)
	}
	srv, err := serve(svc)
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	status := make(chan int, 1)
	go func() {
		resp, err := client.Get(srv.URL + "/orders?customer=a")
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	select {
	case <-parked:
	case <-time.After(30 * time.Second):
		t.Fatal("request never reached the slow endpoint")
	}
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close waited on the delayed answer")
	}
	if got := <-status; got != http.StatusServiceUnavailable {
		t.Errorf("delayed request got %d, want 503", got)
	}
}
