package main

import (
	"context"
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
