package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" means valid
	}{
		{"zero value", Config{}, ""},
		{"loopback v4", Config{Addr: "127.0.0.1:9090"}, ""},
		{"loopback v4 other", Config{Addr: "127.0.0.2:0"}, ""},
		{"loopback v6", Config{Addr: "[::1]:9090"}, ""},
		{"localhost", Config{Addr: "localhost:9090"}, ""},
		{"named port", Config{Addr: "127.0.0.1:http"}, ""},
		{"every interface needs token", Config{Addr: ":9090"}, "Token is required when the admin endpoint listens off loopback (\":9090\")"},
		{"all v4 needs token", Config{Addr: "0.0.0.0:9090"}, "Token is required"},
		{"public IP needs token", Config{Addr: "10.1.2.3:9090"}, "Token is required"},
		{"hostname needs token", Config{Addr: "admin.internal:9090"}, "Token is required"},
		{"every interface with token", Config{Addr: ":9090", Token: "0123456789abcdef"}, ""},
		{"short token off loopback", Config{Addr: ":9090", Token: "s3cret"},
			"Token is 6 bytes long: want at least 16 when the admin endpoint listens off loopback (\":9090\")"},
		{"15-byte token off loopback", Config{Addr: "10.1.2.3:9090", Token: "0123456789abcde"}, "Token is 15 bytes long"},
		{"short token on loopback", Config{Addr: "127.0.0.1:9090", Token: "s3cret"}, ""},
		{"no port", Config{Addr: "127.0.0.1"}, "Addr \"127.0.0.1\" is not host:port"},
		{"bad port", Config{Addr: "127.0.0.1:nope"}, "bad port \"nope\""},
		{"token with space", Config{Token: "two words"}, "Token contains ' '"},
		{"token padded", Config{Token: " x"}, "Token has leading or trailing spaces"},
		{"token newline", Config{Token: "a\nb"}, "Token contains '\\n'"},
		{"negative interval", Config{StreamInterval: -time.Second}, "StreamInterval -1s is negative"},
		{"tiny interval", Config{StreamInterval: time.Millisecond}, "StreamInterval 1ms is below the minimum 10ms"},
		{"negative max snapshot", Config{MaxSnapshotBytes: -1}, "MaxSnapshotBytes -1 is negative"},
		{"negative max streams", Config{MaxStreams: -1}, "MaxStreams -1 is negative"},
		{"negative shutdown", Config{ShutdownTimeout: -1}, "ShutdownTimeout -1ns is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
			if _, nerr := New(tt.cfg); (nerr == nil) != (err == nil) {
				t.Errorf("New() error = %v, Validate() = %v: want the same verdict", nerr, err)
			}
		})
	}
}

// TestTokenEnforced proves that with a Token the state, control and profile
// endpoints want the bearer token, and probes and scrapes do not.
func TestTokenEnforced(t *testing.T) {
	t.Parallel()
	const token = "s3cret-token"
	ctl := &fakeController{ceiling: 100}
	r := start(t, Config{Token: token, Snapshot: (&fakeState{}).Snapshot, Control: ctl})

	bearer := func(v string) http.Header { return http.Header{"Authorization": {v}} }
	jsonType := http.Header{"Content-Type": {"application/json"}}
	withJSON := func(h http.Header) http.Header {
		h = h.Clone()
		h.Set("Content-Type", "application/json")
		return h
	}
	tests := []struct {
		name       string
		method     string
		path       string
		header     http.Header
		wantStatus int
	}{
		{"snapshot without token", "GET", "/snapshot", nil, 401},
		{"snapshot wrong token", "GET", "/snapshot", bearer("Bearer nope"), 401},
		{"snapshot token prefix", "GET", "/snapshot", bearer("Bearer s3cret"), 401},
		{"snapshot basic scheme", "GET", "/snapshot", bearer("Basic " + token), 401},
		{"snapshot with token", "GET", "/snapshot", bearer("Bearer " + token), 200},
		{"snapshot lower-case scheme", "GET", "/snapshot", bearer("bearer " + token), 200},
		{"stream without token", "GET", "/snapshot/stream", nil, 401},
		{"control without token", "POST", "/control", jsonType, 401},
		{"control with token", "POST", "/control", withJSON(bearer("Bearer " + token)), 200},
		{"pprof without token", "GET", "/debug/pprof/", nil, 401},
		{"pprof with token", "GET", "/debug/pprof/", bearer("Bearer " + token), 200},
		{"healthz open", "GET", "/healthz", nil, 200},
		{"readyz open", "GET", "/readyz", nil, 200},
		{"metrics open", "GET", "/metrics", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := r.do(t, tt.method, tt.path, tt.header, []byte(`{"action":"pause"}`))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, body, tt.wantStatus)
			}
			if tt.wantStatus == 401 {
				if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
				}
				if !strings.Contains(string(body), "bearer token") {
					t.Errorf("401 body = %s, want it to name the bearer token", body)
				}
			}
		})
	}
	t.Run("client without token", func(t *testing.T) {
		t.Parallel()
		c := *r.client
		c.Token = ""
		_, err := c.Control(context.Background(), "kill", 0)
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != 401 || !strings.Contains(err.Error(), "missing bearer token") {
			t.Errorf("Control without token = %v, want a 401 StatusError saying the token is missing", err)
		}
	})
}

func TestTokenlessRefusesForeignHost(t *testing.T) {
	t.Parallel()
	r := start(t, Config{Snapshot: (&fakeState{}).Snapshot, Control: &fakeController{}})
	tests := []struct {
		host       string
		wantStatus int
	}{
		{"", 200}, // the real address
		{"localhost:9090", 200},
		{"LOCALHOST", 200},
		{"[::1]:9090", 200},
		{"10.0.0.1", 200},
		{"evil.example:9090", 403},
		{"127.0.0.1.nip.io", 403},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, r.url+"/snapshot", nil)
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := r.client.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := errorMessage(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("Host %q: GET /snapshot = %d %s, want %d", tt.host, resp.StatusCode, msg, tt.wantStatus)
			}
			if tt.wantStatus == 403 && !strings.Contains(msg, "not allowed") {
				t.Errorf("403 message = %q, want it to say the host is not allowed", msg)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   string
		wantOK bool
	}{
		{"Bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"Bearer  abc ", "abc", true},
		{"Bearer ", "", false},
		{"Bearer", "", false},
		{"Basic abc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := bearerToken(tt.header)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.wantOK)
		}
	}
}
