package mirror

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/exchange"
)

// clientHost is the Host the test clients ask the proxy for, as a browser
// asking for the public name would.
const clientHost = "shop.example.com"

// vhost is a virtual-host backend: it answers 200 "vhost ok" to requests
// for the one Host it serves and 404 to any other, as name-based virtual
// hosting (nginx server_name, an ingress) does.
type vhost struct {
	*backend
	serves string // set before any request
}

func newVhost(t *testing.T) *vhost {
	t.Helper()
	v := &vhost{}
	v.backend = newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Host != v.serves {
			http.Error(w, "no such site: "+r.Host, http.StatusNotFound)
			return
		}
		_, _ = io.WriteString(w, "vhost ok")
	})
	return v
}

// getAs sends GET path to the proxy with the given Host header.
func (f *front) getAs(t *testing.T, host, path string, header http.Header) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestTargetHost proves each Host mode against virtual-host backends that
// answer 404 to a Host they do not serve: the upstream's own host (the
// default), the client's, a literal, each with an optional suffix, mixed
// per upstream, and the deprecated global PreserveHost. The last rows are
// the control: a mode that sends the wrong Host gets the 404.
func TestTargetHost(t *testing.T) {
	t.Parallel()
	// own is the upstream's own host:port, filled in per backend.
	const own = "<own>"
	tests := []struct {
		name                   string
		primary, sec, cand     Target
		preserveAll            bool
		serveP, serveS, serveC string // what each backend serves; own is replaced
		wantP, wantS, wantC    int
	}{
		{
			name:   "default: each upstream's own host",
			serveP: own, serveS: own, serveC: own,
		},
		{
			name:    "client's host everywhere",
			primary: Target{PreserveHost: true}, sec: Target{PreserveHost: true}, cand: Target{PreserveHost: true},
			serveP: clientHost, serveS: clientHost, serveC: clientHost,
		},
		{
			name:    "literal everywhere",
			primary: Target{Host: "api.internal"}, sec: Target{Host: "api.internal"}, cand: Target{Host: "api.internal:8443"},
			serveP: "api.internal", serveS: "api.internal", serveC: "api.internal:8443",
		},
		{
			name:   "candidate suffix on its own host, before the port",
			cand:   Target{HostSuffix: "-shadow"},
			serveP: own, serveS: own, serveC: "127.0.0.1-shadow:<port>",
		},
		{
			name:    "candidate suffix on the client's host",
			primary: Target{PreserveHost: true}, sec: Target{PreserveHost: true}, cand: Target{PreserveHost: true, HostSuffix: "-shadow"},
			serveP: clientHost, serveS: clientHost, serveC: clientHost + "-shadow",
		},
		{
			name:   "candidate suffix on a literal with a port",
			cand:   Target{Host: "api.internal:8080", HostSuffix: "-shadow"},
			serveP: own, serveS: own, serveC: "api.internal-shadow:8080",
		},
		{
			name:    "mixed per upstream",
			primary: Target{PreserveHost: true}, sec: Target{Host: "replica.internal"},
			serveP: clientHost, serveS: "replica.internal", serveC: own,
		},
		{
			name:        "deprecated PreserveHost, overridden by a literal",
			preserveAll: true, cand: Target{Host: "candidate.internal"},
			serveP: clientHost, serveS: clientHost, serveC: "candidate.internal",
		},
		{
			name:   "control: default mode to backends serving the public name",
			serveP: clientHost, serveS: clientHost, serveC: clientHost,
			wantP: http.StatusNotFound, wantS: http.StatusNotFound, wantC: http.StatusNotFound,
		},
		{
			name:    "control: suffix the backend does not serve",
			primary: Target{PreserveHost: true}, cand: Target{PreserveHost: true, HostSuffix: "-shadow"},
			serveP: clientHost, serveS: own, serveC: clientHost,
			wantC: http.StatusNotFound,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pb, sb, cb := newVhost(t), newVhost(t), newVhost(t)
			for _, x := range []struct {
				v     *vhost
				serve string
			}{{pb, tc.serveP}, {sb, tc.serveS}, {cb, tc.serveC}} {
				hostport := hostOf(t, x.v.URL)
				port := hostport[strings.LastIndexByte(hostport, ':')+1:]
				x.v.serves = strings.ReplaceAll(strings.ReplaceAll(x.serve, own, hostport), "<port>", port)
			}
			obs := newCollector()
			f := startProxy(t, Config{
				Primary: pb.URL, Secondary: sb.URL, Candidate: cb.URL, Observer: obs,
				PrimaryTarget: tc.primary, SecondaryTarget: tc.sec, CandidateTarget: tc.cand,
				PreserveHost: tc.preserveAll,
			})
			resp := f.getAs(t, clientHost, "/", nil)
			x := obs.next(t)
			want := func(s int) int {
				if s == 0 {
					return http.StatusOK
				}
				return s
			}
			got := []int{resp.StatusCode, x.Secondary.Status, x.Candidate.Status}
			if w := []int{want(tc.wantP), want(tc.wantS), want(tc.wantC)}; !slices.Equal(got, w) {
				t.Errorf("status primary (client), secondary, candidate = %v, want %v", got, w)
				for _, s := range []struct {
					name string
					b    *vhost
				}{{"primary", pb}, {"secondary", sb}, {"candidate", cb}} {
					t.Logf("%s serves %q, got Host %q", s.name, s.b.serves, s.b.next(t).Host)
				}
			}
			if x.Primary.Status != resp.StatusCode {
				t.Errorf("exchange primary status %d, client got %d", x.Primary.Status, resp.StatusCode)
			}
			if x.Request.Host != clientHost {
				t.Errorf("exchange records Host %q, want the client's %q", x.Request.Host, clientHost)
			}
		})
	}
}

// TestTargetHeaders checks that each upstream gets its own header edits
// (set, replace, remove, and overriding the marker) and only its own, and
// that the exchange records the client's headers unedited.
func TestTargetHeaders(t *testing.T) {
	t.Parallel()
	primary, secondary, candidate := newBackend(t, nil), newBackend(t, nil), newBackend(t, nil)
	obs := newCollector()
	f := startProxy(t, Config{
		Primary: primary.URL, Secondary: secondary.URL, Candidate: candidate.URL, Observer: obs,
		PrimaryTarget: Target{SetHeaders: map[string]string{"X-Env": "live"}},
		SecondaryTarget: Target{
			SetHeaders:    map[string]string{"x-env": "noise-probe"},
			RemoveHeaders: []string{"x-shadow-request"},
		},
		CandidateTarget: Target{
			SetHeaders:    map[string]string{"X-Env": "shadow", "X-Shadow-Request": "candidate", "Authorization": "Bearer test-token"},
			RemoveHeaders: []string{"Cookie", "authorization", "X-Absent"},
		},
	})
	client := http.Header{
		"Authorization": {"Bearer real-user-token"},
		"Cookie":        {"session=abc"},
		"X-Env":         {"from-client"},
	}
	f.getAs(t, clientHost, "/", client)

	type got struct{ Env, Marker, Auth, Cookie string }
	read := func(h http.Header) got {
		return got{h.Get("X-Env"), h.Get("X-Shadow-Request"), h.Get("Authorization"), h.Get("Cookie")}
	}
	for _, tc := range []struct {
		name string
		b    *backend
		want got
	}{
		{"primary", primary, got{"live", "", "Bearer real-user-token", "session=abc"}},
		{"secondary", secondary, got{"noise-probe", "", "Bearer real-user-token", "session=abc"}},
		{"candidate", candidate, got{"shadow", "candidate", "Bearer test-token", ""}},
	} {
		h := tc.b.next(t).Header
		if diff := cmp.Diff(tc.want, read(h)); diff != "" {
			t.Errorf("%s headers (-want +got):\n%s", tc.name, diff)
		}
		if vs := h["X-Env"]; len(vs) != 1 {
			t.Errorf("%s got X-Env %q, want exactly one value", tc.name, vs)
		}
	}
	x := obs.next(t)
	if diff := cmp.Diff(got{"from-client", "", "Bearer real-user-token", "session=abc"}, read(x.Request.Header)); diff != "" {
		t.Errorf("exchange records edited headers (-want +got):\n%s", diff)
	}
}

// TestForwardedHeadersAgree proves that every upstream gets the same
// X-Forwarded-For, -Host, -Proto and Forwarded, whatever Host each is sent,
// so answers that echo them agree: three backends echo them, and the three
// answers in the exchange must be equal, and equal to what is expected.
func TestForwardedHeadersAgree(t *testing.T) {
	t.Parallel()
	echo := func(w http.ResponseWriter, r *http.Request) {
		for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded"} {
			fmt.Fprintf(w, "%s: %q\n", k, r.Header.Values(k))
		}
	}
	tests := []struct {
		name   string
		client http.Header
		want   string
	}{
		{
			name: "client sent none",
			want: "X-Forwarded-For: [\"127.0.0.1\"]\nX-Forwarded-Host: [\"shop.example.com\"]\n" +
				"X-Forwarded-Proto: [\"http\"]\nForwarded: []\n",
		},
		{
			name: "behind a load balancer",
			client: http.Header{
				"X-Forwarded-For":   {"203.0.113.7", "10.0.0.2"},
				"X-Forwarded-Host":  {"www.example.com"},
				"X-Forwarded-Proto": {"https"},
				"Forwarded":         {"for=203.0.113.7;proto=https"},
			},
			want: "X-Forwarded-For: [\"203.0.113.7, 10.0.0.2, 127.0.0.1\"]\nX-Forwarded-Host: [\"www.example.com\"]\n" +
				"X-Forwarded-Proto: [\"https\"]\nForwarded: [\"for=203.0.113.7;proto=https\"]\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			primary, secondary, candidate := newBackend(t, echo), newBackend(t, echo), newBackend(t, echo)
			obs := newCollector()
			f := startProxy(t, Config{
				Primary: primary.URL, Secondary: secondary.URL, Candidate: candidate.URL, Observer: obs,
				// A different Host for each: the forwarding headers must not care.
				PrimaryTarget:   Target{PreserveHost: true},
				SecondaryTarget: Target{Host: "replica.internal"},
				CandidateTarget: Target{HostSuffix: "-shadow", SetHeaders: map[string]string{"X-Env": "shadow"}},
			})
			f.getAs(t, clientHost, "/echo", tc.client)
			x := obs.next(t)
			for _, r := range []*exchange.Response{&x.Primary, x.Secondary, &x.Candidate} {
				if diff := cmp.Diff(tc.want, string(r.Body)); diff != "" {
					t.Errorf("%s echoed (-want +got):\n%s", r.Side, diff)
				}
			}
		})
	}
}

func TestWithHostSuffix(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, suffix, want string }{
		{"api.example.com", "-shadow", "api.example.com-shadow"},
		{"api.example.com:8080", "-shadow", "api.example.com-shadow:8080"},
		{"127.0.0.1:80", ".mirror", "127.0.0.1.mirror:80"},
		{"[::1]", "-x", "[::1]-x"},
		{"[::1]:80", "-x", "[::1]-x:80"},
		{"api", "", "api"},
	}
	for _, tc := range tests {
		if got := withHostSuffix(tc.in, tc.suffix); got != tc.want {
			t.Errorf("withHostSuffix(%q, %q) = %q, want %q", tc.in, tc.suffix, got, tc.want)
		}
	}
}

// TestTargetValidate checks that every bad Target field is named.
func TestTargetValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target Target
		want   []string
	}{
		{name: "zero"},
		{name: "all good", target: Target{
			Host: "api.example.com:8443", HostSuffix: "-shadow",
			SetHeaders: map[string]string{"X-Env": "shadow"}, RemoveHeaders: []string{"Cookie", "Authorization"},
		}},
		{name: "host and preserve", target: Target{Host: "a", PreserveHost: true},
			want: []string{`t.host: "a" given with preserve_host; want one of them`}},
		{name: "host with path", target: Target{Host: "a.example/x"}, want: []string{`t.host: "a.example/x" is not a valid host[:port]`}},
		{name: "host with scheme", target: Target{Host: "http://a"}, want: []string{`t.host: "http://a" is not a valid host[:port]`}},
		{name: "host with bad port", target: Target{Host: "a:port"}, want: []string{`t.host: "a:port" is not a valid host[:port]`}},
		{name: "suffix with port", target: Target{HostSuffix: "-x:80"}, want: []string{`t.host_suffix: "-x:80" is not valid in a host name`}},
		{name: "suffix with space", target: Target{HostSuffix: " x"}, want: []string{`t.host_suffix: " x" is not valid in a host name`}},
		{name: "set framing and hop-by-hop", target: Target{SetHeaders: map[string]string{"host": "x", "Content-Length": "1", "Connection": "close", "X-Ok": "bad\n"}},
			want: []string{
				`t.set_headers: "Connection" cannot be set per target`,
				`t.set_headers: "Content-Length" cannot be set per target`,
				`t.set_headers[X-Ok]: "bad\n" is not a valid header value`,
				`t.set_headers: "host" cannot be set per target; use host, preserve_host or host_suffix`,
			}},
		{name: "remove framing", target: Target{RemoveHeaders: []string{"Transfer-Encoding", "bad name", "Connection"}},
			want: []string{
				`t.remove_headers[0]: "Transfer-Encoding" cannot be removed per target`,
				`t.remove_headers[1]: "bad name" is not a valid header name`,
			}},
	}
	for _, tc := range tests {
		var got []string
		for _, err := range tc.target.validate("t") {
			got = append(got, err.Error())
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
