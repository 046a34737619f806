package admin

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTuningReachesTuner proves the sample and route actions arrive at a
// Controller that is also a Tuner, in order, and are logged.
func TestTuningReachesTuner(t *testing.T) {
	t.Parallel()
	ctl := &fakeController{ceiling: 100}
	r := start(t, Config{Control: fakeTuner{fakeController: ctl, routes: []string{"create-order", "list-orders"}}})
	ctx := context.Background()
	steps := []func() error{
		func() error { return r.client.Sample(ctx, 25) },
		func() error { return r.client.Route(ctx, "create-order", true) },
		func() error { return r.client.Sample(ctx, 0) },
		func() error { return r.client.Route(ctx, "create-order", false) },
		func() error { _, err := r.client.Control(ctx, "pause", 0); return err }, // the others still work
		func() error { return r.client.Sample(ctx, 100) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := []Command{
		{Action: ActionSample, Percent: 25},
		{Action: ActionRoute, Route: "create-order", Disabled: true},
		{Action: ActionSample},
		{Action: ActionRoute, Route: "create-order"},
		{Action: ActionPause},
		{Action: ActionSample, Percent: 100},
	}
	if diff := cmp.Diff(want, ctl.Calls()); diff != "" {
		t.Errorf("tuner calls (-want +got):\n%s", diff)
	}
	logs := r.logs.String()
	for _, want := range []string{"action=sample percent=25", "action=route route=create-order disabled=true", "action=route route=create-order disabled=false"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

func TestTuningAnswerJSON(t *testing.T) {
	t.Parallel()
	r := start(t, Config{Control: fakeTuner{fakeController: &fakeController{}, routes: []string{"create-order"}}})
	tests := []struct {
		body string
		want string
	}{
		{`{"action":"sample","percent":25}`, `{"ok":true,"action":"sample","percent":25}` + "\n"},
		{`{"action":"sample","percent":0}`, `{"ok":true,"action":"sample","percent":0}` + "\n"},
		{`{"action":"route","route":"create-order","disabled":true}`, `{"ok":true,"action":"route","route":"create-order","disabled":true}` + "\n"},
		{`{"action":"route","route":"create-order","disabled":false}`, `{"ok":true,"action":"route","route":"create-order","disabled":false}` + "\n"},
	}
	for _, tt := range tests {
		resp, body := r.do(t, "POST", "/control", http.Header{"Content-Type": {"application/json"}}, []byte(tt.body))
		if resp.StatusCode != 200 || string(body) != tt.want {
			t.Errorf("POST %s = %d %s, want 200 %s", tt.body, resp.StatusCode, body, tt.want)
		}
	}
}

func TestTuningRefusals(t *testing.T) {
	t.Parallel()
	plain := &fakeController{}
	notTuner := start(t, Config{Control: plain})
	tunedCtl := &fakeController{}
	tuned := start(t, Config{Control: fakeTuner{fakeController: tunedCtl, routes: []string{"create-order"}}})
	jsonType := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name       string
		srv        *running
		body       string
		wantStatus int
		wantMsg    string
	}{
		{"sample without a Tuner", notTuner, `{"action":"sample","percent":5}`, 501, `action "sample": not supported by this instance`},
		{"route without a Tuner", notTuner, `{"action":"route","route":"create-order","disabled":true}`, 501, `action "route": not supported`},
		{"unknown route", tuned, `{"action":"route","route":"checkout","disabled":true}`, 500,
			`action "route" failed: set route "checkout" disabled: no such route; routes: ["create-order"]`},
		{"percent above 100", tuned, `{"action":"sample","percent":150}`, 400, `bad command: "percent" 150 is out of range`},
		{"percent missing", tuned, `{"action":"sample"}`, 400, `action "sample" needs "percent"`},
		{"route name missing", tuned, `{"action":"route","disabled":true}`, 400, `action "route" needs "route"`},
		{"disabled missing", tuned, `{"action":"route","route":"create-order"}`, 400, `action "route" needs "disabled"`},
		{"percent on route", tuned, `{"action":"route","route":"create-order","disabled":true,"percent":3}`, 400, `"percent" is only for action "sample"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := tt.srv.do(t, "POST", "/control", jsonType, []byte(tt.body))
			var got errorBody
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("POST /control = %d %q: not a JSON error: %v", resp.StatusCode, body, err)
			}
			if resp.StatusCode != tt.wantStatus || got.OK || !strings.Contains(got.Error, tt.wantMsg) {
				t.Errorf("POST %s = %d %s, want %d with an error containing %q", tt.body, resp.StatusCode, body, tt.wantStatus, tt.wantMsg)
			}
		})
	}
	t.Cleanup(func() {
		if calls := append(plain.Calls(), tunedCtl.Calls()...); len(calls) != 0 {
			t.Errorf("refused commands reached the controller: %v", calls)
		}
	})
}

func TestClientTuningErrors(t *testing.T) {
	t.Parallel()
	ctl := &fakeController{}
	r := start(t, Config{Control: ctl})
	ctx := context.Background()
	err := r.client.Sample(ctx, 10)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "POST "+r.url+"/control: 501 Not Implemented") {
		t.Errorf("Sample on an instance without a Tuner = %v, want ErrUnsupported naming the request", err)
	}
	if err := r.client.Route(ctx, "create-order", true); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Route on an instance without a Tuner = %v, want ErrUnsupported", err)
	}
	// Bad commands fail before any request.
	for _, tt := range []struct {
		call func() error
		want string
	}{
		{func() error { return r.client.Sample(ctx, -5) }, `admin control: "percent" -5 is out of range`},
		{func() error { return r.client.Sample(ctx, math.NaN()) }, `"percent" NaN is out of range`},
		{func() error { return r.client.Sample(ctx, math.Inf(1)) }, `"percent" +Inf is out of range`},
		{func() error { return r.client.Route(ctx, "", true) }, `action "route" needs "route"`},
		{func() error { _, err := r.client.Control(ctx, "sample", 5); return err }, "use Client.Sample or Client.Route"},
		{func() error { _, err := r.client.Control(ctx, "route", 0); return err }, "use Client.Sample or Client.Route"},
	} {
		if err := tt.call(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want an error containing %q", err, tt.want)
		}
	}
	if calls := ctl.Calls(); len(calls) != 0 {
		t.Errorf("the controller was called: %v", calls)
	}
	if logs := r.logs.String(); strings.Count(logs, "admin control") != 2 {
		t.Errorf("want exactly the two unsupported requests logged, got:\n%s", logs)
	}
}
