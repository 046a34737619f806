package mirror

import (
	"fmt"
	"maps"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/understudy-dev/understudy/wire"
)

// Target says how requests are addressed to one upstream (the primary, the
// secondary or the candidate): which Host header it gets, and which
// headers are set or removed on the way, so that a virtual-host backend
// answers as it would to the client and a candidate can tell copies apart.
//
// The zero value sends the upstream's own host, taken from its URL, as
// httputil.ProxyRequest.SetURL does, and leaves the headers alone.
type Target struct {
	// Host, when set, is sent as the Host header instead of the upstream's
	// own host: the public name a virtual-host backend serves
	// ("api.example.com"), since it answers 404 to a name it does not
	// know. "" means the upstream's host from its URL, or the client's
	// with PreserveHost. It cannot be combined with PreserveHost.
	Host string `mapstructure:"host"`
	// PreserveHost sends the Host header the client sent. False means Host,
	// or the upstream's own host when Host is "".
	PreserveHost bool `mapstructure:"preserve_host"`
	// HostSuffix is appended to the host name chosen above, before any
	// port, as Envoy does with "-shadow" for mirrored requests:
	// "api.example.com:8080" becomes "api.example.com-shadow:8080". It
	// lets a candidate behind a shared ingress route or log copies
	// separately. "" means none.
	HostSuffix string `mapstructure:"host_suffix"`
	// SetHeaders are set on every request to this upstream, replacing
	// what the request carried. They are applied last, after the
	// forwarding headers and the marker, so they can override those too.
	// Host, Content-Length and hop-by-hop headers cannot be set (use Host
	// for the Host header). nil means none.
	SetHeaders map[string]string `mapstructure:"set_headers"`
	// RemoveHeaders are removed from every request to this upstream, just
	// before SetHeaders are set (a name in both ends up with the
	// SetHeaders value). Host, Content-Length and Transfer-Encoding
	// cannot be removed. nil means none.
	RemoveHeaders []string `mapstructure:"remove_headers"`
	// TLS secures connections to an https upstream: the CA that signs its
	// certificate, a client certificate, the name to verify, or no
	// verification at all (logged as a warning at start). The zero value
	// verifies against the system's roots. Only for an https URL.
	TLS wire.ClientTLS `mapstructure:"tls"`
	// Protocol is the HTTP version spoken to the upstream: wire.Auto (the
	// zero value) keeps the client's where the upstream can (HTTP/1.1 for
	// an HTTP/1.1 client; h2, if the upstream offers it, for an HTTP/2
	// client over TLS; always HTTP/1.1 in the clear), wire.HTTP1, wire.H2
	// (https only) or wire.H2C (http only, prior knowledge). Upgrade
	// requests (WebSocket) always go over HTTP/1.1. Not used with
	// Config.Transport.
	Protocol wire.Protocol `mapstructure:"protocol"`
}

// validate reports every bad field of t, each named under field
// ("candidate_target").
func (t Target) validate(field string) []error {
	var errs []error
	bad := func(sub, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", field, sub, fmt.Sprintf(format, args...)))
	}
	if t.Host != "" {
		if t.PreserveHost {
			bad("host", "%q given with preserve_host; want one of them", t.Host)
		}
		if !validHost(t.Host) {
			bad("host", "%q is not a valid host[:port]", t.Host)
		}
	}
	if t.HostSuffix != "" && (strings.ContainsAny(t.HostSuffix, ":/@[]") || !validHost("x"+t.HostSuffix)) {
		bad("host_suffix", "%q is not valid in a host name", t.HostSuffix)
	}
	for _, k := range slices.Sorted(maps.Keys(t.SetHeaders)) { // sorted: a stable message
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			bad("set_headers", "%q is not a valid header name", k)
		case fixedHeader(k, true):
			bad("set_headers", "%q cannot be set per target%s", k, hostHint(k))
		}
		if v := t.SetHeaders[k]; !httpguts.ValidHeaderFieldValue(v) {
			bad(fmt.Sprintf("set_headers[%s]", k), "%q is not a valid header value", v)
		}
	}
	for i, k := range t.RemoveHeaders {
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			bad(fmt.Sprintf("remove_headers[%d]", i), "%q is not a valid header name", k)
		case fixedHeader(k, false):
			bad(fmt.Sprintf("remove_headers[%d]", i), "%q cannot be removed per target%s", k, hostHint(k))
		}
	}
	if err := t.TLS.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%s.tls: %w", field, err))
	}
	return errs
}

// validateFor reports what of t does not fit its upstream u, named by
// field ("candidate_target") and the upstream's own key (name).
func (t Target) validateFor(field, name string, u *url.URL) []error {
	var errs []error
	if !t.TLS.IsZero() && u.Scheme != "https" {
		errs = append(errs, fmt.Errorf("%s.tls: set, but %s %q is not an https:// URL", field, name, u.Redacted()))
	}
	if err := t.Protocol.Validate(u.Scheme); err != nil {
		errs = append(errs, fmt.Errorf("%s.protocol: %w", field, err))
	}
	return errs
}

// validHost reports whether h can be sent as a Host header: a host name or
// address with an optional port, nothing else.
func validHost(h string) bool {
	if h == "" || strings.ContainsAny(h, "/?#@ ") || !httpguts.ValidHostHeader(h) {
		return false
	}
	u, err := url.Parse("http://" + h)
	return err == nil && u.Host == h && u.Hostname() != ""
}

// fixedHeader reports whether name is framing or routing the proxy owns:
// Host, Content-Length, Transfer-Encoding, and (when setting) every
// hop-by-hop header.
func fixedHeader(name string, setting bool) bool {
	k := textproto.CanonicalMIMEHeaderKey(name)
	switch k {
	case "Host", "Content-Length", "Transfer-Encoding":
		return true
	}
	return setting && slices.Contains(hopHeaders, k)
}

func hostHint(k string) string {
	if strings.EqualFold(k, "Host") {
		return "; use host, preserve_host or host_suffix"
	}
	return ""
}

// target is a compiled Target together with the upstream it addresses.
type target struct {
	up       *upstream // where requests to it go
	url      *url.URL
	host     string // the Host header unless preserve; "" means url.Host
	preserve bool
	suffix   string
	remove   []string // canonical keys
	set      []headerValue

	// Of a candidate's target only: its breaker, its copies' timeout and
	// its name (Candidate.Name; "" for the single candidate).
	down    *breaker
	timeout time.Duration
	name    string
}

// headerValue is one SetHeaders entry with its key canonicalised and its
// value in the form http.Header holds, made once and shared read-only by
// every request.
type headerValue struct {
	key   string
	value []string
}

// compileTarget turns a validated Target for the upstream u into its
// working form. preserveAll is the deprecated Config.PreserveHost.
func compileTarget(t Target, u *url.URL, preserveAll bool) *target {
	c := &target{url: u, preserve: t.PreserveHost || (preserveAll && t.Host == ""), suffix: t.HostSuffix}
	switch {
	case t.Host != "":
		c.host = withHostSuffix(t.Host, t.HostSuffix)
	case t.HostSuffix != "":
		c.host = withHostSuffix(u.Host, t.HostSuffix)
	}
	for _, k := range t.RemoveHeaders {
		c.remove = append(c.remove, textproto.CanonicalMIMEHeaderKey(k))
	}
	for _, k := range slices.Sorted(maps.Keys(t.SetHeaders)) {
		c.set = append(c.set, headerValue{textproto.CanonicalMIMEHeaderKey(k), []string{t.SetHeaders[k]}})
	}
	return c
}

// hostFor returns the Host header for a request the client sent to
// clientHost; "" means the upstream URL's host (what SetURL leaves).
func (t *target) hostFor(clientHost string) string {
	if t.preserve && clientHost != "" {
		if t.suffix == "" {
			return clientHost
		}
		return withHostSuffix(clientHost, t.suffix)
	}
	return t.host
}

// editsHeaders reports whether t sets or removes any header.
func (t *target) editsHeaders() bool { return len(t.remove) > 0 || len(t.set) > 0 }

// editHeader applies RemoveHeaders, then SetHeaders, to h.
func (t *target) editHeader(h http.Header) {
	for _, k := range t.remove {
		delete(h, k)
	}
	for _, hv := range t.set {
		h[hv.key] = hv.value
	}
}

// header returns the headers for a copy to t, built from shared (which it
// never modifies): shared itself when t edits nothing.
func (t *target) header(shared http.Header) http.Header {
	if !t.editsHeaders() {
		return shared
	}
	h := shared.Clone()
	t.editHeader(h)
	return h
}

// withHostSuffix inserts suffix after the host name of hostport, before
// any port: ("a.example:80", "-shadow") gives "a.example-shadow:80".
func withHostSuffix(hostport, suffix string) string {
	if suffix == "" {
		return hostport
	}
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 || i < strings.LastIndexByte(hostport, ']') {
		return hostport + suffix // no port (or a bare IPv6 literal in brackets)
	}
	return hostport[:i] + suffix + hostport[i:]
}
