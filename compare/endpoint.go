package compare

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
)

// Endpoint names a group of requests that are aggregated together: a
// method and a path template such as "/orders/{id}".
type Endpoint struct {
	// Method is the HTTP method in upper case ("*" for OtherRoute).
	Method string `json:"method"`
	// Route is the path template.
	Route string `json:"route"`
}

// OtherRoute is the route of the endpoint that collects exchanges once
// Config.MaxEndpoints distinct endpoints exist.
const OtherRoute = "(other)"

// idSegment is what automatic templating puts in place of an id.
const idSegment = "{id}"

// String returns "METHOD /route".
func (e Endpoint) String() string { return e.Method + " " + e.Route }

// route is a compiled Config.Routes entry.
type route struct {
	template string
	segs     []routeSeg
}

type routeSeg struct {
	lit   string
	param bool // matches one segment
	rest  bool // matches the rest of the path (last only)
}

// parseRoute compiles a path template like "/orders/{id}/items/{rest...}".
func parseRoute(s string) (route, error) {
	if !strings.HasPrefix(s, "/") {
		return route{}, fmt.Errorf("route %q: must start with /", s)
	}
	r := route{template: s}
	parts := splitPath(s)
	for i, p := range parts {
		open, closed := strings.Contains(p, "{"), strings.Contains(p, "}")
		switch {
		case !open && !closed:
			r.segs = append(r.segs, routeSeg{lit: p})
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") && strings.Count(p, "{") == 1 && strings.Count(p, "}") == 1:
			name := p[1 : len(p)-1]
			rest := strings.HasSuffix(name, "...")
			name = strings.TrimSuffix(name, "...")
			if name == "" {
				return route{}, fmt.Errorf("route %q: segment %d: empty parameter name", s, i+1)
			}
			if rest && i != len(parts)-1 {
				return route{}, fmt.Errorf("route %q: {%s...} must be the last segment", s, name)
			}
			r.segs = append(r.segs, routeSeg{param: !rest, rest: rest})
		default:
			return route{}, fmt.Errorf("route %q: segment %q: a parameter must be a whole segment like {id}", s, p)
		}
	}
	return r, nil
}

// match reports whether the path segments fit the template.
func (r route) match(parts []string) bool {
	for i, s := range r.segs {
		if s.rest {
			return i < len(parts)
		}
		if i >= len(parts) {
			return false
		}
		if !s.param && s.lit != parts[i] {
			return false
		}
	}
	return len(parts) == len(r.segs)
}

// parseRouteFilter splits a Normalizer.Route into method (may be empty)
// and template.
func parseRouteFilter(s string) (method, tmpl string, err error) {
	tmpl = strings.TrimSpace(s)
	if m, t, ok := strings.Cut(tmpl, " "); ok {
		method, tmpl = strings.ToUpper(m), strings.TrimSpace(t)
	}
	if !strings.HasPrefix(tmpl, "/") && tmpl != OtherRoute {
		return "", "", errors.New("want a route template like /orders/{id}, optionally after a method")
	}
	return method, tmpl, nil
}

// requestPath extracts the path of a request URI: no query, "/" at least.
func requestPath(uri string) string {
	if strings.HasPrefix(uri, "http://") || strings.HasPrefix(uri, "https://") {
		if u, err := url.Parse(uri); err == nil {
			uri = u.EscapedPath()
		}
	}
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		uri = uri[:i]
	}
	if uri == "" || uri[0] != '/' {
		uri = "/" + uri
	}
	return uri
}

// splitPath returns the segments of a path; "/" has none. A trailing
// slash gives a final empty segment, so "/a/" and "/a" stay distinct.
func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// templater maps request paths to route templates: configured routes
// first, then automatic templating of id-like and high-cardinality
// segments. It is safe for concurrent use.
type templater struct {
	routes    []route
	maxValues int // distinct literals per position before "{id}"

	mu     sync.Mutex
	root   map[string]*segNode // per method
	budget int                 // literal nodes that may still be created
	// learned holds, per method, the template of each path learned so
	// far, up to maxLearnedBytes of paths: once a path has been learned
	// its template never changes (nodes are only added, literals only
	// folded once a position is full), so it is looked up, not walked.
	learned      map[string]map[string]string
	learnedBytes int
}

// maxLearnedBytes bounds what templater.learned keeps: each path's bytes
// and learnedEntryBytes for its entry (map slot, string headers, the
// template, which mostly shares its bytes with others').
const (
	maxLearnedBytes   = 1 << 20
	learnedEntryBytes = 64
)

// segNode is one position of the learned path tree.
type segNode struct {
	children map[string]*segNode
	literals int
}

func newTemplater(routes []route, maxValues, maxEndpoints int) *templater {
	return &templater{
		routes:    routes,
		maxValues: maxValues,
		root:      map[string]*segNode{},
		budget:    maxValues * maxEndpoints,
	}
}

// template returns the route template for a path. With learn, literal
// segments seen for the first time are remembered (and count towards the
// high-cardinality bound); without, the templater is only read.
func (t *templater) template(method, path string, learn bool) string {
	rp := requestPath(path)
	var parts []string
	if len(t.routes) > 0 {
		parts = splitPath(rp)
		for _, r := range t.routes {
			if r.match(parts) {
				return r.template
			}
		}
	}
	if rp == "/" { // no segments
		return "/"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if tm, ok := t.learned[method][rp]; ok {
		return tm
	}
	if parts == nil {
		parts = splitPath(rp)
	}
	tm := t.walk(method, parts, learn)
	if cost := len(rp) + learnedEntryBytes; learn && t.learnedBytes+cost <= maxLearnedBytes {
		if t.learned == nil {
			t.learned = map[string]map[string]string{}
		}
		m := t.learned[method]
		if m == nil {
			m = map[string]string{}
			t.learned[strings.Clone(method)] = m
			t.learnedBytes += len(method) + learnedEntryBytes
		}
		m[strings.Clone(rp)] = tm
		t.learnedBytes += cost
	}
	return tm
}

// walk templates a path's segments through the learned tree, learning
// them when learn is set. Callers hold mu.
func (t *templater) walk(method string, parts []string, learn bool) string {
	n := t.root[method]
	if n == nil && learn {
		n = &segNode{}
		t.root[method] = n
	}
	var b strings.Builder
	for _, p := range parts {
		seg := p
		if idLike(p) {
			seg = idSegment
		}
		var next *segNode
		if n != nil {
			next = n.children[seg]
			if next == nil && seg != idSegment && (n.literals >= t.maxValues || t.budget <= 0) {
				seg = idSegment // high cardinality: fold
				next = n.children[seg]
			}
			if next == nil && learn {
				if n.children == nil {
					n.children = map[string]*segNode{}
				}
				next = &segNode{}
				n.children[seg] = next
				if seg != idSegment {
					n.literals++
					t.budget--
				}
			}
		}
		n = next
		b.WriteByte('/')
		b.WriteString(seg)
	}
	return b.String()
}

// idLike reports whether a path segment looks like an identifier rather
// than a fixed part of the API: numbers, UUIDs, long hex strings, values
// with a run of three or more digits ("ord-000123", "2024-05-01"),
// values that are half digits, long tokens with digits, and e-mail
// addresses. Version segments such as "v2" stay literal.
func idLike(s string) bool {
	if s == "" {
		return false
	}
	digits, run, maxRun, hex := 0, 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			digits++
			run++
			maxRun = max(maxRun, run)
		} else {
			run = 0
		}
		if (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') {
			hex++
		}
		if c == '@' {
			return true
		}
	}
	switch {
	case digits == 0:
		return false
	case digits == len(s), maxRun >= 3, isUUID(s):
		return true
	case hex == len(s) && len(s) >= 16:
		return true
	case len(s) >= 4 && 2*digits >= len(s):
		return true
	case endsInNumber(s):
		return true
	case len(s) >= 20:
		return true
	}
	return false
}

// endsInNumber reports whether the part after the last "-", "_", "." or
// ":" is all digits: "ord-1", "user_42".
func endsInNumber(s string) bool {
	i := strings.LastIndexAny(s, "-_.:")
	if i < 0 || i == len(s)-1 {
		return false
	}
	for _, c := range []byte(s[i+1:]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isUUID reports whether s has the 8-4-4-4-12 hex shape of a UUID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
				return false
			}
		}
	}
	return true
}
