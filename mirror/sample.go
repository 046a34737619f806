package mirror

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Sampling. A request is in the sample when a 64-bit number drawn for it
// is below percent/100 × 2^64. With Config.SampleBy the number is a hash of
// the request's key (a header, cookie or query parameter), so every
// request of one user is in, or every one is out; otherwise, and for
// requests that lack the key, it is random.
//
// The hash is FNV-1a (64 bit) of the key's value followed by the SplitMix64
// finalizer, which spreads ids that differ in one character ("user-41",
// "user-42") over the whole range. Both are fixed arithmetic with no seed,
// so every replica, on every machine and in every release, puts the same
// users in the sample: replicas behind one load balancer agree, and a user
// is mirrored whole whichever replica serves each request. Raising the
// percent only adds users; those already in stay in.

// sampleKind says where a sampling key is found.
type sampleKind int

const (
	sampleRandom sampleKind = iota // no key: every request drawn at random
	sampleHeader
	sampleCookie
	sampleQuery
)

// sampleKey is a parsed Config.SampleBy.
type sampleKey struct {
	kind sampleKind
	name string // canonical for headers
}

// parseSampleBy parses "" (random), "header:NAME", "cookie:NAME" or
// "query:NAME".
func parseSampleBy(s string) (sampleKey, error) {
	if s == "" {
		return sampleKey{}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return sampleKey{}, fmt.Errorf("%q: want header:NAME, cookie:NAME or query:NAME", s)
	}
	switch kind {
	case "header":
		if !httpguts.ValidHeaderFieldName(name) {
			return sampleKey{}, fmt.Errorf("%q: %q is not a valid header name", s, name)
		}
		return sampleKey{sampleHeader, textproto.CanonicalMIMEHeaderKey(name)}, nil
	case "cookie":
		if !httpguts.ValidHeaderFieldName(name) { // a cookie name is an RFC 6265 token
			return sampleKey{}, fmt.Errorf("%q: %q is not a valid cookie name", s, name)
		}
		return sampleKey{sampleCookie, name}, nil
	case "query":
		return sampleKey{sampleQuery, name}, nil
	}
	return sampleKey{}, fmt.Errorf("%q: unknown source %q; want header, cookie or query", s, kind)
}

// String returns the key in Config.SampleBy form.
func (k sampleKey) String() string {
	switch k.kind {
	case sampleHeader:
		return "header:" + k.name
	case sampleCookie:
		return "cookie:" + k.name
	case sampleQuery:
		return "query:" + k.name
	}
	return ""
}

// value returns r's key value; ok is false when r has none or an empty one.
func (k sampleKey) value(r *http.Request) (v string, ok bool) {
	switch k.kind {
	case sampleHeader:
		if vs := r.Header[k.name]; len(vs) > 0 {
			v = vs[0]
		}
	case sampleCookie:
		if c, err := r.Cookie(k.name); err == nil {
			v = c.Value
		}
	case sampleQuery:
		v, _ = queryValue(r.URL.RawQuery, k.name)
	}
	return v, v != ""
}

// queryValue returns the first value of name in the raw query, decoded, as
// url.ParseQuery(raw).Get(name) would, without building the whole map:
// pairs with a semicolon or a bad escape are skipped, as ParseQuery skips
// them.
func queryValue(raw, name string) (string, bool) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		key, val, _ := strings.Cut(pair, "=")
		key, ok := unescapeQuery(key)
		if !ok || key != name {
			continue
		}
		if val, ok = unescapeQuery(val); ok {
			return val, true
		}
	}
	return "", false
}

// unescapeQuery decodes a query component, allocating only when it holds
// an escape.
func unescapeQuery(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}

// The FNV-1a 64-bit offset basis and prime (as in hash/fnv).
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// sampleHash is the stable hash of a sampling key: FNV-1a 64 of s, then the
// SplitMix64 finalizer. It must never change: replicas and releases agree
// on who is sampled only while it stays the same (TestSampleHashStable).
func sampleHash(s string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// sampleThreshold returns percent/100 × 2^64, the bound below which a
// request's number puts it in the sample. Call only for percent < 100.
func sampleThreshold(percent float64) uint64 {
	if percent <= 0 {
		return 0
	}
	return uint64(math.Ldexp(percent/100, 64)) // < 2^64 since percent < 100
}

// sampled reports whether r is in a sample of s.percent (< 100).
func (p *Proxy) sampled(r *http.Request, s *settings) bool {
	if p.sampleKey.kind != sampleRandom {
		if v, ok := p.sampleKey.value(r); ok {
			return sampleHash(v) < s.threshold
		}
	}
	return rand.Uint64() < s.threshold
}
