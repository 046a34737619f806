package main

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestMeasure runs one cell against a real server: spread paths, a beside
// load to another path, and the CPU time of this very process.
func TestMeasure(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	paths := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	cfg := config{rate: 200, duration: 300 * time.Millisecond, warmup: 50 * time.Millisecond, rounds: 1, path: "/x",
		maxInFlight: 100, timeout: 2 * time.Second, settle: 200 * time.Millisecond}
	tg, err := parseTarget("t=" + srv.URL + ",spread=3,beside=/big@20,pids=" + strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := measure(context.Background(), cfg, tg)
	if err != nil {
		t.Fatal(err)
	}
	if rec.OK != 60 || rec.Errors != 0 {
		t.Errorf("ok %d, errors %d; want 60 answered (200/s for 300 ms), none failed", rec.OK, rec.Errors)
	}
	if rec.CPUus <= 0 || rec.Procs != 1 || rec.CPUSource == "" {
		t.Errorf("CPU %v µs over %d processes (%s); want it measured", rec.CPUus, rec.Procs, rec.CPUSource)
	}
	if rec.Beside == nil || rec.Beside.OK < 5 || rec.Beside.Path != "/big" {
		t.Errorf("beside = %+v, want about 7 answers from /big (20/s for 350 ms)", rec.Beside)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range []string{"/s/a/a/x", "/s/a/b/x", "/s/a/c/x"} {
		if paths[p] == 0 {
			t.Errorf("no request to %s; got %v", p, paths)
		}
	}
	if paths["/big"] == 0 || len(paths) != 4 {
		t.Errorf("paths = %v, want the three spread paths and /big", paths)
	}
}

// TestClientProto speaks to a real TLS server offering h2 and HTTP/1.1:
// proto=h1 gets HTTP/1.1 over TLS, proto=h2 and the default get HTTP/2,
// each trusting only the server's CA.
func TestClientProto(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Proto))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	for proto, want := range map[string]string{"h1": "HTTP/1.1", "h2": "HTTP/2.0", "": "HTTP/2.0"} {
		client, closeIdle := newClient(config{maxInFlight: 4, roots: roots}, proto)
		resp, err := client.Get(srv.URL + "/")
		if err != nil {
			t.Fatalf("proto %q: %v", proto, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		closeIdle()
		if string(body) != want || resp.Proto != want {
			t.Errorf("proto %q: server saw %q, client %q; want %q", proto, body, resp.Proto, want)
		}
	}
	// Without the CA the server is not trusted.
	client, closeIdle := newClient(config{maxInFlight: 4}, "h2")
	defer closeIdle()
	if resp, err := client.Get(srv.URL + "/"); err == nil {
		resp.Body.Close()
		t.Errorf("a client without -ca trusted the test server's certificate")
	}
}
