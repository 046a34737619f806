package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/internal/testio"
)

func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	r := start(t, Config{Snapshot: (&fakeState{}).Snapshot})
	var got stateSnapshot
	if err := r.client.Snapshot(context.Background(), &got); err != nil {
		t.Fatal(err)
	}
	want := stateSnapshot{
		Seq:       1,
		Name:      "orders <v2> & co",
		Endpoints: map[string]float64{"GET /orders/{id}": 0.25, "POST /orders": 1},
		Started:   started,
		Tags:      []string{"synthetic", "ünïcode"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}

	resp, body := r.get(t, "/snapshot", nil)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if !strings.Contains(string(body), `"name":"orders <v2> & co"`) {
		t.Errorf("body %s: want HTML characters left unescaped", body)
	}
	resp, body = r.do(t, http.MethodHead, "/snapshot", nil, nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength <= 0 {
		t.Errorf("HEAD /snapshot = %d, %d body bytes, Content-Length %d; want 200, 0, > 0", resp.StatusCode, len(body), resp.ContentLength)
	}
}

func TestSnapshotRefusals(t *testing.T) {
	t.Parallel()
	big := func() any { return map[string]string{"blob": strings.Repeat("x", 2048)} }
	nan := func() any { return map[string]float64{"p99": math.NaN()} }
	tests := []struct {
		name       string
		cfg        Config
		method     string
		path       string
		wantStatus int
		wantMsg    string
	}{
		{"no snapshot", Config{}, "GET", "/snapshot", 404, "snapshots are not enabled on this instance"},
		{"no snapshot stream", Config{}, "GET", "/snapshot/stream", 404, "snapshots are not enabled"},
		{"too large", Config{Snapshot: big, MaxSnapshotBytes: 1024}, "GET", "/snapshot", 500, "over the limit of 1024 (MaxSnapshotBytes)"},
		{"too large stream", Config{Snapshot: big, MaxSnapshotBytes: 1024}, "GET", "/snapshot/stream", 500, "over the limit of 1024"},
		{"not encodable", Config{Snapshot: nan}, "GET", "/snapshot", 500, "encode snapshot: json: unsupported value: NaN"},
		{"POST", Config{Snapshot: big}, "POST", "/snapshot", 405, "method POST not allowed: /snapshot takes GET or HEAD"},
		{"POST stream", Config{Snapshot: big}, "POST", "/snapshot/stream", 405, "takes GET"},
		{"HEAD stream query", Config{Snapshot: big}, "HEAD", "/snapshot?stream=1", 405, ""},
		{"bad stream flag", Config{Snapshot: big}, "GET", "/snapshot?stream=maybe", 400, `stream="maybe": want 1 or 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, tt.cfg)
			resp, body := r.do(t, tt.method, tt.path, nil, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, body, tt.wantStatus)
			}
			if tt.method == "HEAD" {
				return
			}
			var got errorBody
			if err := json.Unmarshal(body, &got); err != nil || !strings.Contains(got.Error, tt.wantMsg) {
				t.Errorf("%s %s body = %s, want a JSON error containing %q", tt.method, tt.path, body, tt.wantMsg)
			}
		})
	}
}

func TestClientSnapshotErrors(t *testing.T) {
	t.Parallel()
	r := start(t, Config{Snapshot: func() any { return map[string]string{"blob": strings.Repeat("x", 2048)} }, MaxSnapshotBytes: 1024})
	var v any
	err := r.client.Snapshot(context.Background(), &v)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 500 {
		t.Fatalf("Snapshot of an oversized state = %v, want a 500 StatusError", err)
	}
	for _, want := range []string{"admin GET " + r.url + "/snapshot", "500 Internal Server Error", "over the limit of 1024"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	small := start(t, Config{Snapshot: (&fakeState{}).Snapshot})
	c := *small.client
	c.MaxSnapshotBytes = 16
	if err := c.Snapshot(context.Background(), &v); err == nil || !strings.Contains(err.Error(), "larger than 16 bytes") {
		t.Errorf("Snapshot with a 16-byte bound = %v, want it refused as too large", err)
	}
	var wrongType []int
	if err := small.client.Snapshot(context.Background(), &wrongType); err == nil || !strings.Contains(err.Error(), "decode snapshot") {
		t.Errorf("Snapshot into []int = %v, want a decode error", err)
	}
}

// TestStreamUntilCancel proves the stream delivers successive snapshots and
// ends, on both sides, when the client's context is cancelled.
func TestStreamUntilCancel(t *testing.T) {
	t.Parallel()
	r := start(t, Config{Snapshot: (&fakeState{}).Snapshot, StreamInterval: MinStreamInterval})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seqs []int64
	err := r.client.Stream(ctx, func(raw json.RawMessage) error {
		var s stateSnapshot
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Errorf("stream line %s: %v", raw, err)
		}
		seqs = append(seqs, s.Seq)
		if len(seqs) == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Stream after cancel = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, seqs); diff != "" {
		t.Errorf("snapshot sequence (-want +got):\n%s", diff)
	}
	waitStreamsClosed(t, r.srv)
}

// waitStreamsClosed fails unless the server's stream handlers all return.
func waitStreamsClosed(t *testing.T, s *Server) {
	t.Helper()
	testio.Eventually(t, "every stream handler to return once its client left", func() bool { return len(s.streams) == 0 })
}

func TestStreamEndsOnShutdown(t *testing.T) {
	t.Parallel()
	// A long interval: the stream would sit between snapshots for a minute
	// if shutdown did not end it.
	r := start(t, Config{Snapshot: (&fakeState{}).Snapshot, StreamInterval: time.Minute})
	c := *r.client
	c.Timeout = 2 * time.Minute
	first := make(chan struct{})
	streamed := make(chan error, 1)
	go func() {
		n := 0
		streamed <- c.Stream(context.Background(), func(json.RawMessage) error {
			if n++; n == 1 {
				close(first)
			}
			return nil
		})
	}()
	select {
	case <-first:
	case <-time.After(wait):
		t.Fatal("no snapshot on the stream")
	}
	if err := r.stop(t); err != nil {
		t.Errorf("Run = %v, want nil: an open stream must not hold up shutdown", err)
	}
	select {
	case err := <-streamed:
		if err != nil {
			t.Errorf("Stream when the server shut down = %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("Stream did not return after the server shut down")
	}
}

// TestStreamOversizedSnapshotEndsWithError proves a snapshot that grows past
// the bound mid-stream ends the stream with the reason, not a silent end.
func TestStreamOversizedSnapshotEndsWithError(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	growing := func() any {
		if calls.Add(1) == 1 {
			return map[string]string{"blob": "small"}
		}
		return map[string]string{"blob": strings.Repeat("x", 2048)}
	}
	r := start(t, Config{Snapshot: growing, MaxSnapshotBytes: 1024, StreamInterval: MinStreamInterval})
	var got []string
	err := r.client.Stream(context.Background(), func(raw json.RawMessage) error {
		got = append(got, string(raw))
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "server ended the stream: snapshot refused: it encodes to 2059 bytes, over the limit of 1024") {
		t.Errorf("Stream = %v, want the server's reason for ending it", err)
	}
	if diff := cmp.Diff([]string{`{"blob":"small"}`}, got); diff != "" {
		t.Errorf("snapshots (-want +got):\n%s", diff)
	}
}

func TestStreamReturnsCallbackError(t *testing.T) {
	t.Parallel()
	r := start(t, Config{Snapshot: (&fakeState{}).Snapshot, StreamInterval: MinStreamInterval})
	stop := errors.New("dashboard closed")
	n := 0
	err := r.client.Stream(context.Background(), func(json.RawMessage) error {
		if n++; n == 2 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("Stream = %v, want the callback's error unchanged", err)
	}
	waitStreamsClosed(t, r.srv)
}

func TestStreamLimit(t *testing.T) {
	t.Parallel()
	r := start(t, Config{Snapshot: (&fakeState{}).Snapshot, MaxStreams: 1, StreamInterval: MinStreamInterval})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan struct{})
	streamed := make(chan error, 1)
	go func() {
		var once bool
		streamed <- r.client.Stream(ctx, func(json.RawMessage) error {
			if !once {
				once = true
				close(first)
			}
			return nil
		})
	}()
	select {
	case <-first:
	case <-time.After(wait):
		t.Fatal("no snapshot on the first stream")
	}
	err := r.client.Stream(ctx, func(json.RawMessage) error { return nil })
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 503 || !strings.Contains(err.Error(), "too many snapshot streams open (1)") {
		t.Errorf("second Stream = %v, want 503 too many streams", err)
	}
	cancel()
	if err := <-streamed; !errors.Is(err, context.Canceled) {
		t.Errorf("first Stream = %v, want context.Canceled", err)
	}
	// The slot is free again.
	waitStreamsClosed(t, r.srv)
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	err = r.client.Stream(ctx2, func(json.RawMessage) error { cancel2(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Stream after the first closed = %v, want it served (then cancelled)", err)
	}
}

// TestStreamQueryForm proves /snapshot?stream=1 serves the same NDJSON.
func TestStreamQueryForm(t *testing.T) {
	t.Parallel()
	r := start(t, Config{Snapshot: (&fakeState{}).Snapshot, StreamInterval: MinStreamInterval})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.url+"/snapshot?stream=1", nil)
	req.Header.Set(RequestHeader, "1")
	resp, err := r.client.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != ndjson {
		t.Errorf("Content-Type = %q, want %q", ct, ndjson)
	}
	sc := bufio.NewScanner(resp.Body)
	for want := int64(1); want <= 2; want++ {
		if !sc.Scan() {
			t.Fatalf("stream ended before snapshot %d: %v", want, sc.Err())
		}
		var s stateSnapshot
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil || s.Seq != want {
			t.Errorf("line %d = %s (%v), want seq %d", want, sc.Bytes(), err, want)
		}
	}
	cancel()
	waitStreamsClosed(t, r.srv)
}

func TestHeaderSafe(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain message", "plain message"},
		{"line\nbreak\ttab", "line break tab"},
		{"naïve", "na?ve"},
		{strings.Repeat("x", 1200), strings.Repeat("x", 1000)},
	}
	for _, tt := range tests {
		if got := headerSafe(tt.in); got != tt.want {
			t.Errorf("headerSafe(%.30q) = %.30q, want %.30q", tt.in, got, tt.want)
		}
	}
}
