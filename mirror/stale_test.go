package mirror

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// TestStaleCopiesDropped proves MaxQueueWait: copies queued behind a
// worker stuck on the candidate for longer than the limit are dropped as
// stale once the worker is free, never sent, and counted exactly; with the
// limit off the same copies are sent; a copy that did not wait (the first,
// and one sent once the queue is empty) is sent either way; and every
// client gets the primary's answer at once throughout.
func TestStaleCopiesDropped(t *testing.T) {
	t.Parallel()
	const limit = 100 * time.Millisecond
	const queued = 3
	tests := []struct {
		name      string
		wait      time.Duration // MaxQueueWait
		wantStale uint64
	}{
		{name: "limit", wait: limit, wantStale: queued},
		{name: "no limit", wait: -1, wantStale: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			primary := newBackend(t, nil)
			g := newGate()
			arrived := make(chan struct{}, 10)
			candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/stuck" {
					gated(g, arrived)(w, r)
				}
			})
			t.Cleanup(g.open)
			obs := newCollector()
			f := startProxy(t, Config{
				Primary: primary.URL, Candidate: candidate.URL, Observer: obs,
				Workers: 1, QueueSize: queued, MaxQueueWait: tc.wait,
				CandidateTimeout: time.Minute, // the stuck copy waits for the test
			})
			get := func(path string) {
				t.Helper()
				if resp, body := f.get(t, path); resp.StatusCode != 200 || string(body) != "ok" {
					t.Errorf("%s: client got %d %q, want the primary's 200 ok", path, resp.StatusCode, body)
				}
			}

			get("/stuck")
			waitFor(t, arrived, "the worker to be stuck on the first copy")
			for i := range queued {
				get(fmt.Sprintf("/queued/%d", i)) // answered while the worker is stuck
			}
			// Each copy was queued before its client had the answer: from
			// here on, every one of them has waited longer than the limit
			// by the time the worker is free to take it.
			time.Sleep(2 * limit)
			if s := f.Stats(); s.QueueDepth != queued || s.Stale != 0 {
				t.Fatalf("queue depth %d stale %d before the worker is free, want %d 0", s.QueueDepth, s.Stale, queued)
			}
			g.open()
			testio.Eventually(t, "the queue to be worked off", func() bool {
				s := f.Stats()
				return s.QueueDepth == 0 && s.Completed+s.Stale == 1+queued
			})
			get("/fresh") // the worker is idle: this copy does not wait
			testio.Eventually(t, "the fresh copy to complete", func() bool { return f.Stats().Completed+f.Stats().Stale == 2+queued })
			if err := f.Close(); err != nil { // every worker returned: nothing more is sent
				t.Fatal(err)
			}

			wantSent := []string{"/stuck", "/fresh"}
			if tc.wantStale == 0 {
				wantSent = []string{"/stuck", "/queued/0", "/queued/1", "/queued/2", "/fresh"}
			}
			var gotSent, gotObserved []string
			for len(candidate.got) > 0 {
				gotSent = append(gotSent, (<-candidate.got).URI)
			}
			for len(obs) > 0 {
				gotObserved = append(gotObserved, (<-obs).Request.URL)
			}
			if fmt.Sprint(gotSent) != fmt.Sprint(wantSent) {
				t.Errorf("candidate received %v, want %v", gotSent, wantSent)
			}
			if fmt.Sprint(gotObserved) != fmt.Sprint(wantSent) {
				t.Errorf("observed %v, want %v", gotObserved, wantSent)
			}
			s := f.Stats()
			got := [5]uint64{s.Received, s.Mirrored, s.Completed, s.Stale, s.Dropped + s.Abandoned}
			want := [5]uint64{2 + queued, 2 + queued, 2 + queued - tc.wantStale, tc.wantStale, 0}
			if got != want {
				t.Errorf("received, mirrored, completed, stale, dropped+abandoned = %v, want %v", got, want)
			}
		})
	}
}

// TestMaxQueueWaitDefault checks the documented zero value: 1s, or
// CandidateTimeout when that is shorter; negative stays off.
func TestMaxQueueWaitDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		wait, timeout, want time.Duration
	}{
		{0, 0, time.Second},
		{0, 10 * time.Second, time.Second},
		{0, 200 * time.Millisecond, 200 * time.Millisecond},
		{50 * time.Millisecond, 0, 50 * time.Millisecond},
		{5 * time.Second, 200 * time.Millisecond, 5 * time.Second},
		{-1, 0, -1},
	}
	for _, tc := range tests {
		c := Config{MaxQueueWait: tc.wait, CandidateTimeout: tc.timeout}.WithDefaults()
		if got := c.MaxQueueWait; got != tc.want {
			t.Errorf("MaxQueueWait %s, CandidateTimeout %s: got %s, want %s", tc.wait, tc.timeout, got, tc.want)
		}
	}
}
