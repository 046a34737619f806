package mirror

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/exchange"
)

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestMirrorsRequest checks that the candidate and the secondary get the
// request the primary got (method, path, query, headers, body, forwarding
// headers), plus the marker and their own Host, and that the joined
// exchange describes all three.
func TestMirrorsRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		uri       string
		body      string
		chunked   bool // send the body without a length
		wantRoute string
	}{
		{name: "get with query", method: http.MethodGet, uri: "/items/7?b=2&a=1"},
		{name: "escaped path", method: http.MethodGet, uri: "/files/a%2Fb?q=%20x"},
		{name: "head", method: http.MethodHead, uri: "/items"},
		{name: "post on unsafe route", method: http.MethodPost, uri: "/orders", body: `{"sku":"x-1"}`, wantRoute: "orders"},
		{name: "put chunked body", method: http.MethodPut, uri: "/orders/9", body: "chunked body", chunked: true, wantRoute: "/orders/{id}"},
		{name: "unparsable query cleaned alike", method: http.MethodGet, uri: "/items?a=1;b=2&c=%zz&d=4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-From", "primary")
				w.WriteHeader(http.StatusCreated)
				_, _ = io.WriteString(w, "primary answer")
			})
			candidate := newBackend(t, nil)
			secondary := newBackend(t, nil)
			obs := newCollector()
			f := startProxy(t, Config{
				Primary:   primary.URL,
				Candidate: candidate.URL + "/v2",
				Secondary: secondary.URL,
				Observer:  obs,
				Routes: []Route{
					{Name: "orders", Path: "/orders", Unsafe: true},
					{Path: "/orders/{id}", Unsafe: true},
				},
			})

			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
				if tc.chunked {
					body = io.MultiReader(body) // hides the length: sent chunked
				}
			}
			header := http.Header{
				"X-Custom":        {"a", "b"},
				"Connection":      {"X-Hop"},
				"X-Hop":           {"hop-by-hop"},
				"X-Forwarded-For": {"10.0.0.1"},
			}
			resp, got := f.do(t, tc.method, tc.uri, body, header)
			wantBody := "primary answer"
			if tc.method == http.MethodHead {
				wantBody = ""
			}
			if resp.StatusCode != http.StatusCreated || string(got) != wantBody || resp.Header.Get("X-From") != "primary" {
				t.Errorf("client got %d %q (X-From %q), want 201 %q from the primary",
					resp.StatusCode, got, resp.Header.Get("X-From"), wantBody)
			}

			frontHost := hostOf(t, f.srv.URL)
			sides := []struct {
				name       string
				got        seen
				wantURI    string
				wantHost   string
				wantMarker string
			}{
				{"primary", primary.next(t), "", hostOf(t, primary.URL), ""},
				{"candidate", candidate.next(t), "/v2", hostOf(t, candidate.URL), "1"},
				{"secondary", secondary.next(t), "", hostOf(t, secondary.URL), "1"},
			}
			for _, s := range sides {
				if s.got.Method != tc.method || string(s.got.Body) != tc.body {
					t.Errorf("%s got %s with body %q, want %s with %q", s.name, s.got.Method, s.got.Body, tc.method, tc.body)
				}
				if s.got.Host != s.wantHost {
					t.Errorf("%s got Host %q, want its own %q", s.name, s.got.Host, s.wantHost)
				}
				if got := s.got.Header.Get("X-Shadow-Request"); got != s.wantMarker {
					t.Errorf("%s got marker %q, want %q", s.name, got, s.wantMarker)
				}
				if got := s.got.Header["X-Custom"]; !slices.Equal(got, []string{"a", "b"}) {
					t.Errorf("%s got X-Custom %q, want [a b]", s.name, got)
				}
				if got := s.got.Header.Get("X-Hop"); got != "" {
					t.Errorf("%s got hop-by-hop header X-Hop %q, want it removed", s.name, got)
				}
				wantFwd := map[string]string{
					"X-Forwarded-For":   "10.0.0.1, 127.0.0.1",
					"X-Forwarded-Host":  frontHost,
					"X-Forwarded-Proto": "http",
					"User-Agent":        "Go-http-client/1.1",
				}
				for k, want := range wantFwd {
					if got := s.got.Header.Get(k); got != want {
						t.Errorf("%s got %s %q, want %q", s.name, k, got, want)
					}
				}
			}
			// The copies ask for exactly what the primary was asked for.
			if got, want := sides[1].got.URI, "/v2"+sides[0].got.URI; got != want {
				t.Errorf("candidate got URI %q, want %q (the primary's, under /v2)", got, want)
			}
			if got, want := sides[2].got.URI, sides[0].got.URI; got != want {
				t.Errorf("secondary got URI %q, want the primary's %q", got, want)
			}

			x := obs.next(t)
			if x.Request.ID == "" {
				t.Error("exchange has no ID")
			}
			var wantReqBody []byte
			if tc.body != "" {
				wantReqBody = []byte(tc.body)
			}
			gotReq := exchange.Request{Method: x.Request.Method, URL: x.Request.URL, Host: x.Request.Host, Body: x.Request.Body}
			wantReq := exchange.Request{Method: tc.method, URL: tc.uri, Host: frontHost, Body: wantReqBody}
			if diff := cmp.Diff(wantReq, gotReq); diff != "" {
				t.Errorf("exchange request (-want +got):\n%s", diff)
			}
			if x.Request.Header.Get("X-Custom") != "a" || x.Request.Header.Get("X-Hop") != "" || x.Request.Header.Get("X-Shadow-Request") != "" {
				t.Errorf("exchange request headers %v: want the client's, without hop-by-hop ones or the marker", x.Request.Header)
			}
			if x.Route != tc.wantRoute {
				t.Errorf("exchange route %q, want %q", x.Route, tc.wantRoute)
			}
			type answer struct {
				Side   exchange.Side
				Status int
				Body   string
				OK     bool
			}
			summarize := func(r *exchange.Response) answer {
				return answer{Side: r.Side, Status: r.Status, Body: string(r.Body), OK: r.OK()}
			}
			if x.Secondary == nil {
				t.Fatal("exchange has no secondary answer; one is configured")
			}
			copyBody := "ok"
			if tc.method == http.MethodHead {
				copyBody = ""
			}
			got3 := []answer{summarize(&x.Primary), summarize(&x.Candidate), summarize(x.Secondary)}
			want3 := []answer{
				{exchange.Primary, http.StatusCreated, wantBody, true},
				{exchange.Candidate, http.StatusOK, copyBody, true},
				{exchange.Secondary, http.StatusOK, copyBody, true},
			}
			if diff := cmp.Diff(want3, got3); diff != "" {
				t.Errorf("exchange answers (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPrimaryAnswerByteForByte checks that status, headers, a binary body
// larger than the kept copy, and trailers reach the client unchanged, and
// that the teed copy is bounded while the size is counted in full; the
// candidate's answer is cut at the kept copy.
func TestPrimaryAnswerByteForByte(t *testing.T) {
	t.Parallel()
	body := make([]byte, 300<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(rng.UintN(256))
	}
	const keep = 64 << 10
	answer := func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h["Set-Cookie"] = []string{"a=1; Path=/", "b=2; Path=/"}
		h["X-Multi"] = []string{"one", "two"}
		h.Set("Trailer", "X-Checksum")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write(body)
		h.Set("X-Checksum", "sum-123")
	}
	primary := newBackend(t, answer)
	candidate := newBackend(t, answer)
	obs := newCollector()
	f := startProxy(t, Config{Primary: primary.URL, Candidate: candidate.URL, Observer: obs, MaxResponseBytes: keep})

	resp, got := f.get(t, "/blob")
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("status %d, want %d", resp.StatusCode, http.StatusTeapot)
	}
	for _, k := range []string{"Content-Type", "Set-Cookie", "X-Multi"} {
		if g, w := resp.Header[k], primaryHeader(k); !slices.Equal(g, w) {
			t.Errorf("header %s = %q, want %q", k, g, w)
		}
	}
	if !bytes.Equal(got, body) {
		t.Errorf("body: got %d bytes, want the primary's %d bytes unchanged", len(got), len(body))
	}
	if g := resp.Trailer.Get("X-Checksum"); g != "sum-123" {
		t.Errorf("trailer X-Checksum = %q, want %q", g, "sum-123")
	}

	// The primary's answer is teed whole: its size and trailer are known.
	// The candidate's is read no further than the kept copy, its
	// connection closed: its length (chunked) and trailer stay unknown.
	x := obs.next(t)
	for _, tc := range []struct {
		r           *exchange.Response
		wantSize    int64
		wantTrailer string
	}{
		{&x.Primary, int64(len(body)), "sum-123"},
		{&x.Candidate, 0, ""},
	} {
		r := tc.r
		if !bytes.Equal(r.Body, body[:keep]) || r.Size != tc.wantSize || !r.Truncated {
			t.Errorf("%s kept %d bytes of %d (truncated %v), want the first %d of %d, truncated",
				r.Side, len(r.Body), r.Size, r.Truncated, keep, tc.wantSize)
		}
		if g := r.Trailer.Get("X-Checksum"); g != tc.wantTrailer {
			t.Errorf("%s trailer X-Checksum = %q, want %q", r.Side, g, tc.wantTrailer)
		}
		if r.Error != "" || r.Status != http.StatusTeapot {
			t.Errorf("%s: status %d error %q, want %d and no error", r.Side, r.Status, r.Error, http.StatusTeapot)
		}
	}
}

func primaryHeader(k string) []string {
	return map[string][]string{
		"Content-Type": {"application/octet-stream"},
		"Set-Cookie":   {"a=1; Path=/", "b=2; Path=/"},
		"X-Multi":      {"one", "two"},
	}[k]
}

// TestStreamsFlushedAnswer proves the answer is streamed, not buffered:
// the primary sends its second part only after the client has read the
// first. With a Content-Length too (a slow body, /drip style): through a
// plain ReverseProxy the first part would wait for the last. Mirrored, the
// tee still keeps the whole answer.
func TestStreamsFlushedAnswer(t *testing.T) {
	t.Parallel()
	const first, second = "first\n", "second\n"
	tests := []struct {
		name     string
		length   bool // the primary sends a Content-Length
		mirrored bool
	}{
		{"chunked", false, true},
		{"with a length", true, true},
		{"with a length, not mirrored", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clientHasFirst := newGate()
			t.Cleanup(clientHasFirst.open)
			primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.length {
					w.Header().Set("Content-Length", strconv.Itoa(len(first+second)))
				}
				_, _ = io.WriteString(w, first)
				w.(http.Flusher).Flush()
				select {
				case <-clientHasFirst.ch:
				case <-r.Context().Done():
					return
				}
				_, _ = io.WriteString(w, second)
			})
			candidate := newBackend(t, nil)
			obs := newCollector()
			cfg := Config{Primary: primary.URL, Candidate: candidate.URL, Observer: obs}
			if !tc.mirrored {
				cfg.Routes = []Route{{Disabled: true}}
			}
			f := startProxy(t, cfg)

			ctx, cancel := context.WithTimeout(context.Background(), wait) // a buffering proxy fails, not hangs
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/stream", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := f.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			got, err := br.ReadString('\n')
			if err != nil || got != first {
				t.Fatalf("first part: %q, %v", got, err)
			}
			clientHasFirst.open()
			rest, err := io.ReadAll(br)
			if err != nil || string(rest) != second {
				t.Fatalf("second part: %q, %v", rest, err)
			}
			if !tc.mirrored {
				return
			}
			if x := obs.next(t); string(x.Primary.Body) != first+second || x.Primary.Error != "" {
				t.Errorf("exchange primary body %q error %q, want the whole stream", x.Primary.Body, x.Primary.Error)
			}
		})
	}
}

// TestNoSecondary checks that an exchange has no secondary answer when no
// secondary is configured.
func TestNoSecondary(t *testing.T) {
	t.Parallel()
	primary, candidate := newBackend(t, nil), newBackend(t, nil)
	obs := newCollector()
	f := startProxy(t, Config{Primary: primary.URL, Candidate: candidate.URL, Observer: obs})
	f.get(t, "/")
	if x := obs.next(t); x.Secondary != nil {
		t.Errorf("secondary answer %+v, want nil", x.Secondary)
	}
}

// TestPreserveHost checks that every upstream gets the client's Host when
// PreserveHost is set.
func TestPreserveHost(t *testing.T) {
	t.Parallel()
	primary, candidate := newBackend(t, nil), newBackend(t, nil)
	obs := newCollector()
	f := startProxy(t, Config{Primary: primary.URL, Candidate: candidate.URL, Observer: obs, PreserveHost: true})
	f.get(t, "/")
	for name, b := range map[string]*backend{"primary": primary, "candidate": candidate} {
		if got := b.next(t).Host; got != hostOf(t, f.srv.URL) {
			t.Errorf("%s got Host %q, want the client's %q", name, got, hostOf(t, f.srv.URL))
		}
	}
	obs.next(t)
}
