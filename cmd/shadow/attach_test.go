package main

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
	"github.com/understudy-dev/understudy/tui"

	"github.com/understudy-dev/understudy/admin"
	"github.com/understudy-dev/understudy/cmd/internal/dash"
)

// `shadow tui --attach` shows a demo running elsewhere, and the dashboard's
// controls reach it through the admin endpoint.
func TestAttachToRunningDemo(t *testing.T) {
	adminURL, stop, code, demoOut := startCmd(t, regexp.MustCompile(`admin on (http://[0-9.:]+)`),
		"demo", "--no-tui", "--seed", "1", "--rate", "20", "--summary-interval", "1h")
	defer func() {
		stop()
		select {
		case <-code:
		case <-time.After(30 * time.Second):
			t.Error("demo did not stop")
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var out syncBuffer
	if c := execute(ctx, []string{"tui", "--attach", adminURL, "--no-tui", "--interval", "200ms"}, &out, &out); c != cli.ExitOK {
		t.Fatalf("tui --attach exit code %d:\n%s", c, out.String())
	}
	for _, want := range []string{"shadow · up", "synth demo-load"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("attached output lacks %q:\n%s", want, out.String())
		}
	}

	// Pause the demo's load remotely; its snapshot must say so.
	remote := dash.Remote{Client: &admin.Client{BaseURL: adminURL}}
	if err := remote.Pause(); err != nil {
		t.Fatalf("remote pause: %v\n%s", err, demoOut.String())
	}
	snap, err := remote.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Synth == nil || !snap.Synth.Paused {
		t.Errorf("after a remote pause the load is not paused: %+v", snap.Synth)
	}
	if applied, err := remote.SetRate(1e9); err != nil || applied > 500 {
		t.Errorf("SetRate(1e9) = %v, %v; want clamped to the scenario's ceiling of 500", applied, err)
	}

	// The demo's proxy is tunable from afar too, and its snapshot says so.
	if err := remote.SetSamplePercent(40); err != nil {
		t.Fatalf("remote sample: %v", err)
	}
	if err := remote.SetRouteDisabled("cancel-order", true); err != nil {
		t.Fatalf("remote route: %v", err)
	}
	if snap, err = remote.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tu := snap.Shadow.Tuning; tu == nil || tu.SamplePercent != 40 || !slices.Contains(tu.Routes, tui.MirrorRoute{Name: "cancel-order", Disabled: true}) {
		t.Errorf("after remote tuning the snapshot shows %+v; want sample 40%% and cancel-order off", tu)
	}
}

func TestAttachNeedsURL(t *testing.T) {
	var out syncBuffer
	if c := execute(context.Background(), []string{"tui"}, &out, &out); c != cli.ExitConfig {
		t.Errorf("exit code %d, want %d:\n%s", c, cli.ExitConfig, out.String())
	}
}
