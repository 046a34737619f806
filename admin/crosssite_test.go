package admin

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// browserHeaders are what a browser sends with a request a page on another
// site makes without a CORS preflight: an <img> tag, a form, a no-cors
// fetch. None of them can carry RequestHeader or Authorization.
func browserHeaders(dest string) http.Header {
	return http.Header{
		"Accept":         {"image/avif,image/webp,*/*"},
		"Origin":         {"https://evil.example"},
		"Referer":        {"https://evil.example/page"},
		"Sec-Fetch-Dest": {dest},
		"Sec-Fetch-Mode": {"no-cors"},
		"Sec-Fetch-Site": {"cross-site"},
		"User-Agent":     {"Mozilla/5.0"},
		RequestHeader:    {""}, // r.do adds it otherwise; an empty value is no header to the guard
	}
}

// same is a navigation the browser marks with site ("none" when the user
// typed the URL).
func same(site string) http.Header {
	h := browserHeaders("document")
	h.Set("Sec-Fetch-Site", site)
	h.Del("Origin")
	return h
}

func withType(h http.Header, contentType string) http.Header {
	h = h.Clone()
	h.Set("Content-Type", contentType)
	return h
}

// Without a token, a request a web page on any site could send to
// 127.0.0.1 (an <img> tag, a form, a no-cors fetch) cannot start a CPU
// profile or a trace, force a GC, hold a stream, act through /control or
// post to the instance's own endpoints: each is refused with 403 before the
// endpoint runs, and the controller is never called. Plain reads that cost
// little stay open; a program that sends RequestHeader, or a command as
// application/json, gets through.
func TestTokenlessRefusesCrossSiteRequests(t *testing.T) {
	t.Parallel()
	ctl := &fakeController{ceiling: 100}
	history := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "runs") })
	r := start(t, Config{Snapshot: (&fakeState{}).Snapshot, Control: ctl, Handlers: map[string]http.Handler{"/history": history}})

	img := browserHeaders("image")
	form := withType(browserHeaders("document"), "application/x-www-form-urlencoded")
	kill := []byte(`{"action":"kill"}`)
	tests := []struct {
		name       string
		method     string
		path       string
		header     http.Header
		body       []byte
		wantStatus int
	}{
		{"img starts a 5-minute CPU profile", "GET", "/debug/pprof/profile?seconds=300", img, nil, 403},
		{"img starts a trace", "GET", "/debug/pprof/trace?seconds=60", img, nil, 403},
		{"img forces a GC", "GET", "/debug/pprof/heap?gc=1", img, nil, 403},
		{"img stops the world for goroutines", "GET", "/debug/pprof/goroutine?debug=2", img, nil, 403},
		{"img lists profiles", "GET", "/debug/pprof/", img, nil, 403},
		{"img HEAD of a profile", "HEAD", "/debug/pprof/profile?seconds=300", img, nil, 403},
		{"img holds a stream", "GET", "/snapshot/stream", img, nil, 403},
		{"img holds a stream by query", "GET", "/snapshot?stream=1", img, nil, 403},
		{"img on control", "GET", "/control", img, nil, 403},
		{"form posts a command", "POST", "/control", form, []byte(`{"action":"kill"}=`), 403},
		{"text/plain form posts JSON", "POST", "/control", withType(form, "text/plain"), kill, 403},
		{"no-cors fetch with parameters", "POST", "/control", withType(form, "text/plain; charset=utf-8; x=application/json"), kill, 403},
		{"multipart form", "POST", "/control", withType(form, "multipart/form-data; boundary=x"), kill, 403},
		{"form without a type", "POST", "/control", browserHeaders("document"), kill, 403},
		{"form posts to the instance's own", "POST", "/history", form, nil, 403},
		{"form posts to snapshot", "POST", "/snapshot", form, nil, 403},

		{"link from another port of 127.0.0.1", "GET", "/debug/pprof/heap?gc=1", same("same-site"), nil, 403},
		{"operator types the URL", "GET", "/debug/pprof/heap", same("none"), nil, 200},
		{"link on the pprof index", "GET", "/debug/pprof/goroutine?debug=1", same("same-origin"), nil, 200},
		{"plain snapshot read stays open", "GET", "/snapshot", img, nil, 200},
		{"plain read of the instance's own stays open", "GET", "/history", img, nil, 200},
		{"program reads a profile", "GET", "/debug/pprof/heap", nil, nil, 200},
		{"program posts JSON without the header", "POST", "/control", withType(browserHeaders("empty"), "application/json"), []byte(`{"action":"pause"}`), 200},
	}
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				resp, body := r.do(t, tt.method, tt.path, tt.header, tt.body)
				if resp.StatusCode != tt.wantStatus {
					t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, body, tt.wantStatus)
				}
				if tt.wantStatus == 403 && tt.method != "HEAD" && !strings.Contains(string(body), "a web page cannot send") {
					t.Errorf("403 body = %s, want it to say what a web page cannot send", body)
				}
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
					t.Errorf("Access-Control-Allow-Origin = %q: the server must never let another origin read it", got)
				}
			})
		}
	})
	// The parallel requests are done: only the program's pause reached the
	// controller.
	if calls := ctl.Calls(); len(calls) != 1 || calls[0].Action != ActionPause {
		t.Errorf("controller calls = %+v, want only the program's pause", calls)
	}
	// Had a refused <img> started the 300 s profile, this one could not
	// start ("cpu profiling already in use").
	if resp, body := r.get(t, "/debug/pprof/profile?seconds=0.05", nil); resp.StatusCode != 200 {
		t.Errorf("a program's CPU profile = %d %s, want 200", resp.StatusCode, body)
	}
}

// A browser's preflight for a request that would carry RequestHeader or
// a JSON command gets no CORS grant, so the browser never sends it.
func TestTokenlessNeverGrantsPreflight(t *testing.T) {
	t.Parallel()
	r := start(t, Config{Snapshot: (&fakeState{}).Snapshot, Control: &fakeController{}})
	for _, path := range []string{"/control", "/debug/pprof/profile", "/snapshot/stream", "/snapshot"} {
		resp, _ := r.do(t, http.MethodOptions, path, http.Header{
			"Origin":                         {"https://evil.example"},
			"Access-Control-Request-Method":  {"POST"},
			"Access-Control-Request-Headers": {"content-type, x-admin-request"},
			RequestHeader:                    {""},
		}, nil)
		for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods"} {
			if got := resp.Header.Get(h); got != "" {
				t.Errorf("OPTIONS %s: %s = %q, want none", path, h, got)
			}
		}
		if resp.StatusCode < 400 {
			t.Errorf("OPTIONS %s = %d, want a refusal", path, resp.StatusCode)
		}
	}
}

func TestIsSimpleRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method string
		header http.Header
		want   bool
	}{
		{"GET", nil, true},
		{"HEAD", nil, true},
		{"POST", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, true},
		{"POST", http.Header{"Content-Type": {"Text/Plain ;charset=utf-8"}}, true},
		{"POST", http.Header{"Content-Type": {"multipart/form-data; boundary=x"}}, true},
		{"POST", http.Header{"Content-Type": {"text/plain; a=\"unclosed"}}, true}, // a browser sends it simple
		{"POST", http.Header{"Content-Type": {"application/json"}}, false},
		{"POST", http.Header{"Content-Type": {"application/json; charset=utf-8"}}, false},
		{"POST", http.Header{"Content-Type": {""}}, false},
		{"GET", http.Header{RequestHeader: {"1"}}, false},
		{"GET", http.Header{RequestHeader: {""}}, true},
		{"GET", http.Header{"Authorization": {"Bearer x"}}, false},
		{"PUT", nil, false},
		{"DELETE", nil, false},
		{"OPTIONS", nil, false},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest(tt.method, "http://127.0.0.1/", nil)
		for k, v := range tt.header {
			r.Header[k] = v
		}
		if got := isSimpleRequest(r); got != tt.want {
			t.Errorf("isSimpleRequest(%s %v) = %v, want %v", tt.method, tt.header, got, tt.want)
		}
	}
}
