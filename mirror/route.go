package mirror

import (
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// pattern is a parsed Route.Path. Matching walks the request path in place,
// so it never allocates: it runs for every request, mirrored or not.
type pattern struct {
	any    bool      // "" matches every path
	segs   []segment // the segments before any trailing "*"
	prefix bool      // a trailing "/*": anything below the segments matches
}

// segment is one "/"-separated part of a pattern.
type segment struct {
	lit   string // the literal text, when !param
	param bool   // "{name}": any one non-empty segment
}

// parsePattern parses a route path: literal segments, "{name}" for one
// segment, and a final "*" for everything below.
func parsePattern(s string) (pattern, error) {
	if s == "" {
		return pattern{any: true}, nil
	}
	if s[0] != '/' {
		return pattern{}, fmt.Errorf("%q does not start with /", s)
	}
	var p pattern
	parts := strings.Split(s[1:], "/")
	for i, part := range parts {
		switch {
		case part == "*":
			if i != len(parts)-1 {
				return pattern{}, fmt.Errorf("%q: * must be the last segment", s)
			}
			p.prefix = true
		case strings.HasPrefix(part, "{"):
			name, ok := strings.CutSuffix(part[1:], "}")
			if !ok || name == "" || strings.ContainsAny(name, "{}*") {
				return pattern{}, fmt.Errorf("%q: segment %q: want {name} as the whole segment", s, part)
			}
			p.segs = append(p.segs, segment{param: true})
		case strings.ContainsAny(part, "{}*"):
			return pattern{}, fmt.Errorf("%q: segment %q: {name} and * must be whole segments", s, part)
		default:
			p.segs = append(p.segs, segment{lit: part})
		}
	}
	return p, nil
}

// match reports whether path (an absolute, decoded URL path) matches.
func (p *pattern) match(path string) bool {
	if p.any {
		return true
	}
	rest := path
	for _, s := range p.segs {
		if rest == "" || rest[0] != '/' {
			return false
		}
		rest = rest[1:]
		part := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			part, rest = rest[:i], rest[i:]
		} else {
			rest = ""
		}
		if s.param {
			if part == "" {
				return false
			}
		} else if part != s.lit {
			return false
		}
	}
	if p.prefix {
		return rest != "" && rest[0] == '/'
	}
	return rest == ""
}

// route is a compiled Route.
type route struct {
	index    int // in Config.Routes; indexes settings.disabled
	name     string
	methods  []string // upper case; nil means any
	path     pattern
	headers  []headerCond
	disabled bool // as configured; the live value is in settings.disabled
	unsafe   bool
	// grpcStreams mirrors client-streaming and bidi gRPC calls.
	grpcStreams bool
	websocket   bool // upgrades here are mirrored (websocket.go)
}

// headerCond is one Route.Headers entry with its key canonicalised once, so
// matching is a plain map lookup.
type headerCond struct {
	key, value string
}

// compileRoutes turns validated routes into their matching form.
func compileRoutes(rs []Route) ([]route, error) {
	out := make([]route, 0, len(rs))
	for i, r := range rs {
		p, err := parsePattern(r.Path)
		if err != nil {
			return nil, fmt.Errorf("routes[%d].path: %w", i, err)
		}
		c := route{index: i, name: r.Name, path: p, disabled: r.Disabled, unsafe: r.Unsafe, grpcStreams: r.GRPCStreams, websocket: r.WebSocket}
		if c.name == "" {
			c.name = r.Path
		}
		if c.name == "" {
			c.name = "*"
		}
		for _, m := range r.Methods {
			c.methods = append(c.methods, strings.ToUpper(m))
		}
		for k, v := range r.Headers {
			c.headers = append(c.headers, headerCond{key: textproto.CanonicalMIMEHeaderKey(k), value: v})
		}
		out = append(out, c)
	}
	return out, nil
}

// matches reports whether r satisfies every condition of the route.
func (rt *route) matches(r *http.Request) bool {
	if rt.methods != nil && !slices.Contains(rt.methods, r.Method) {
		return false
	}
	if !rt.path.match(r.URL.Path) {
		return false
	}
	for _, h := range rt.headers {
		vs := r.Header[h.key]
		if len(vs) == 0 || (h.value != "" && !slices.Contains(vs, h.value)) {
			return false
		}
	}
	return true
}

// matchRoute returns the first route r matches, or nil.
func matchRoute(routes []route, r *http.Request) *route {
	for i := range routes {
		if routes[i].matches(r) {
			return &routes[i]
		}
	}
	return nil
}

// isSafe reports whether method is safe in the RFC 9110 sense: sending it
// twice has no side effect, so it may be mirrored without opting in.
func isSafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// mirrorable reports whether a request with method may be mirrored given
// the route it matched (nil for none). CONNECT is never mirrored: it opens
// a tunnel, not an exchange.
func mirrorable(method string, rt *route) bool {
	if isSafe(method) {
		return true
	}
	return rt != nil && rt.unsafe && method != http.MethodConnect
}
