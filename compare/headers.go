package compare

import (
	"errors"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
)

// DefaultIgnoreHeaders are the response headers that are not compared
// unless Config.ReplaceIgnoreHeaders drops them. They change on every
// answer or between instances without meaning anything about the
// behaviour under test: clocks and cache ages, per-request ids and
// traces, timing, session cookies (Set-Cookie carries fresh session ids),
// framing that depends on how the body was written (Content-Length,
// chunked encoding; the bodies themselves are compared), infrastructure
// stamps, and the gRPC status of an answer of trailers only (its
// grpc-status is judged as the pair's status, wherever it is sent).
var DefaultIgnoreHeaders = []string{
	"Age",
	"Alt-Svc",
	"Cf-Ray",
	"Connection",
	"Content-Length",
	"Date",
	"Expires",
	"Grpc-Message",
	"Grpc-Status",
	"Grpc-Status-Details-Bin",
	"Keep-Alive",
	"Last-Modified",
	"Nel",
	"Report-To",
	"Request-Id",
	"Server-Timing",
	"Set-Cookie",
	"Traceparent",
	"Tracestate",
	"Transfer-Encoding",
	"Via",
	"X-Amz-Cf-Id",
	"X-Amzn-Requestid",
	"X-Amzn-Trace-Id",
	"X-B3-*",
	"X-Cache",
	"X-Cache-Hits",
	"X-Correlation-Id",
	"X-Envoy-Upstream-Service-Time",
	"X-Request-Id",
	"X-Response-Time",
	"X-Runtime",
	"X-Served-By",
	"X-Timer",
	"X-Trace-Id",
}

// headerFilter decides which headers are ignored.
type headerFilter struct {
	exact    map[string]bool // canonical names
	prefixes []string        // canonical prefixes of "Name*" patterns
}

func validHeaderPattern(p string) error {
	name := strings.TrimSuffix(p, "*")
	if name == "" {
		return errors.New("empty header name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}*`, c) >= 0 {
			return errors.New("header name " + quote(p) + " has an invalid character")
		}
	}
	return nil
}

func newHeaderFilter(extra []string, replace bool) headerFilter {
	f := headerFilter{exact: map[string]bool{}}
	names := extra
	if !replace {
		names = append(slices.Clone(DefaultIgnoreHeaders), extra...)
	}
	for _, n := range names {
		if p, ok := strings.CutSuffix(n, "*"); ok {
			f.prefixes = append(f.prefixes, strings.ToLower(p))
			continue
		}
		f.exact[http.CanonicalHeaderKey(n)] = true
	}
	return f
}

// ignored reports whether the canonical header name is ignored.
func (f headerFilter) ignored(name string) bool {
	if f.exact[name] {
		return true
	}
	if len(f.prefixes) == 0 {
		return false
	}
	if !isASCII(name) {
		lower := strings.ToLower(name)
		for _, p := range f.prefixes {
			if strings.HasPrefix(lower, p) {
				return true
			}
		}
		return false
	}
	for _, p := range f.prefixes {
		if hasLowerPrefix(name, p) {
			return true
		}
	}
	return false
}

// hasLowerPrefix reports whether the ASCII name, lowercased, starts with
// p: strings.HasPrefix(strings.ToLower(name), p) without the copy.
func hasLowerPrefix(name, p string) bool {
	if len(name) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != p[i] {
			return false
		}
	}
	return true
}

// isASCII reports whether s has only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// diffHeaders compares two header sets, skipping ignored names. Names are
// compared case-insensitively; multiple values are joined with ", ".
// Content-Type is compared as a media type (case and spacing of
// parameters do not matter). The Replace normalizers with a header path
// (header.Name, header.*) in ns rewrite differing values before they are
// compared again.
func diffHeaders(p, c http.Header, f headerFilter, ns []*normalizer) []Difference {
	// Names are canonical as net/http makes them: compare p and c as
	// they are, checking each name on the way, and only when one is not
	// compare canonical copies instead.
	if out, ok := diffCanonicalHeaders(p, c, f, ns); ok {
		return out
	}
	out, _ := diffCanonicalHeaders(canonicalHeader(p), canonicalHeader(c), f, ns)
	return out
}

// diffCanonicalHeaders is diffHeaders for header sets with canonical
// names; false when a name of either is not.
func diffCanonicalHeaders(pc, cc http.Header, f headerFilter, ns []*normalizer) ([]Difference, bool) {
	var out []Difference
	for name, pv := range pc {
		if !isCanonicalKey(name) {
			return nil, false
		}
		if f.ignored(name) {
			continue
		}
		cv, ok := cc[name]
		switch {
		case !ok:
			out = append(out, Difference{Path: "header." + name, Kind: Removed, Primary: clip(joined(pv))})
		case !slices.Equal(pv, cv):
			if a, b := joined(pv), joined(cv); !headerEqual(name, a, b, ns) {
				out = append(out, Difference{Path: "header." + name, Kind: Changed, Primary: clip(a), Candidate: clip(b)})
			}
		}
	}
	for name, cv := range cc {
		if !isCanonicalKey(name) {
			return nil, false
		}
		if _, ok := pc[name]; ok || f.ignored(name) {
			continue
		}
		out = append(out, Difference{Path: "header." + name, Kind: Added, Candidate: clip(joined(cv))})
	}
	slices.SortFunc(out, func(a, b Difference) int { return strings.Compare(a.Path, b.Path) })
	return out, true
}

// canonicalHeader returns h under canonical names: h itself when its
// names are canonical already, as net/http makes them, else a copy in
// which the values of names that differ only in case follow each other
// in the order of the names.
func canonicalHeader(h http.Header) http.Header {
	canon := true
	for k := range h {
		canon = canon && isCanonicalKey(k)
	}
	if canon {
		return h
	}
	out := make(http.Header, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], h[k]...)
	}
	return out
}

// isCanonicalKey reports whether http.CanonicalHeaderKey returns k
// unchanged, quickly for canonical names of letters, digits and "-".
func isCanonicalKey(k string) bool {
	upper := true // the next letter starts a word
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '-':
			upper = true
			continue
		case upper && 'A' <= c && c <= 'Z', !upper && 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		default:
			return http.CanonicalHeaderKey(k) == k // anything else: as net/http says
		}
		upper = false
	}
	return true
}

// joined joins a header's values with ", ".
func joined(vs []string) string {
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs, ", ")
}

func headerEqual(name, a, b string, ns []*normalizer) bool {
	if a == b {
		return true
	}
	for _, n := range ns {
		if n.kind == Replace && (n.header == "*" || n.header == name) {
			a, b = n.re.ReplaceAllString(a, n.repl), n.re.ReplaceAllString(b, n.repl)
		}
	}
	if a == b {
		return true
	}
	if name == "Content-Type" {
		return mediaTypeEqual(a, b)
	}
	return false
}

// mediaTypeEqual compares two Content-Type values as media types.
func mediaTypeEqual(a, b string) bool {
	ta, pa, errA := mime.ParseMediaType(a)
	tb, pb, errB := mime.ParseMediaType(b)
	if errA != nil || errB != nil || ta != tb || len(pa) != len(pb) {
		return false
	}
	for k, v := range pa {
		w, ok := pb[k]
		if !ok || !(v == w || (k == "charset" && strings.EqualFold(v, w))) {
			return false
		}
	}
	return true
}

// isHeaderPath reports whether a normalizer path targets headers.
func isHeaderPath(p string) bool { return strings.HasPrefix(p, "header.") && len(p) > len("header.") }
