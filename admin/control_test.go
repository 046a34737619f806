package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestControlReachesController proves each action arrives at the Controller,
// in order, and the applied (clamped) rate comes back to the client.
func TestControlReachesController(t *testing.T) {
	t.Parallel()
	ctl := &fakeController{ceiling: 100}
	r := start(t, Config{Control: ctl})
	steps := []struct {
		action      string
		rate        float64
		wantApplied float64
	}{
		{"pause", 0, 0},
		{"resume", 0, 0},
		{"rate", 42.5, 42.5},
		{"rate", 250, 100}, // clamped to the ceiling
		{"rate", 0, 0},
		{"pause", 99, 0}, // rate is ignored for other actions
		{"stop", 0, 0},
		{"kill", 0, 0},
	}
	for _, s := range steps {
		got, err := r.client.Control(context.Background(), s.action, s.rate)
		if err != nil {
			t.Fatalf("Control(%q, %v) = %v", s.action, s.rate, err)
		}
		if got != s.wantApplied {
			t.Errorf("Control(%q, %v) applied %v, want %v", s.action, s.rate, got, s.wantApplied)
		}
	}
	want := []Command{
		{Action: ActionPause}, {Action: ActionResume},
		{Action: ActionRate, Rate: 42.5}, {Action: ActionRate, Rate: 250}, {Action: ActionRate, Rate: 0},
		{Action: ActionPause}, {Action: ActionStop}, {Action: ActionKill},
	}
	if diff := cmp.Diff(want, ctl.Calls()); diff != "" {
		t.Errorf("controller calls (-want +got):\n%s", diff)
	}
	logs := r.logs.String()
	for _, want := range []string{"action=kill", "action=rate rate=250 applied=100", "remote=127.0.0.1:"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

func TestControlAnswerJSON(t *testing.T) {
	t.Parallel()
	r := start(t, Config{Control: &fakeController{ceiling: 10}})
	tests := []struct {
		body string
		want string
	}{
		{`{"action":"rate","rate":12}`, `{"ok":true,"action":"rate","rate":10}` + "\n"},
		{`{"action":"rate","rate":0}`, `{"ok":true,"action":"rate","rate":0}` + "\n"},
		{`{"action":"pause"}`, `{"ok":true,"action":"pause"}` + "\n"},
	}
	for _, tt := range tests {
		resp, body := r.do(t, "POST", "/control", http.Header{"Content-Type": {"application/json"}}, []byte(tt.body))
		if resp.StatusCode != 200 || string(body) != tt.want {
			t.Errorf("POST %s = %d %s, want 200 %s", tt.body, resp.StatusCode, body, tt.want)
		}
	}
}

func TestControlRefusals(t *testing.T) {
	t.Parallel()
	ctl := &fakeController{ceiling: 100, unsupported: map[Action]bool{ActionRate: true}}
	r := start(t, Config{Control: ctl})
	noCtl := start(t, Config{})
	failing := start(t, Config{Control: &fakeController{fail: errBoom}})
	refusing := start(t, Config{Control: &fakeController{fail: fmt.Errorf("%w: no such route", ErrInvalid)}})
	jsonType := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	tests := []struct {
		name       string
		srv        *running
		method     string
		header     http.Header
		body       string
		wantStatus int
		wantMsg    string
	}{
		{"unsupported", r, "POST", jsonType, `{"action":"rate","rate":5}`, 501, `action "rate": not supported by this instance`},
		{"controller error", failing, "POST", jsonType, `{"action":"stop"}`, 500, `action "stop" failed: boom: queue is wedged`},
		{"invalid argument", refusing, "POST", jsonType, `{"action":"stop"}`, 400, `action "stop": invalid argument: no such route`},
		{"no controller", noCtl, "POST", jsonType, `{"action":"stop"}`, 404, "control is not enabled"},
		{"GET", r, "GET", nil, "", 405, "method GET not allowed: /control takes POST"},
		{"PUT", r, "PUT", jsonType, `{"action":"stop"}`, 405, "method PUT not allowed"},
		{"no content type", r, "POST", nil, `{"action":"stop"}`, 415, `Content-Type "" not accepted`},
		{"form", r, "POST", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, `action=kill`, 415, "send the command as application/json"},
		{"too large", r, "POST", jsonType, `{"action":"stop","x":"` + strings.Repeat("a", MaxControlBodyBytes) + `"}`, 413, "body is larger than 16384 bytes"},
		{"empty", r, "POST", jsonType, ``, 400, "bad command: empty body"},
		{"not JSON", r, "POST", jsonType, `pause`, 400, "bad command: invalid JSON at byte 1"},
		{"unknown action", r, "POST", jsonType, `{"action":"explode"}`, 400, `unknown action "explode": want one of pause, resume, rate, stop, kill`},
		{"rate missing", r, "POST", jsonType, `{"action":"rate"}`, 400, `action "rate" needs "rate"`},
		{"rate as string", r, "POST", jsonType, `{"action":"rate","rate":"fast"}`, 400, `field "rate": want a number within float64 range, got a JSON string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := tt.srv.do(t, tt.method, "/control", tt.header, []byte(tt.body))
			var got errorBody
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%s /control = %d %q: not a JSON error: %v", tt.method, resp.StatusCode, body, err)
			}
			if resp.StatusCode != tt.wantStatus || got.OK || !strings.Contains(got.Error, tt.wantMsg) {
				t.Errorf("%s /control = %d %s, want %d with an error containing %q", tt.method, resp.StatusCode, body, tt.wantStatus, tt.wantMsg)
			}
			if tt.wantStatus == 405 && resp.Header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", resp.Header.Get("Allow"))
			}
		})
	}
	if calls := ctl.Calls(); len(calls) != 0 {
		t.Errorf("refused commands reached the controller: %v", calls)
	}
}

func TestClientControlErrors(t *testing.T) {
	t.Parallel()
	r := start(t, Config{Control: &fakeController{unsupported: map[Action]bool{ActionRate: true}}})
	_, err := r.client.Control(context.Background(), "rate", 10)
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("Control(rate) on an instance without rate = %v, want ErrUnsupported", err)
	}
	for _, want := range []string{"POST " + r.url + "/control", "501 Not Implemented", `action "rate": not supported`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	// Bad commands fail before any request.
	for _, tt := range []struct {
		action string
		rate   float64
		want   string
	}{
		{"", 0, `missing "action"`},
		{"explode", 0, `unknown action "explode"`},
		{"rate", -1, `"rate" -1 is negative`},
		{"rate", math.NaN(), `"rate" NaN is not a finite number`},
		{"rate", math.Inf(1), `"rate" +Inf is not a finite number`},
	} {
		if _, err := r.client.Control(context.Background(), tt.action, tt.rate); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Control(%q, %v) = %v, want an error containing %q", tt.action, tt.rate, err, tt.want)
		}
	}
}

func TestDecodeCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body    string
		want    Command
		wantErr string
	}{
		{`{"action":"pause"}`, Command{Action: ActionPause}, ""},
		{` {"action":"kill"} ` + "\n", Command{Action: ActionKill}, ""},
		{`{"action":"rate","rate":120}`, Command{Action: ActionRate, Rate: 120}, ""},
		{`{"rate":0.5,"action":"rate"}`, Command{Action: ActionRate, Rate: 0.5}, ""},
		{`{"action":"rate","rate":0}`, Command{Action: ActionRate}, ""},
		{`{"action":"resume","rate":null}`, Command{Action: ActionResume}, ""},
		{``, Command{}, "empty body: want a JSON object like"},
		{`   `, Command{}, "empty body"},
		{`{"action":`, Command{}, "truncated JSON"},
		{`{"action":"pause",}`, Command{}, "invalid JSON at byte 19"},
		{`[1]`, Command{}, "want a JSON object like {\"action\":\"pause\"}, got a JSON array"},
		{`"pause"`, Command{}, "got a JSON string"},
		{`null`, Command{}, `missing "action"`},
		{`{}`, Command{}, `missing "action"`},
		{`{"action":7}`, Command{}, `field "action": want a string, got a JSON number`},
		{`{"action":"Pause"}`, Command{}, `unknown action "Pause"`},
		{`{"action":"rate","rate":-3}`, Command{}, `"rate" -3 is negative`},
		{`{"action":"rate","rate":1e400}`, Command{}, `field "rate": want a number within float64 range, got a JSON number 1e400`},
		{`{"action":"rate","rate":null}`, Command{}, `action "rate" needs "rate"`},
		{`{"action":"pause","rate":3}`, Command{}, `"rate" is only for action "rate", not "pause"`},
		{`{"action":"pause","force":true}`, Command{}, `unknown field "force": want "action"`},
		{`{"action":"pause"}{"action":"kill"}`, Command{}, "unexpected data after the JSON object, which ends at byte 18"},
		{`{"action":"pause"} x`, Command{}, "unexpected data after the JSON object"},
		{`{"action":"sample","percent":25}`, Command{Action: ActionSample, Percent: 25}, ""},
		{`{"action":"sample","percent":0}`, Command{Action: ActionSample}, ""},
		{`{"action":"sample","percent":100}`, Command{Action: ActionSample, Percent: 100}, ""},
		{`{"action":"route","route":"create-order","disabled":true}`, Command{Action: ActionRoute, Route: "create-order", Disabled: true}, ""},
		{`{"disabled":false,"route":"a b","action":"route"}`, Command{Action: ActionRoute, Route: "a b"}, ""},
		{`{"action":"sample"}`, Command{}, `action "sample" needs "percent", the share of requests to mirror`},
		{`{"action":"sample","percent":null}`, Command{}, `action "sample" needs "percent"`},
		{`{"action":"sample","percent":100.5}`, Command{}, `"percent" 100.5 is out of range: want a share of requests from 0 to 100`},
		{`{"action":"sample","percent":-1}`, Command{}, `"percent" -1 is out of range`},
		{`{"action":"sample","percent":"25%"}`, Command{}, `field "percent": want a number within float64 range, got a JSON string`},
		{`{"action":"sample","percent":5,"rate":1}`, Command{}, `"rate" is only for action "rate", not "sample"`},
		{`{"action":"route","disabled":true}`, Command{}, `action "route" needs "route", the route's name`},
		{`{"action":"route","route":"x"}`, Command{}, `action "route" needs "disabled", true to stop mirroring the route or false to resume`},
		{`{"action":"route","route":"","disabled":true}`, Command{}, `action "route" needs "route"`},
		{`{"action":"route","route":"x","disabled":"yes"}`, Command{}, `field "disabled": want true or false, got a JSON string`},
		{`{"action":"route","route":"x","disabled":true,"percent":1}`, Command{}, `"percent" is only for action "sample", not "route"`},
		{`{"action":"pause","route":"x"}`, Command{}, `"route" is only for action "route", not "pause"`},
		{`{"action":"kill","disabled":false}`, Command{}, `"disabled" is only for action "route", not "kill"`},
		{`{"action":"route","route":"x","disabled":true,"name":"y"}`, Command{}, `unknown field "name": want "action" and`},
	}
	for _, tt := range tests {
		got, err := DecodeCommand(strings.NewReader(tt.body))
		if tt.wantErr == "" {
			if err != nil || got != tt.want {
				t.Errorf("DecodeCommand(%q) = %+v, %v; want %+v", tt.body, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("DecodeCommand(%q) = %+v, %v; want an error containing %q", tt.body, got, err, tt.wantErr)
		}
	}
}

// FuzzDecodeCommand checks that no body makes the decoder panic, that what
// it accepts is a command the server can carry out, and that an accepted
// command survives the client's encoding unchanged.
func FuzzDecodeCommand(f *testing.F) {
	for _, seed := range []string{
		`{"action":"pause"}`, `{"action":"rate","rate":120}`, `{"action":"rate","rate":0}`,
		`{"action":"kill","rate":null}`, `{"action":"stop"} `, ``, `{`, `[]`, `null`,
		`{"action":"rate","rate":-1}`, `{"action":"rate","rate":1e308}`, `{"ACTION":"resume"}`,
		`{"action":"pause"}{}`, `{"action":"\u0070ause"}`, `{"action":"pause","extra":1}`,
		`{"action":"sample","percent":25}`, `{"action":"sample","percent":0}`, `{"action":"sample","percent":1e999}`,
		`{"action":"sample"}`, `{"action":"route","route":"create-order","disabled":true}`,
		`{"action":"route","route":"x","disabled":false}`, `{"action":"route","route":"","disabled":true}`,
		`{"action":"route","route":"x"}`, `{"action":"pause","disabled":false}`, `{"action":"route","route":"\u00e9","disabled":true}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cmd, err := DecodeCommand(bytes.NewReader(body))
		if err != nil {
			if cmd != (Command{}) {
				t.Fatalf("DecodeCommand(%q) failed with %v but returned %+v", body, err, cmd)
			}
			if err.Error() == "" {
				t.Fatalf("DecodeCommand(%q) returned an empty error", body)
			}
			return
		}
		if verr := cmd.Validate(); verr != nil {
			t.Fatalf("DecodeCommand(%q) accepted %+v, which Validate refuses: %v", body, cmd, verr)
		}
		wire, err := json.Marshal(cmd.wire())
		if err != nil {
			t.Fatalf("encode %+v: %v", cmd, err)
		}
		again, err := DecodeCommand(bytes.NewReader(wire))
		if err != nil || again != cmd {
			t.Fatalf("round trip of %+v via %s = %+v, %v", cmd, wire, again, err)
		}
	})
}
