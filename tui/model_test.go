package tui

import (
	"context"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/understudy-dev/understudy/internal/testio"
)

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"zero value", Options{}, ""},
		{"full", Options{Title: "x", Interval: time.Second, RateStep: 5, AltScreen: true}, ""},
		{"negative interval", Options{Interval: -time.Second}, "interval -1s"},
		{"negative step", Options{RateStep: -1}, "rate step -1"},
		{"NaN step", Options{RateStep: math.NaN()}, "rate step NaN"},
	}
	for _, tc := range cases {
		err := tc.opts.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: Validate() = %v, want an error naming %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestRunEndsWhenTheContextIsDone(t *testing.T) {
	t.Parallel()
	src := newFakeSource(shadowScript(3)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, src, Options{Interval: testInterval, Input: blockingReader{ctx}, Output: io.Discard})
	}()
	testio.Eventually(t, "polls", func() bool { return src.served() > 3 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run() = %v after cancel, want nil", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

func TestRunQuitsOnQ(t *testing.T) {
	t.Parallel()
	src := newFakeSource(synthScript(1)...)
	var out strings.Builder
	err := Run(context.Background(), src, Options{Interval: testInterval, Input: strings.NewReader("q"), Output: &out})
	if err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	if !strings.Contains(out.String(), "understudy") {
		t.Fatalf("Run drew nothing: %q", out.String())
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	t.Parallel()
	err := Run(context.Background(), newFakeSource(), Options{Interval: -1})
	if err == nil || !strings.Contains(err.Error(), "run dashboard: interval") {
		t.Fatalf("Run() = %v, want an error naming the interval", err)
	}
}

// blockingReader is a terminal with no key presses: it blocks until ctx is
// done.
type blockingReader struct{ ctx context.Context }

func (r blockingReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, io.EOF
}

func TestTabsFollowTheKindsPresent(t *testing.T) {
	t.Parallel()
	m := applied(t, Options{}, synthScript(1)...)
	if m.tab != tabSynth || !strings.Contains(m.View(), "checkout") {
		t.Fatalf("synth-only snapshot does not show the synth view:\n%s", m.View())
	}
	next, _ := m.Update(keyTab)
	if next.(Model).tab != tabSynth {
		t.Fatal("tab switched to a view with no data")
	}
	next, _ = next.Update(snapshotMsg{seq: 2, snap: bothScript(2)[1]})
	next, _ = next.Update(keyTab)
	if next.(Model).tab != tabShadow || !strings.Contains(next.View(), "[shadow]") {
		t.Fatalf("tab did not switch to shadow with both present:\n%s", next.View())
	}
	next, _ = next.Update(snapshotMsg{seq: 3, snap: synthScript(3)[2]})
	if next.(Model).tab != tabSynth {
		t.Fatal("the shown view's data went away but the tab stayed")
	}
}

// TestStatusLineNamesUpstreamFailures shows why an upstream fails on the
// status line, and nothing when none does.
func TestStatusLineNamesUpstreamFailures(t *testing.T) {
	t.Parallel()
	script := shadowScript(2)
	failing := *script[1].Shadow
	failing.Failures = []UpstreamFailure{{Upstream: "candidate", Kind: "tls", Count: 3, Reason: "x509: certificate signed by unknown authority"}}
	script[1].Shadow = &failing
	m := applied(t, Options{}, script[:1]...)
	if strings.Contains(m.statusLine(), "failing") {
		t.Errorf("status line without failures: %q", m.statusLine())
	}
	next, _ := m.Update(tea.WindowSizeMsg{Width: 200, Height: 40})
	next, _ = next.Update(snapshotMsg{seq: 2, snap: script[1]})
	want := "failing: candidate tls 3 (x509: certificate signed by unknown authority)"
	if got := next.(Model).statusLine(); !strings.Contains(got, want) {
		t.Errorf("status line %q, want %q in it", got, want)
	}
}

func TestResizeAdapts(t *testing.T) {
	t.Parallel()
	m := applied(t, Options{}, bothScript(5)...)
	for _, size := range [][2]int{{80, 24}, {120, 40}, {60, 15}, {200, 60}, {20, 5}} {
		next, _ := m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, k := range []tea.KeyMsg{{}, keyEnter, keyEnter, keyTab} {
			if k.Type != 0 || len(k.Runes) > 0 {
				next, _ = next.Update(k)
			}
			checkFrame(t, next.View(), size[0], size[1])
		}
	}
}

func TestDrillDownAndBack(t *testing.T) {
	t.Parallel()
	m := tea.Model(applied(t, Options{}, shadowScript(2)...))
	page := func() ShadowPage { return m.(Model).shadow.Page() }
	steps := []struct {
		key  tea.KeyMsg
		want ShadowPage
		see  string
	}{
		{keyEnter, PageFields, "5 fields, 2 exemplars"},
		{keyDown, PageFields, "▸ field    $.total"},
		{keyEnter, PageExemplar, "DIFFERENCES"},
		{keyEnter, PageExemplar, "DIFFERENCES"}, // nothing deeper
		{keyEsc, PageFields, "▸ field    $.total"},
		{keyDown, PageFields, "▸ field    $.coupon"},
		{keyDown, PageFields, "▸ field    $.updated_at"},
		{keyEnter, PageFields, "no exemplar differs at $.updated_at"},
		{keyEsc, PageEndpoints, "METHOD ROUTE"},
		{keyEsc, PageEndpoints, "METHOD ROUTE"},
	}
	for i, s := range steps {
		m, _ = m.Update(s.key)
		if page() != s.want || !strings.Contains(m.View(), s.see) {
			t.Fatalf("step %d (%v): page %v, want %v showing %q:\n%s", i, s.key, page(), s.want, s.see, m.View())
		}
	}
}

func TestLiveUpdatesRefreshTheOpenEndpoint(t *testing.T) {
	t.Parallel()
	m := tea.Model(applied(t, Options{}, shadowScript(1)...))
	m, _ = m.Update(keyEnter)
	s := shadowScript(2)[1]
	s.Shadow.Endpoints[0].Pairs = 99999
	m, _ = m.Update(snapshotMsg{seq: 2, snap: s})
	if v := m.View(); !strings.Contains(v, "99,999 pairs") {
		t.Fatalf("open endpoint not refreshed:\n%s", v)
	}
}
