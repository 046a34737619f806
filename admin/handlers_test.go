package admin

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestHandlersValidate(t *testing.T) {
	t.Parallel()
	ok := http.NotFoundHandler()
	tests := []struct {
		path    string
		h       http.Handler
		wantErr string // "" means valid
	}{
		{"/history", ok, ""},
		{"/runs/", ok, ""},
		{"/schedule/entries", ok, ""},
		{"/snapshot/extra", ok, ""}, // not one of the server's own paths
		{"history", ok, `Handlers["history"]: want a path starting with "/"`},
		{"/", ok, `Handlers["/"]: "/" would answer every unknown path`},
		{"GET /history", ok, `want a path starting with "/"`},
		{"/a b", ok, "want a plain path"},
		{"/runs/{id}", ok, "want a plain path"},
		{"/a%2Fb", ok, "want a plain path"},
		{"/a/../metrics", ok, `not a clean path: want "/metrics"`},
		{"/a//b", ok, `not a clean path: want "/a/b"`},
		{"/metrics", ok, "the server serves this path itself"},
		{"/snapshot/", ok, "the server serves this path itself"},
		{"/control", ok, "the server serves this path itself"},
		{"/debug/pprof/heap", ok, "the server serves this path itself"},
		{"/history", nil, `Handlers["/history"]: handler is nil`},
	}
	for _, tt := range tests {
		cfg := Config{Handlers: map[string]http.Handler{tt.path: tt.h}}
		err := cfg.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: Validate() = %v, want nil", tt.path, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: Validate() = %v, want an error containing %q", tt.path, err, tt.wantErr)
		}
		if _, nerr := New(cfg); (nerr == nil) != (err == nil) {
			t.Errorf("%q: New() error = %v, Validate() = %v: want the same verdict", tt.path, nerr, err)
		}
	}
}

// TestHandlersGuardedAndListed: an instance's own endpoints answer behind
// the token like /snapshot does, a trailing-slash path serves its tree, and
// the index lists them.
func TestHandlersGuardedAndListed(t *testing.T) {
	t.Parallel()
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path)
	})
	r := start(t, Config{Token: "s3cret", Handlers: map[string]http.Handler{"/history": echo, "/runs/": echo}})
	bearer := http.Header{"Authorization": {"Bearer s3cret"}}
	wrong := http.Header{"Authorization": {"Bearer nope"}}
	tests := []struct {
		path       string
		header     http.Header
		wantStatus int
		wantBody   string // a prefix
	}{
		{"/history", bearer, 200, "GET /history"},
		{"/runs/a/b", bearer, 200, "GET /runs/a/b"},
		{"/history", nil, 401, `{"ok":false,"error":"missing bearer token`},
		{"/history", wrong, 401, `{"ok":false,"error":"wrong bearer token"}`},
		{"/runs/a", nil, 401, `{"ok":false,"error":"missing bearer token`},
		{"/histories", bearer, 404, "404 page not found"},
		{"/metrics", nil, 200, "# HELP"}, // the server's own paths are untouched
	}
	for _, tt := range tests {
		resp, body := r.get(t, tt.path, tt.header)
		if resp.StatusCode != tt.wantStatus || !strings.HasPrefix(string(body), tt.wantBody) {
			t.Errorf("GET %s = %d %q, want %d %q...", tt.path, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
		}
	}
	resp, body := r.get(t, "/", nil)
	want := indexText +
		"     /history          this instance's own endpoint\n" +
		"     /runs/            this instance's own endpoint\n"
	if resp.StatusCode != 200 || string(body) != want {
		t.Errorf("GET / = %d\n%s\nwant 200\n%s", resp.StatusCode, body, want)
	}
}

// Without a token, an instance's own endpoints answer requests addressed
// to an IP and refuse those addressed by a DNS name, as /snapshot does.
func TestHandlersTokenlessRefuseForeignHost(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "runs") })
	r := start(t, Config{Handlers: map[string]http.Handler{"/history": ok}})
	for _, tt := range []struct {
		host       string
		wantStatus int
	}{{"", 200}, {"evil.example:9090", 403}} {
		req, _ := http.NewRequest(http.MethodGet, r.url+"/history", nil)
		if tt.host != "" {
			req.Host = tt.host
		}
		resp, err := r.client.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("Host %q: GET /history = %d %s, want %d", tt.host, resp.StatusCode, body, tt.wantStatus)
		}
	}
}
