package replay

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// sendClock is a client transport that notes, on the bubble's clock, when
// each request leaves, then sends it over real loopback. Keep-alives are
// off so that no connection goroutine idles in the bubble between
// requests: a bubble's clock moves only while every goroutine in it waits.
type sendClock struct {
	began time.Time
	next  http.RoundTripper

	mu    sync.Mutex
	sends []sent
}

type sent struct {
	at  time.Duration // since began
	uri string
}

func newSendClock() *sendClock {
	return &sendClock{began: time.Now(), next: &http.Transport{DisableKeepAlives: true}}
}

func (c *sendClock) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.sends = append(c.sends, sent{time.Since(c.began), req.URL.RequestURI()})
	c.mu.Unlock()
	return c.next.RoundTrip(req)
}

// schedule is when each request left, in order of time.
func (c *sendClock) schedule() []sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := slices.Clone(c.sends)
	slices.SortStableFunc(s, func(a, b sent) int { return int(a.at - b.at) })
	return s
}

// timed records GETs of /0, /1, ... received at the given offsets from a
// fixed instant.
func timed(offsets ...time.Duration) []*exchange.Exchange {
	t0 := time.Date(2025, 11, 23, 11, 0, 0, 0, time.UTC)
	xs := make([]*exchange.Exchange, len(offsets))
	for i, off := range offsets {
		xs[i] = recorded("GET", fmt.Sprintf("/%d", i), "")
		xs[i].Request.Received = t0.Add(off)
	}
	return xs
}

const ms = time.Millisecond

// Replayed with Speed, requests leave at the recorded gaps divided by the
// speed, measured on synctest's clock against a real loopback candidate;
// a record received before the one before it, or without a time, follows
// at once. With Rate, they leave at vegeta's constant rate; with neither,
// at once.
func TestReplayPacing(t *testing.T) {
	cand := newCandidate(t, nil) // outside the bubble: its accept loop never waits on the clock
	recordedGaps := timed(0, 100*ms, 300*ms, 1000*ms)
	backwards := timed(0, 400*ms, 200*ms, 600*ms) // a second file's records start earlier
	untimed := timed(0, 200*ms, 0, 400*ms)
	untimed[2].Request.Received = time.Time{}
	at := func(uris []string, offsets ...time.Duration) []sent {
		s := make([]sent, len(offsets))
		for i := range s {
			s[i] = sent{offsets[i], uris[i]}
		}
		return s
	}
	uris := []string{"/0", "/1", "/2", "/3", "/4", "/5"}
	tests := []struct {
		name    string
		cfg     Config
		records []*exchange.Exchange
		want    []sent
	}{
		{"speed 2x", Config{Speed: 2}, recordedGaps, at(uris, 0, 50*ms, 150*ms, 500*ms)},
		{"speed 1x", Config{Speed: 1}, recordedGaps, at(uris, 0, 100*ms, 300*ms, 1000*ms)},
		{"speed 0.5x", Config{Speed: 0.5}, recordedGaps, at(uris, 0, 200*ms, 600*ms, 2000*ms)},
		{"an earlier record follows at once", Config{Speed: 2}, backwards, at(uris, 0, 200*ms, 200*ms, 400*ms)},
		{"a record without a time follows at once", Config{Speed: 1}, untimed, at(uris, 0, 200*ms, 200*ms, 400*ms)},
		{"fixed rate ignores the recorded times", Config{Rate: 10}, recordedGaps, at(uris, 100*ms, 200*ms, 300*ms, 400*ms)},
		{"no pacing", Config{}, recordedGaps, at(uris, 0, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clock := newSendClock()
				tt.cfg.Candidate, tt.cfg.Workers = cand.URL, 1
				tt.cfg.Client = &http.Client{Transport: clock}
				r := mustNew(t, tt.cfg)
				var c collector
				st, err := r.Run(context.Background(), seq(tt.records...), c.observe)
				if err != nil || st.Sent != int64(len(tt.records)) || st.Failed != 0 {
					t.Fatalf("Run = %+v, %v; want all %d sent", st, err, len(tt.records))
				}
				if got := clock.schedule(); !slices.Equal(got, tt.want) {
					t.Errorf("send schedule = %v, want %v", got, tt.want)
				}
			})
		})
	}
}

// A request that waits for a free worker does not shift the schedule of
// the ones after it: they keep their recorded offsets from the start.
func TestReplayPacingCatchesUp(t *testing.T) {
	cand := newCandidate(t, nil)
	synctest.Test(t, func(t *testing.T) {
		clock := newSendClock()
		r := mustNew(t, Config{Candidate: cand.URL, Workers: 1, Speed: 1, Client: &http.Client{Transport: clock}})
		// The only worker stays busy with /0 until 250 ms.
		observe := func(x *exchange.Exchange) {
			if x.Request.URL == "/0" {
				time.Sleep(250 * ms)
			}
		}
		if _, err := r.Run(context.Background(), seq(timed(0, 100*ms, 200*ms, 300*ms)...), observe); err != nil {
			t.Fatal(err)
		}
		want := []sent{{0, "/0"}, {250 * ms, "/1"}, {250 * ms, "/2"}, {300 * ms, "/3"}}
		if got := clock.schedule(); !slices.Equal(got, want) {
			t.Errorf("send schedule = %v, want %v", got, want)
		}
	})
}

// Loop replays the records again and again until Duration passes or Count
// requests were sent; each pass keeps the recorded timing, the next one
// starting at once after the last record of the one before.
func TestReplayLoop(t *testing.T) {
	cand := newCandidate(t, nil)
	three := timed(0, 100*ms, 200*ms)
	tests := []struct {
		name       string
		cfg        Config
		wantSent   int64
		wantPasses int64
		wantLast   time.Duration // when the last request left
	}{
		{"once without Loop", Config{Speed: 1}, 3, 1, 200 * ms},
		{"until Count", Config{Speed: 1, Loop: true, Count: 7}, 7, 3, 400 * ms},
		{"until Duration", Config{Speed: 2, Loop: true, Duration: 1 * time.Second}, 29, 10, 950 * ms},
		{"until Duration at a fixed rate", Config{Rate: 20, Loop: true, Duration: 1 * time.Second}, 19, 7, 950 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clock := newSendClock()
				tt.cfg.Candidate, tt.cfg.Workers = cand.URL, 2
				tt.cfg.Client = &http.Client{Transport: clock}
				r := mustNew(t, tt.cfg)
				st, err := r.Run(context.Background(), seq(three...), func(*exchange.Exchange) {})
				if err != nil || st.Sent != tt.wantSent || st.Passes != tt.wantPasses {
					t.Errorf("Run = %+v, %v; want %d sent in %d passes", st, err, tt.wantSent, tt.wantPasses)
				}
				if s := clock.schedule(); len(s) == 0 || s[len(s)-1].at != tt.wantLast {
					t.Errorf("last request left at %v, want %v (schedule %v)", s[len(s)-1:], tt.wantLast, s)
				}
			})
		})
	}
}

// A loop with nothing to send (every record unsafe) ends after one pass
// instead of spinning; a loop with no other bound ends with its context.
func TestReplayLoopEnds(t *testing.T) {
	cand := newCandidate(t, nil)
	t.Run("nothing to send", func(t *testing.T) {
		r := mustNew(t, Config{Candidate: cand.URL, Loop: true})
		st, err := r.Run(context.Background(), seq(recorded("POST", "/orders", "{}")), func(*exchange.Exchange) {})
		if err != nil || st.Passes != 1 || st.Skipped != 1 {
			t.Errorf("Run = %+v, %v; want one pass, the POST skipped", st, err)
		}
	})
	t.Run("until the context ends", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			clock := newSendClock()
			r := mustNew(t, Config{Candidate: cand.URL, Workers: 1, Loop: true, Speed: 1, Client: &http.Client{Transport: clock}})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			st, err := r.Run(ctx, seq(timed(0, 300*ms)...), func(*exchange.Exchange) {})
			if err != context.DeadlineExceeded || st.Sent < 6 {
				t.Errorf("Run = %+v, %v; want it to loop until the deadline", st, err)
			}
		})
	})
}
