package mirror

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParsePattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    pattern
		wantErr string
	}{
		{in: "", want: pattern{any: true}},
		{in: "/", want: pattern{segs: []segment{{lit: ""}}}},
		{in: "/orders", want: pattern{segs: []segment{{lit: "orders"}}}},
		{in: "/orders/{id}", want: pattern{segs: []segment{{lit: "orders"}, {param: true}}}},
		{in: "/static/*", want: pattern{segs: []segment{{lit: "static"}}, prefix: true}},
		{in: "/*", want: pattern{prefix: true}},
		{in: "orders", wantErr: `"orders" does not start with /`},
		{in: "/a/*/b", wantErr: "* must be the last segment"},
		{in: "/a/{id", wantErr: "want {name} as the whole segment"},
		{in: "/a/{}", wantErr: "want {name} as the whole segment"},
		{in: "/a/x{id}", wantErr: "must be whole segments"},
		{in: "/a/b*", wantErr: "must be whole segments"},
	}
	for _, tc := range tests {
		got, err := parsePattern(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parsePattern(%q) error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parsePattern(%q): %v", tc.in, err)
			continue
		}
		if !patternEqual(got, tc.want) {
			t.Errorf("parsePattern(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func patternEqual(a, b pattern) bool {
	if a.any != b.any || a.prefix != b.prefix || len(a.segs) != len(b.segs) {
		return false
	}
	for i := range a.segs {
		if a.segs[i] != b.segs[i] {
			return false
		}
	}
	return true
}

func TestPatternMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		path    string
		want    bool
	}{
		{"", "/anything/at/all", true},
		{"/", "/", true},
		{"/", "/x", false},
		{"/orders", "/orders", true},
		{"/orders", "/orders/", false},
		{"/orders", "/orders/1", false},
		{"/orders", "/order", false},
		{"/orders", "/ordersx", false},
		{"/orders/{id}", "/orders/42", true},
		{"/orders/{id}", "/orders/", false},
		{"/orders/{id}", "/orders", false},
		{"/orders/{id}", "/orders/42/items", false},
		{"/orders/{id}/items", "/orders/42/items", true},
		{"/static/*", "/static/", true},
		{"/static/*", "/static/css/a.css", true},
		{"/static/*", "/static", false},
		{"/static/*", "/staticx/a", false},
		{"/*", "/", true},
		{"/*", "/a/b", true},
		{"/a/{x}/*", "/a/1/b/c", true},
		{"/a/{x}/*", "/a/1", false},
	}
	for _, tc := range tests {
		p, err := parsePattern(tc.pattern)
		if err != nil {
			t.Fatalf("parsePattern(%q): %v", tc.pattern, err)
		}
		if got := p.match(tc.path); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

// FuzzParsePattern checks that any pattern either fails to parse or matches
// the path it describes (with its parameters filled in), and never panics.
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"", "/", "/orders", "/orders/{id}", "/static/*", "/*", "/a/{b}/c/*", "x", "/{", "/a//b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePattern(s)
		if err != nil {
			return
		}
		if p.any {
			return
		}
		var b strings.Builder
		for _, seg := range p.segs {
			b.WriteByte('/')
			if seg.param {
				b.WriteString("v")
			} else {
				b.WriteString(seg.lit)
			}
		}
		if p.prefix {
			b.WriteString("/rest")
		}
		if path := b.String(); !p.match(path) {
			t.Errorf("pattern %q does not match its own path %q", s, path)
		}
	})
}

// TestAdmit checks which requests are mirrored, under which route name, and
// why the others are not.
func TestAdmit(t *testing.T) {
	t.Parallel()
	routes := []Route{
		{Name: "health", Path: "/healthz", Disabled: true},
		{Name: "orders", Path: "/orders/*", Methods: []string{"post", "GET"}, Unsafe: true},
		{Name: "admin", Path: "/admin/{page}", Headers: map[string]string{"x-role": "admin"}},
		{Name: "traced", Headers: map[string]string{"X-Trace": ""}, Disabled: true},
		{Path: "/carts/{id}"},
	}
	p := newIdleProxy(t, Config{Routes: routes})
	tests := []struct {
		method, target string
		header         map[string]string
		wantRoute      string // "" with wantSkip "" means mirrored with no route
		wantSkip       string
	}{
		{method: "GET", target: "/products"},
		{method: "HEAD", target: "/products"},
		{method: "OPTIONS", target: "/products"},
		{method: "POST", target: "/products", wantSkip: "method"},
		{method: "DELETE", target: "/products", wantSkip: "method"},
		{method: "GET", target: "/healthz", wantSkip: "route"},
		{method: "POST", target: "/orders/1", wantRoute: "orders"},
		{method: "GET", target: "/orders/1", wantRoute: "orders"},
		{method: "PUT", target: "/orders/1", wantSkip: "method"}, // not in the route's methods
		{method: "GET", target: "/admin/users", header: map[string]string{"X-Role": "admin"}, wantRoute: "admin"},
		{method: "GET", target: "/admin/users", header: map[string]string{"X-Role": "guest"}},
		{method: "GET", target: "/anything", header: map[string]string{"X-Trace": "1"}, wantSkip: "route"},
		{method: "GET", target: "/carts/9", wantRoute: "/carts/{id}"},
		{method: "PATCH", target: "/carts/9", wantSkip: "method"},
		{method: "GET", target: "/ws", header: map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}, wantSkip: "upgrade"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		for k, v := range tc.header {
			r.Header.Set(k, v)
		}
		rt, reason, ok := p.admit(r)
		gotRoute, gotSkip := "", ""
		if rt != nil {
			gotRoute = rt.name
		}
		if !ok {
			gotSkip = reason.String()
		}
		if gotRoute != tc.wantRoute || gotSkip != tc.wantSkip {
			t.Errorf("%s %s %v: route %q skip %q, want route %q skip %q",
				tc.method, tc.target, tc.header, gotRoute, gotSkip, tc.wantRoute, tc.wantSkip)
		}
	}
}

// TestSample checks that SamplePercent mirrors a share of the requests:
// with 50%, 400 requests all landing on one side has odds of 2^-400.
func TestSample(t *testing.T) {
	t.Parallel()
	p := newIdleProxy(t, Config{SamplePercent: 50})
	var mirrored, sampledOut int
	for range 400 {
		_, reason, ok := p.admit(httptest.NewRequest("GET", "/", nil))
		switch {
		case ok:
			mirrored++
		case reason == skipSample:
			sampledOut++
		default:
			t.Fatalf("skipped for %s", reason)
		}
	}
	if mirrored == 0 || sampledOut == 0 {
		t.Errorf("mirrored %d, sampled out %d of 400; want a share of each", mirrored, sampledOut)
	}
}

// newIdleProxy returns a proxy whose upstreams are never contacted, for
// tests of its decisions.
func newIdleProxy(t *testing.T, cfg Config) *Proxy {
	t.Helper()
	cfg.Primary, cfg.Candidate = "http://127.0.0.1:1", "http://127.0.0.1:2"
	cfg.Logger = discardLogger
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// TestValidate checks that Validate accepts the zero values and names every
// bad field. The full message for a config with every field wrong is kept
// in testdata/validate.golden (go test -run TestValidate -update rewrites it).
func TestValidate(t *testing.T) {
	t.Parallel()
	ok := Config{Primary: "http://127.0.0.1:8080", Candidate: "https://candidate.internal/v2"}
	tests := []struct {
		name    string
		edit    func(c *Config)
		wantErr string
	}{
		{name: "zero values", edit: func(c *Config) {}},
		{name: "all set", edit: func(c *Config) {
			c.Secondary, c.MaxBodyBytes, c.Workers, c.SamplePercent, c.MarkerHeader = "http://127.0.0.1:8081", 10, 2, 0.5, "X-Copy"
			c.Routes = []Route{{Path: "/a/{b}/*", Methods: []string{"get"}, Headers: map[string]string{"X-A": ""}}}
			c.SampleBy, c.MaxStreamBodyBytes, c.MaxSpooledBodies = "query:user", 10, 3
			c.CandidateTarget = Target{Host: "api.example.com", HostSuffix: "-shadow", SetHeaders: map[string]string{"X-Env": "shadow"}}
			c.PrimaryTarget = Target{PreserveHost: true, RemoveHeaders: []string{"X-Debug"}}
		}},
		{name: "streaming off", edit: func(c *Config) { c.MaxStreamBodyBytes = -1 }},
		{name: "stream limit below the default body limit", edit: func(c *Config) { c.MaxStreamBodyBytes = 1000 },
			wantErr: "max_stream_body_bytes: 1000 is below max_body_bytes (1048576); want more, 0 (64 MiB) or negative (off)"},
		{name: "stream limit below the body limit", edit: func(c *Config) { c.MaxBodyBytes, c.MaxStreamBodyBytes = 2<<20, 1<<20 },
			wantErr: "max_stream_body_bytes: 1048576 is below max_body_bytes (2097152)"},
		{name: "bad sample_by", edit: func(c *Config) { c.SampleBy = "header" }, wantErr: `sample_by: "header": want header:NAME`},
		{name: "bad candidate host", edit: func(c *Config) { c.CandidateTarget.Host = "http://x" }, wantErr: `candidate_target.host: "http://x" is not a valid host[:port]`},
		{name: "no primary", edit: func(c *Config) { c.Primary = "" }, wantErr: "primary: required"},
		{name: "bad candidate", edit: func(c *Config) { c.Candidate = "::" }, wantErr: `candidate: parse "::": missing protocol scheme`},
		{name: "candidate scheme", edit: func(c *Config) { c.Candidate = "ftp://x" }, wantErr: `candidate: "ftp://x": scheme "ftp" not supported`},
		{name: "candidate is primary", edit: func(c *Config) { c.Candidate = c.Primary + "/" }, wantErr: "candidate: \"http://127.0.0.1:8080/\" is the primary"},
		{name: "secondary no host", edit: func(c *Config) { c.Secondary = "http://" }, wantErr: `secondary: "http://": no host`},
		{name: "sample over 100", edit: func(c *Config) { c.SamplePercent = 101 }, wantErr: "sample_percent: 101 is out of range"},
		{name: "negative timeout", edit: func(c *Config) { c.CandidateTimeout = -1 }, wantErr: "candidate_timeout: -1ns is negative"},
		{name: "queue wait unlimited", edit: func(c *Config) { c.MaxQueueWait = -1 }},
		{name: "smallest queue wait", edit: func(c *Config) { c.MaxQueueWait = time.Millisecond }},
		{name: "queue wait too small", edit: func(c *Config) { c.MaxQueueWait = time.Millisecond - 1 },
			wantErr: "max_queue_wait: 999.999µs is below 1ms; want 1ms or more, 0 (1s, or candidate_timeout if shorter) or negative (no limit)"},
		{name: "budget at the body limit", edit: func(c *Config) { c.MaxBodyBytes, c.MaxBufferedBytes = 4096, 4096 }},
		{name: "budget below the default body limit", edit: func(c *Config) { c.MaxBufferedBytes = 1000 },
			wantErr: "max_buffered_bytes: 1000 is below max_body_bytes (1048576): no body that size could be mirrored; want more, or 0 (64 MiB)"},
		{name: "body read timeout off", edit: func(c *Config) { c.BodyReadTimeout = -1 }},
		{name: "bad route path", edit: func(c *Config) { c.Routes = []Route{{}, {Path: "orders"}} }, wantErr: `routes[1].path: "orders" does not start with /`},
		{name: "bad route method", edit: func(c *Config) { c.Routes = []Route{{Methods: []string{"GE T"}}} }, wantErr: `routes[0].methods[0]: "GE T" is not a valid method`},
	}
	for _, tc := range tests {
		c := ok
		tc.edit(&c)
		err := c.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v, want valid", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
		}
	}

	all := Config{
		Candidate:        "::",
		Secondary:        "ftp://x",
		MaxBodyBytes:     -1,
		MaxResponseBytes: -2,
		QueueSize:        -3,
		Workers:          -4,
		CandidateTimeout: -5,
		MaxQueueWait:     5,
		SamplePercent:    -6,
		MarkerHeader:     "bad header",
		MarkerValue:      "bad\nvalue",
		SampleBy:         "body:user",
		MaxSpooledBodies: -7,
		MaxBufferedBytes: -8,
		PrimaryTarget:    Target{Host: "a b"},
		SecondaryTarget:  Target{RemoveHeaders: []string{"Content-Length"}},
		CandidateTarget:  Target{HostSuffix: ":1", SetHeaders: map[string]string{"Host": "x"}},
		Routes:           []Route{{Path: "/a/*/b", Methods: []string{""}, Headers: map[string]string{"X-Ok": "bad\r\n", "bad name": ""}}},
	}
	err := all.Validate()
	if err == nil {
		t.Fatal("Validate accepted a config with every field wrong")
	}
	golden := filepath.Join("testdata", "validate.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, rerr := os.ReadFile(golden)
	if rerr != nil {
		t.Fatalf("%v (run with -update to create it)", rerr)
	}
	if got := err.Error() + "\n"; got != string(want) {
		t.Errorf("Validate error:\n%s\nwant (%s):\n%s", got, golden, want)
	}
}

// TestNewRejectsBadConfig checks that New validates.
func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{Candidate: "http://127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "primary: required") {
		t.Errorf("New error %v, want primary: required", err)
	}
}
