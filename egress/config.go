package egress

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/understudy-dev/understudy/capture"
)

// Defaults used for the zero values of Limits.
const (
	DefaultMaxBodyBytes     = 1 << 20
	DefaultMaxWait          = 2 * time.Second
	DefaultMaxCallsPerTrace = 64
	DefaultRecordTTL        = 30 * time.Second
	DefaultMaxMemoryBytes   = 64 << 20
)

// minMemoryBytes is the smallest Limits.MaxMemoryBytes: room for the
// bookkeeping of a few traces besides their bodies.
const minMemoryBytes = 64 << 10

// Config configures an Egress. The YAML keys in the struct tags are the
// ones Validate names: the dependencies are the list under "egress", the
// forward-proxy listeners "egress_proxy", the bounds "egress_limits".
type Config struct {
	// Dependencies are the services the primary, secondary and candidate
	// call. At least one is required.
	Dependencies []Dependency `yaml:"egress" mapstructure:"egress"`
	// Proxy is the forward-proxy mode: one HTTP proxy listener per side
	// (the address a service's HTTP_PROXY names) that serves every
	// dependency, picked by the host the service asked for. The zero
	// value turns the mode off; then every dependency needs its own
	// listeners.
	Proxy Listeners `yaml:"egress_proxy" mapstructure:"egress_proxy"`
	// Limits bound what is recorded and how long it is held.
	Limits Limits `yaml:"egress_limits" mapstructure:"egress_limits"`
	// Trace says which trace a client request is served under, on every
	// side: TraceRequest (a new one for every request, so that each
	// exchange is matched with exactly its own calls) or TraceClient (the
	// client's when it sends a valid one, so that the primary's spans join
	// the client's trace; requests that share a trace id then share one
	// record, see the package doc). "" means TraceRequest.
	Trace TraceMode `yaml:"egress_trace" mapstructure:"egress_trace"`

	// Redactor removes credentials from the calls Take returns. nil means
	// the zero capture.Redactor: the default secret names.
	Redactor *capture.Redactor `yaml:"-" mapstructure:"-"`
	// Transport sends the primary's calls to the dependencies. nil means
	// a transport tuned for proxying: keep-alives, many idle connections
	// per host, no transparent compression and no environment proxy (so
	// egress never sends a call back through itself).
	Transport http.RoundTripper `yaml:"-" mapstructure:"-"`
	// Logger receives the listeners' log. nil means slog.Default().
	Logger *slog.Logger `yaml:"-" mapstructure:"-"`
}

// Dependency is one service that the primary, secondary and candidate
// call, each through its own side's listener.
type Dependency struct {
	// Name names the dependency in keys, reports and refusals: letters,
	// digits, '-', '_' and '.'. Required and unique.
	Name string `yaml:"name" mapstructure:"name"`
	// Upstream is the dependency's real base URL (http or https), where
	// the primary's calls go. A path is a prefix: the call to /charges
	// through an upstream http://pay:8080/v1 goes to /v1/charges. Required;
	// no user info, query or fragment.
	Upstream string `yaml:"upstream" mapstructure:"upstream"`
	// Listeners are the dependency's own listeners, one per side: each
	// service instance takes the dependency's base URL from config, so the
	// primary is pointed at PrimaryListen, the candidate at
	// CandidateListen. Empty means the dependency is only served through
	// Config.Proxy.
	Listeners `yaml:",inline" mapstructure:",squash"`
	// Routes are path templates such as "/charges/{id}/capture" under
	// which calls are keyed: a "{name}" segment matches any one segment,
	// so a candidate that calls another id is still paired with the
	// primary's call (and the paths are diffed). A path that matches no
	// route is its own template, so calls are paired only when their
	// paths are equal.
	Routes []string `yaml:"routes" mapstructure:"routes"`
}

// Listeners are the addresses ("host:port") of one listener per side.
// PrimaryListen and CandidateListen go together: either both or neither.
// SecondaryListen is optional, for runs with a secondary.
type Listeners struct {
	// PrimaryListen is where the primary's calls arrive; they are
	// forwarded to the real dependency and recorded.
	PrimaryListen string `yaml:"primary_listen" mapstructure:"primary_listen"`
	// SecondaryListen is where the secondary's calls arrive; they are
	// answered from the primary's record, never forwarded. "" means none.
	SecondaryListen string `yaml:"secondary_listen" mapstructure:"secondary_listen"`
	// CandidateListen is where the candidate's calls arrive; they are
	// answered from the primary's record, never forwarded.
	CandidateListen string `yaml:"candidate_listen" mapstructure:"candidate_listen"`
}

func (l Listeners) empty() bool { return l == Listeners{} }

// Limits bound the memory and time egress spends on records. Zero values
// mean the documented defaults.
type Limits struct {
	// MaxBodyBytes is how much of each call's request body and answer body
	// is recorded. A secondary or candidate call whose primary answer was
	// longer cannot be replayed and is refused. 0 means 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes" mapstructure:"max_body_bytes"`
	// MaxWait is how long a secondary or candidate call waits for the
	// primary's call with the same key to be answered whole; past it the
	// call is refused. Keep it below the proxy's candidate_timeout. 0
	// means 2s.
	MaxWait time.Duration `yaml:"max_wait" mapstructure:"max_wait"`
	// MaxCallsPerTrace is how many calls of one side are recorded per
	// trace: the primary's further calls are forwarded but not recorded,
	// the other sides' are refused. 0 means 64.
	MaxCallsPerTrace int `yaml:"max_calls_per_trace" mapstructure:"max_calls_per_trace"`
	// RecordTTL is how long a trace's calls are held for Take; older
	// traces are evicted and counted, and a primary answer still
	// streaming after it stops being recorded. 0 means 30s.
	RecordTTL time.Duration `yaml:"record_ttl" mapstructure:"record_ttl"`
	// MaxMemoryBytes bounds the bytes held by all records (bodies,
	// headers and a fixed cost per call and trace). Past it the oldest
	// traces are evicted and counted; a call that still does not fit is
	// not recorded (and the trace's later calls on that side are not
	// taken). 0 means 64 MiB; otherwise at least 64 KiB and twice
	// MaxBodyBytes.
	MaxMemoryBytes int64 `yaml:"max_memory_bytes" mapstructure:"max_memory_bytes"`
}

// WithDefaults returns l with every zero value replaced by the default it
// stands for: the limits an Egress made by New runs with.
func (l Limits) WithDefaults() Limits { return l.withDefaults() }

// withDefaults returns l with zero values replaced.
func (l Limits) withDefaults() Limits {
	l.MaxBodyBytes = cmp.Or(l.MaxBodyBytes, DefaultMaxBodyBytes)
	l.MaxWait = cmp.Or(l.MaxWait, DefaultMaxWait)
	l.MaxCallsPerTrace = cmp.Or(l.MaxCallsPerTrace, DefaultMaxCallsPerTrace)
	l.RecordTTL = cmp.Or(l.RecordTTL, DefaultRecordTTL)
	l.MaxMemoryBytes = cmp.Or(l.MaxMemoryBytes, DefaultMaxMemoryBytes)
	return l
}

// Validate reports every bad field of c, each named by its YAML key
// ("egress[0].primary_listen"), joined in one error.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if len(c.Dependencies) == 0 {
		bad("egress", "at least one dependency is required")
	}
	names := map[string]string{}   // name -> key
	hosts := map[string]string{}   // upstream host -> key, for the proxy mode
	listens := map[string]string{} // address -> key
	listen := func(key, addr string) {
		if addr == "" {
			return
		}
		if err := checkListen(addr); err != nil {
			bad(key, "%v", err)
			return
		}
		if prev, ok := listens[addr]; ok && !strings.HasSuffix(addr, ":0") {
			bad(key, "%q is also %s; each side of each dependency needs its own listener", addr, prev)
			return
		}
		listens[addr] = key
	}
	proxy := !c.Proxy.empty()
	if proxy {
		errs = append(errs, c.Proxy.validate("egress_proxy", listen)...)
	}
	for i, d := range c.Dependencies {
		key := fmt.Sprintf("egress[%d]", i)
		switch {
		case d.Name == "":
			bad(key+".name", "required")
		case !validName(d.Name):
			bad(key+".name", "%q: use letters, digits, '-', '_' and '.'", d.Name)
		default:
			if prev, ok := names[d.Name]; ok {
				bad(key+".name", "%q is also %s.name", d.Name, prev)
			}
			names[d.Name] = key
		}
		if d.Upstream == "" {
			bad(key+".upstream", "required")
		} else if u, err := parseUpstream(d.Upstream); err != nil {
			bad(key+".upstream", "%v", err)
		} else if proxy {
			h := hostPort(u)
			if prev, ok := hosts[h]; ok {
				bad(key+".upstream", "host %s is also %s.upstream; the forward proxy could not tell them apart", h, prev)
			}
			hosts[h] = key
		}
		switch {
		case d.Listeners.empty() && !proxy:
			bad(key, "no listeners: set primary_listen and candidate_listen, or egress_proxy")
		case !d.Listeners.empty():
			errs = append(errs, d.Listeners.validate(key, listen)...)
		}
		for j, r := range d.Routes {
			if _, err := parseTemplate(r); err != nil {
				bad(fmt.Sprintf("%s.routes[%d]", key, j), "%v", err)
			}
		}
	}
	switch c.Trace {
	case "", TraceRequest, TraceClient:
	default:
		bad("egress_trace", "%q: want %q (a new trace per request) or %q (the client's)", c.Trace, TraceRequest, TraceClient)
	}
	l := c.Limits
	if l.MaxBodyBytes < 0 {
		bad("egress_limits.max_body_bytes", "%d is negative; want 0 (1 MiB) or more", l.MaxBodyBytes)
	}
	if l.MaxWait < 0 {
		bad("egress_limits.max_wait", "%s is negative; want 0 (2s) or more", l.MaxWait)
	}
	if l.MaxCallsPerTrace < 0 {
		bad("egress_limits.max_calls_per_trace", "%d is negative; want 0 (64) or more", l.MaxCallsPerTrace)
	}
	if l.RecordTTL < 0 {
		bad("egress_limits.record_ttl", "%s is negative; want 0 (30s) or more", l.RecordTTL)
	}
	if l.MaxMemoryBytes < 0 {
		bad("egress_limits.max_memory_bytes", "%d is negative; want 0 (64 MiB) or more", l.MaxMemoryBytes)
	} else if m := l.withDefaults(); m.MaxMemoryBytes < minMemoryBytes {
		bad("egress_limits.max_memory_bytes", "%d is below %d; want 0 (64 MiB) or at least %d", m.MaxMemoryBytes, minMemoryBytes, minMemoryBytes)
	} else if l.MaxBodyBytes >= 0 && m.MaxMemoryBytes < 2*m.MaxBodyBytes {
		bad("egress_limits.max_memory_bytes", "%d is below twice max_body_bytes (%d): one call's request and answer could not be held", m.MaxMemoryBytes, m.MaxBodyBytes)
	}
	if c.Redactor != nil {
		if err := c.Redactor.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("egress redactor: %w", err))
		}
	}
	return errors.Join(errs...)
}

// validate checks a set of side listeners named under key.
func (l Listeners) validate(key string, listen func(key, addr string)) []error {
	var errs []error
	if l.PrimaryListen == "" {
		errs = append(errs, fmt.Errorf("%s.primary_listen: required (the primary's calls must reach the real dependency)", key))
	}
	if l.CandidateListen == "" {
		errs = append(errs, fmt.Errorf("%s.candidate_listen: required with primary_listen", key))
	}
	listen(key+".primary_listen", l.PrimaryListen)
	listen(key+".secondary_listen", l.SecondaryListen)
	listen(key+".candidate_listen", l.CandidateListen)
	return errs
}

// checkListen checks a "host:port" listen address.
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want host:port, such as 127.0.0.1:9101: %v", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}

// parseUpstream parses a dependency's base URL.
func parseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not a URL: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q: want an http:// or https:// URL", s)
	case u.Host == "":
		return nil, fmt.Errorf("%q has no host", s)
	case u.User != nil:
		c := *u
		c.User = url.User("xxx")
		return nil, fmt.Errorf("%q holds user info; credentials do not belong in config (the primary's own headers are forwarded)", c.String())
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%q: a base URL has no query or fragment", s)
	}
	return u, nil
}

// hostPort returns u's host with the scheme's default port made explicit,
// lower-cased: how the forward proxy matches a call to a dependency.
func hostPort(u *url.URL) string {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return strings.ToLower(net.JoinHostPort(host, port))
}

// validName reports whether s is a usable dependency name.
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return s != ""
}
