package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"
	"github.com/understudy-dev/understudy/internal/testio"
)

func TestFailingSourceShowsInTheStatusBarAndIsRetried(t *testing.T) {
	t.Parallel()
	src := newFakeSource()
	src.err = errors.New("dial tcp 127.0.0.1:9: connect: connection refused")
	tm := teatest.NewTestModel(t, New(src, Options{Interval: testInterval}), teatest.WithInitialTermSize(80, 24))
	waitOutput(t, tm, "connection refused")
	testio.Eventually(t, "retries", func() bool { return src.served() >= 3 })
	v := finalView(t, tm)
	for _, want := range []string{"source error (", "×, retrying): dial tcp 127.0.0.1:9: connect: connection refused", "connecting…"} {
		if !strings.Contains(v, want) {
			t.Errorf("frame lacks %q:\n%s", want, v)
		}
	}
}

func TestSourceErrorsKeepTheLastDataAndClearOnRecovery(t *testing.T) {
	t.Parallel()
	m := applied(t, Options{}, shadowScript(2)...)
	mm, _ := m.Update(snapshotMsg{seq: 3, err: errors.New("admin: 503 Service Unavailable")})
	mm, _ = mm.Update(snapshotMsg{seq: 4, err: errors.New("admin: 503 Service Unavailable")})
	v := mm.View()
	for _, want := range []string{"source error (2×, retrying): admin: 503 Service Unavailable", "data from 12:00:01", "/orders/{id}"} {
		if !strings.Contains(v, want) {
			t.Errorf("while failing, frame lacks %q:\n%s", want, v)
		}
	}
	mm, _ = mm.Update(snapshotMsg{seq: 5, snap: shadowScript(3)[2]})
	v = mm.View()
	if strings.Contains(v, "source error") {
		t.Errorf("after recovery, frame still shows the error:\n%s", v)
	}
	if !strings.Contains(v, "updated 12:00:02") {
		t.Errorf("after recovery, frame lacks the new time:\n%s", v)
	}
}

func TestRetryDelayBacksOff(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	cases := []struct {
		interval time.Duration
		failures int
		want     time.Duration
	}{
		{100 * ms, 0, 100 * ms},
		{100 * ms, 1, 200 * ms},
		{100 * ms, 3, 800 * ms},
		{100 * ms, 5, 2 * time.Second},
		{100 * ms, 1000, 2 * time.Second},
		{5 * time.Second, 4, 5 * time.Second}, // never faster than the interval
	}
	for _, tc := range cases {
		if got := retryDelay(tc.interval, tc.failures); got != tc.want {
			t.Errorf("retryDelay(%v, %d) = %v, want %v", tc.interval, tc.failures, got, tc.want)
		}
	}
}

func TestPanicsBecomeErrors(t *testing.T) {
	t.Parallel()
	src := SourceFunc(func(context.Context) (Snapshot, error) { panic("nil map") })
	msg := fetch(context.Background(), src, 7)().(snapshotMsg)
	if msg.err == nil || !strings.Contains(msg.err.Error(), "snapshot source panicked: nil map") || msg.seq != 7 {
		t.Errorf("fetch of a panicking source = %+v, want a panic error with seq 7", msg)
	}
	for _, r := range []controlReq{{act: actKill}, {act: actSample, value: 50}, {act: actRoute, route: "a"}} {
		ctl := control(panicController{}, r)().(controlMsg)
		if ctl.err == nil || !strings.Contains(ctl.err.Error(), "controller panicked") || ctl.controlReq != r {
			t.Errorf("%v on a panicking controller = %+v, want a panic error", r.act, ctl)
		}
	}
}

func TestFetchStampsAZeroTimeAndHonoursTheDeadline(t *testing.T) {
	t.Parallel()
	var deadline atomic.Bool
	src := SourceFunc(func(ctx context.Context) (Snapshot, error) {
		_, ok := ctx.Deadline()
		deadline.Store(ok)
		return Snapshot{Shadow: &ShadowSnapshot{}}, nil
	})
	before := time.Now()
	msg := fetch(context.Background(), src, 1)().(snapshotMsg)
	if msg.err != nil || msg.snap.Time.Before(before) {
		t.Errorf("fetch = %+v, want the receipt time stamped (not before %v)", msg, before)
	}
	if !deadline.Load() {
		t.Error("the source's context has no deadline; a hung instance would never be retried")
	}
}

// httpSource is what attach mode does: GET the admin endpoint's snapshot
// and decode it.
func httpSource(url string) Source {
	client := &http.Client{Timeout: 5 * time.Second}
	return SourceFunc(func(ctx context.Context) (Snapshot, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/snapshot", nil)
		if err != nil {
			return Snapshot{}, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return Snapshot{}, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return Snapshot{}, fmt.Errorf("snapshot: %s", resp.Status)
		}
		var s Snapshot
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			return Snapshot{}, fmt.Errorf("decode snapshot: %w", err)
		}
		return s, nil
	})
}

func TestAttachedInstanceDyingKeepsTheDashboardUp(t *testing.T) {
	t.Parallel()
	snap := bothScript(1)[0]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(snap)
	}))
	tm := teatest.NewTestModel(t, New(httpSource(srv.URL), Options{Interval: testInterval}),
		teatest.WithInitialTermSize(120, 40))
	waitOutput(t, tm, "/orders/{id}") // the proxy's endpoints, decoded from JSON
	srv.Close()                       // the instance dies
	waitOutput(t, tm, "source error")
	v := finalView(t, tm)
	for _, want := range []string{"retrying", "data from 12:00:00", "GET    /orders/{id}"} {
		if !strings.Contains(v, want) {
			t.Errorf("frame lacks %q:\n%s", want, v)
		}
	}
}
