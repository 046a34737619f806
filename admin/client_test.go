package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeAdmin is an httptest server standing in for a broken admin server.
func fakeAdmin(t *testing.T, h http.HandlerFunc) (*httptest.Server, *Client) {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts, &Client{BaseURL: ts.URL, HTTP: ts.Client(), Timeout: wait}
}

func TestClientErrorsNameURLStatusAndMessage(t *testing.T) {
	t.Parallel()
	ts, c := fakeAdmin(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/snapshot":
			http.Error(w, "upstream proxy says no", http.StatusBadGateway)
		case "/control":
			writeError(w, http.StatusConflict, "already stopping")
		}
	})
	var v any
	err := c.Snapshot(context.Background(), &v)
	want := "admin GET " + ts.URL + "/snapshot: 502 Bad Gateway: upstream proxy says no"
	if err == nil || err.Error() != want {
		t.Errorf("Snapshot = %v, want %q", err, want)
	}
	_, err = c.Control(context.Background(), "stop", 0)
	want = "admin POST " + ts.URL + "/control: 409 Conflict: already stopping"
	if err == nil || err.Error() != want {
		t.Errorf("Control = %v, want %q", err, want)
	}
	if errors.Is(err, ErrUnsupported) {
		t.Error("a 409 unwraps to ErrUnsupported; only 501 should")
	}
}

func TestClientTransportErrors(t *testing.T) {
	t.Parallel()
	// A port that was just closed: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	tests := []struct {
		base string
		want string
	}{
		{dead, "admin GET " + dead + "/snapshot: dial tcp"},
		{"127.0.0.1:9090", `admin client: BaseURL "127.0.0.1:9090": want http://host:port`},
		{"", `admin client: BaseURL "": want`},
		{"ftp://x", `admin client: BaseURL "ftp://x"`},
	}
	for _, tt := range tests {
		c := &Client{BaseURL: tt.base, HTTP: &http.Client{Transport: tr}, Timeout: wait}
		var v any
		if err := c.Snapshot(context.Background(), &v); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("BaseURL %q: Snapshot = %v, want an error starting %q", tt.base, err, tt.want)
		}
		if err := c.Stream(context.Background(), func(json.RawMessage) error { return nil }); err == nil || !strings.Contains(err.Error(), "admin ") {
			t.Errorf("BaseURL %q: Stream = %v, want an error", tt.base, err)
		}
	}
}

func TestClientSendsTokenAndKeepsPrefix(t *testing.T) {
	t.Parallel()
	var gotAuth, gotPath string
	_, c := fakeAdmin(t, func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.Path
		writeJSON(w, 200, map[string]int{"seq": 1})
	})
	c.BaseURL += "/instances/shadow-0/"
	c.Token = "t0k"
	var v map[string]int
	if err := c.Snapshot(context.Background(), &v); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer t0k" || gotPath != "/instances/shadow-0/snapshot" {
		t.Errorf("request had Authorization %q, path %q; want %q, %q", gotAuth, gotPath, "Bearer t0k", "/instances/shadow-0/snapshot")
	}
}

// TestStreamIdleTimeout proves a stream that goes silent fails after
// Timeout instead of hanging: the fake server sends headers, then nothing
// until the test is over.
func TestStreamIdleTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	ts, c := fakeAdmin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ndjson)
		io.WriteString(w, "{\"seq\":1}\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c.Timeout = 50 * time.Millisecond
	got := 0
	err := c.Stream(context.Background(), func(json.RawMessage) error { got++; return nil })
	if !errors.Is(err, errStreamIdle) || !strings.Contains(err.Error(), "admin GET "+ts.URL+"/snapshot/stream: no snapshot for 50ms") {
		t.Errorf("Stream on a silent server = %v, want an idle error naming the URL", err)
	}
	if got != 1 {
		t.Errorf("got %d snapshots before the silence, want 1", got)
	}
}

// TestStreamCallbackTimeNotIdle proves a slow callback does not count as
// the server being silent.
func TestStreamCallbackTimeNotIdle(t *testing.T) {
	t.Parallel()
	_, c := fakeAdmin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ndjson)
		io.WriteString(w, "{\"seq\":1}\n{\"seq\":2}\n")
	})
	c.Timeout = 20 * time.Millisecond
	n := 0
	err := c.Stream(context.Background(), func(json.RawMessage) error {
		n++
		time.Sleep(100 * time.Millisecond) // five Timeouts
		return nil
	})
	if err != nil || n != 2 {
		t.Errorf("Stream = %v after %d snapshots, want nil after 2", err, n)
	}
}

// TestStreamWaitsForSlowInterval proves the client allows a server that
// announces a stream interval longer than the client's Timeout.
func TestStreamWaitsForSlowInterval(t *testing.T) {
	t.Parallel()
	_, c := fakeAdmin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ndjson)
		w.Header().Set(streamIntervalHeader, time.Minute.String())
		io.WriteString(w, "{\"seq\":1}\n")
		w.(http.Flusher).Flush()
		time.Sleep(100 * time.Millisecond) // ten client Timeouts
		io.WriteString(w, "{\"seq\":2}\n")
	})
	c.Timeout = 10 * time.Millisecond
	n := 0
	err := c.Stream(context.Background(), func(json.RawMessage) error { n++; return nil })
	if err != nil || n != 2 {
		t.Errorf("Stream = %v after %d snapshots, want nil after 2", err, n)
	}
}

func TestStreamBadAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ct   string
		body string
		want string
	}{
		{"not ndjson", "text/html", "<html>", `want Content-Type application/x-ndjson, got "text/html"`},
		{"bad line", ndjson, "{\"seq\":1}\n\n{oops\n", "line 3 of the stream is not JSON"},
		{"too long", ndjson, `{"blob":"` + strings.Repeat("x", 100) + `"}` + "\n", "a snapshot is larger than 64 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts, c := fakeAdmin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ct)
				io.WriteString(w, tt.body)
			})
			c.MaxSnapshotBytes = 64
			err := c.Stream(context.Background(), func(json.RawMessage) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), ts.URL) {
				t.Errorf("Stream = %v, want an error naming the URL and containing %q", err, tt.want)
			}
		})
	}
}

// A URL that answers HTTP but is not an admin server is ErrNotAdmin: a
// 404 page, an HTML page for every path. An admin server without
// snapshots answers 404 too, with its JSON error, and is not.
func TestClientNotAdmin(t *testing.T) {
	t.Parallel()
	plain404, c404 := fakeAdmin(t, http.NotFound)
	_, cHTML := fakeAdmin(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html>welcome</html>")
	})
	noSnapshots := start(t, Config{})
	tests := []struct {
		name         string
		c            *Client
		wantNotAdmin bool
		want         string
	}{
		{"404 page", c404, true, "admin GET " + plain404.URL + "/snapshot: 404 Not Found: 404 page not found"},
		{"html for every path", cHTML, true, `answered 200 with Content-Type "text/html", not a JSON snapshot: not an understudy admin endpoint`},
		{"admin without snapshots", noSnapshots.client, false, "404 Not Found: snapshots are not enabled"},
	}
	for _, tt := range tests {
		var v any
		err := tt.c.Snapshot(context.Background(), &v)
		if got := errors.Is(err, ErrNotAdmin); got != tt.wantNotAdmin || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Snapshot = %v (ErrNotAdmin %v), want an error containing %q, ErrNotAdmin %v", tt.name, err, got, tt.want, tt.wantNotAdmin)
		}
	}
}
