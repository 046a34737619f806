package egress

import (
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/capture"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	dep := func(f func(d *Dependency)) Config {
		c := config("http://payments:8080")
		f(&c.Dependencies[0])
		return c
	}
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none for valid
	}{
		{name: "base-URL mode", cfg: config("http://payments:8080")},
		{name: "no secondary", cfg: dep(func(d *Dependency) { d.SecondaryListen = "" })},
		{name: "https upstream with a base path", cfg: dep(func(d *Dependency) { d.Upstream = "https://pay.example/v1" })},
		{name: "proxy mode only", cfg: Config{
			Dependencies: []Dependency{{Name: "payments", Upstream: "http://payments:8080"}, {Name: "mail", Upstream: "http://mail"}},
			Proxy:        Listeners{PrimaryListen: "127.0.0.1:9200", CandidateListen: "127.0.0.1:9201"},
		}},
		{name: "routes", cfg: dep(func(d *Dependency) { d.Routes = []string{"/charges/{id}", "/charges/{id}/capture", "/"} })},
		{name: "limits", cfg: Config{Dependencies: config("http://p").Dependencies, Limits: Limits{MaxBodyBytes: 10, MaxWait: time.Second, MaxCallsPerTrace: 1, RecordTTL: time.Minute, MaxMemoryBytes: 64 << 10}}},

		{name: "nothing", cfg: Config{}, want: []string{"egress: at least one dependency"}},
		{name: "no name", cfg: dep(func(d *Dependency) { d.Name = "" }), want: []string{"egress[0].name: required"}},
		{name: "bad name", cfg: dep(func(d *Dependency) { d.Name = "pay ments" }), want: []string{`egress[0].name: "pay ments"`}},
		{name: "no upstream", cfg: dep(func(d *Dependency) { d.Upstream = "" }), want: []string{"egress[0].upstream: required"}},
		{name: "upstream scheme", cfg: dep(func(d *Dependency) { d.Upstream = "payments:8080" }), want: []string{"egress[0].upstream:", "http:// or https://"}},
		{name: "upstream user info", cfg: dep(func(d *Dependency) { d.Upstream = "http://user:hunter2@pay" }), want: []string{"egress[0].upstream:", "user info"}},
		{name: "upstream query", cfg: dep(func(d *Dependency) { d.Upstream = "http://pay/?x=1" }), want: []string{"egress[0].upstream:", "no query"}},
		{name: "no listeners", cfg: dep(func(d *Dependency) { d.Listeners = Listeners{} }), want: []string{"egress[0]: no listeners"}},
		{name: "candidate without primary", cfg: dep(func(d *Dependency) { d.PrimaryListen = "" }), want: []string{"egress[0].primary_listen: required"}},
		{name: "primary without candidate", cfg: dep(func(d *Dependency) { d.CandidateListen = "" }), want: []string{"egress[0].candidate_listen: required"}},
		{name: "bad address", cfg: dep(func(d *Dependency) { d.CandidateListen = "9103" }), want: []string{"egress[0].candidate_listen:", "host:port"}},
		{name: "bad port", cfg: dep(func(d *Dependency) { d.CandidateListen = "127.0.0.1:70000" }), want: []string{"egress[0].candidate_listen:", "port"}},
		{name: "same address twice", cfg: dep(func(d *Dependency) { d.PrimaryListen, d.CandidateListen = "127.0.0.1:9101", "127.0.0.1:9101" }), want: []string{"egress[0].candidate_listen:", "also egress[0].primary_listen"}},
		{name: "bad route", cfg: dep(func(d *Dependency) { d.Routes = []string{"/ok", "charges"} }), want: []string{"egress[0].routes[1]:", "starts with /"}},
		{name: "route parameter inside a segment", cfg: dep(func(d *Dependency) { d.Routes = []string{"/charges/ch_{id}"} }), want: []string{"egress[0].routes[0]:", "whole segment"}},
		{name: "duplicate names", cfg: Config{Dependencies: []Dependency{
			{Name: "p", Upstream: "http://a", Listeners: Listeners{PrimaryListen: ":0", CandidateListen: ":0"}},
			{Name: "p", Upstream: "http://b", Listeners: Listeners{PrimaryListen: ":0", CandidateListen: ":0"}},
		}}, want: []string{`egress[1].name: "p" is also egress[0].name`}},
		{name: "proxy: same host twice", cfg: Config{
			Dependencies: []Dependency{{Name: "a", Upstream: "http://pay"}, {Name: "b", Upstream: "http://PAY:80/v2"}},
			Proxy:        Listeners{PrimaryListen: ":9200", CandidateListen: ":9201"},
		}, want: []string{"egress[1].upstream: host pay:80 is also egress[0].upstream"}},
		{name: "proxy: no candidate", cfg: Config{
			Dependencies: []Dependency{{Name: "a", Upstream: "http://pay"}},
			Proxy:        Listeners{PrimaryListen: ":9200"},
		}, want: []string{"egress_proxy.candidate_listen: required"}},
		{name: "negative limits", cfg: Config{Dependencies: config("http://p").Dependencies, Limits: Limits{MaxBodyBytes: -1, MaxWait: -1, MaxCallsPerTrace: -1, RecordTTL: -1, MaxMemoryBytes: -1}},
			want: []string{"egress_limits.max_body_bytes", "egress_limits.max_wait", "egress_limits.max_calls_per_trace", "egress_limits.record_ttl", "egress_limits.max_memory_bytes"}},
		{name: "budget below a call", cfg: Config{Dependencies: config("http://p").Dependencies, Limits: Limits{MaxMemoryBytes: 1 << 20}},
			want: []string{"egress_limits.max_memory_bytes: 1048576 is below twice max_body_bytes"}},
		{name: "budget too small", cfg: Config{Dependencies: config("http://p").Dependencies, Limits: Limits{MaxBodyBytes: 10, MaxMemoryBytes: 1000}},
			want: []string{"egress_limits.max_memory_bytes: 1000 is below 65536"}},
		{name: "bad redactor", cfg: Config{Dependencies: config("http://p").Dependencies, Redactor: &capture.Redactor{Key: []byte("short")}},
			want: []string{"egress redactor:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestUserInfoNotEchoed(t *testing.T) {
	t.Parallel()
	c := config("http://user:hunter2@pay")
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Validate() = %v, want an error that does not repeat the password", err)
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	var ts templates
	for _, r := range []string{"/charges/{id}/capture", "/charges/{id}", "/"} {
		tpl, err := parseTemplate(r)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tpl)
	}
	tests := []struct{ path, want string }{
		{"/charges/ch_1", "/charges/{id}"},
		{"/charges/ch_1/capture", "/charges/{id}/capture"},
		{"/charges/ch_1/refund", "/charges/ch_1/refund"},
		{"/charges/", "/charges/"}, // {id} needs a non-empty segment
		{"/charges", "/charges"},
		{"/", "/"},
		{"/charges/ch_1/", "/charges/ch_1/"},
	}
	for _, tt := range tests {
		if got := ts.of(tt.path); got != tt.want {
			t.Errorf("template of %q = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func FuzzTemplate(f *testing.F) {
	f.Add("/charges/{id}", "/charges/ch_1")
	f.Add("/", "/")
	f.Add("/a/{b}/c", "/a//c")
	f.Fuzz(func(t *testing.T, tmpl, path string) {
		tp, err := parseTemplate(tmpl)
		if err != nil {
			return
		}
		// A template without parameters matches exactly its own text.
		if !strings.Contains(tmpl, "{") && tp.match(path) != (path == tmpl) {
			t.Fatalf("template %q match(%q) = %v", tmpl, path, tp.match(path))
		}
		if tp.match(path) && strings.Count(path, "/") != strings.Count(tmpl, "/") {
			t.Fatalf("template %q matched %q with another number of segments", tmpl, path)
		}
	})
}
