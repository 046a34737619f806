package capture

import (
	"net/http"
	"strings"
)

// maxNameLen bounds a configured name, folded; longer keys never match.
const maxNameLen = 64

// Names are matched folded: ASCII letters lowercased, '_' and '-' dropped,
// so "card_number", "cardNumber" and "Card-Number" are one name.

// folded is a name folded for matching, built on the stack.
type folded struct {
	buf  [maxNameLen]byte
	n    int
	long bool // longer than maxNameLen: matches nothing
}

func fold[T string | []byte](name T) (f folded) {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '-':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if f.n == maxNameLen {
			f.long = true
			return f
		}
		f.buf[f.n] = c
		f.n++
	}
	return f
}

// foldString folds a configured name.
func foldString(s string) string {
	f := fold(s)
	if f.long {
		return s // reported by Validate; never matches
	}
	return string(f.buf[:f.n])
}

// nameSet is a set of folded names. A filter over each name's length and
// first and last bytes rules out most keys before the lookup.
type nameSet struct {
	bloom  [16]uint64
	maxLen int
	m      map[string]bool // for the large default set
	list   []string        // for the few configured names
}

// newNameSet builds a set; useMap suits large, long-lived sets.
func newNameSet(names []string, useMap bool) nameSet {
	var s nameSet
	if useMap {
		s.m = make(map[string]bool, len(names))
	}
	for _, n := range names {
		s.add(foldString(n))
	}
	return s
}

func (s *nameSet) add(n string) {
	if n == "" || len(n) > maxNameLen {
		return
	}
	if s.m != nil {
		s.m[n] = true
	} else {
		s.list = append(s.list, n)
	}
	s.maxLen = max(s.maxLen, len(n))
	h1, h2 := bloomBits(len(n), n[0], n[len(n)-1])
	s.bloom[h1/64] |= 1 << (h1 % 64)
	s.bloom[h2/64] |= 1 << (h2 % 64)
}

// mayHave reports whether a folded name of length n, hashing to h1 and h2,
// can be in the set; false is certain.
func (s *nameSet) mayHave(n int, h1, h2 uint32) bool {
	return n <= s.maxLen && s.bloom[h1/64]&(1<<(h1%64)) != 0 && s.bloom[h2/64]&(1<<(h2%64)) != 0
}

// has reports whether the folded name is in the set; it does not allocate.
func (s *nameSet) has(f *folded) bool {
	if f.long || f.n == 0 || f.n > s.maxLen {
		return false
	}
	if s.m != nil {
		return s.m[string(f.buf[:f.n])]
	}
	for _, n := range s.list {
		if n == string(f.buf[:f.n]) {
			return true
		}
	}
	return false
}

// bloomBits hashes a folded name's length and first and last bytes to two
// of the filter's 1024 bits.
func bloomBits(n int, first, last byte) (uint32, uint32) {
	h := uint32(n)*0x9e3779b1 ^ uint32(first)*0x85ebca77 ^ uint32(last)*0xc2b2ae3d
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	return h & 1023, (h >> 10) & 1023
}

// Built once: the sets every plan shares.
var (
	defaultNames = newNameSet(defaultFieldNames, true)
	// headerNames are the always-redacted headers as field names: an
	// echoed "X-Api-Key" JSON key holds a credential too.
	headerNames = newNameSet(alwaysRedactedHeaders, false)
)

// shape returns a name's folded length and first and last bytes without
// folding it; ok is false when it is empty or too long to match.
func shape[T string | []byte](name T) (n int, first, last byte, ok bool) {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || c == '-' {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if n == 0 {
			first = c
		}
		last = c
		n++
	}
	return n, first, last, n > 0 && n <= maxNameLen
}

// matchName reports whether a JSON key, form or query parameter or header
// name is a secret field name. It is called for every key of every body,
// so the filters decide most names before any folding is done.
func matchName[T string | []byte](p *redactPlan, name T) bool {
	return matchIn(p, &p.names, name)
}

// matchParam reports whether a query or form parameter is a secret.
func matchParam(p *redactPlan, name string) bool {
	return matchIn(p, &p.params, name)
}

// matchIn reports whether name is a default name (when they apply), an
// always-redacted header's name, or in extra.
func matchIn[T string | []byte](p *redactPlan, extra *nameSet, name T) bool {
	n, first, last, ok := shape(name)
	if !ok {
		return false
	}
	h1, h2 := bloomBits(n, first, last)
	inDefaults := p.defaults && defaultNames.mayHave(n, h1, h2)
	inHeaders := headerNames.mayHave(n, h1, h2)
	inExtra := extra.mayHave(n, h1, h2)
	if !inDefaults && !inHeaders && !inExtra {
		return false
	}
	f := fold(name)
	return (inDefaults && defaultNames.has(&f)) || (inHeaders && headerNames.has(&f)) || (inExtra && extra.has(&f))
}

// headerMatch reports whether a header of this name is a secret: an
// always-redacted header, a configured one, or a secret field name.
//
// It is called for every header of every exchange, so it canonicalizes
// the name only when some configured header could need it: the
// always-redacted headers are field names too (headerNames, matched by
// matchName whatever the case), and so is each configured header whose
// folded name is neither empty nor longer than maxNameLen; only the
// others (redactPlan.unfolded) are found by their canonical names alone.
func (p *redactPlan) headerMatch(name string) bool {
	if p.names.maxLen == 0 && !p.unfolded {
		// Nothing configured can match: the verdict of a common name is
		// the defaults' and the always-redacted headers' alone.
		if v, ok := commonHeaderVerdicts[name]; ok {
			return v[p.defaultsIndex()]
		}
	}
	if matchName(p, name) {
		return true
	}
	if !p.unfolded {
		return false
	}
	c := http.CanonicalHeaderKey(name)
	for _, h := range p.headers {
		if h == c {
			return true
		}
	}
	return false
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// commonHeaders are header names (canonical, as net/http makes them) most
// exchanges carry, whose verdicts are decided once instead of per header.
var commonHeaders = []string{
	"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
	"Access-Control-Allow-Origin", "Age", "Authorization", "Cache-Control", "Connection",
	"Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
	"Content-Location", "Content-Range", "Content-Type", "Cookie", "Date", "Etag", "Expires",
	"Forwarded", "Host", "If-Modified-Since", "If-None-Match", "Last-Modified", "Location",
	"Origin", "Pragma", "Proxy-Authorization", "Range", "Referer", "Server", "Set-Cookie",
	"Strict-Transport-Security", "Traceparent", "Tracestate", "Transfer-Encoding", "Upgrade",
	"User-Agent", "Vary", "Via", "X-Api-Key", "X-Auth-Token", "X-Content-Type-Options",
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "X-Request-Id",
	"X-Shadow-Request",
}

// commonHeaderVerdicts maps each of commonHeaders to headerMatch's verdict
// for a plan with nothing configured, without and with the default
// names (indexed by redactPlan.defaultsIndex), computed by matchName.
var commonHeaderVerdicts = func() map[string][2]bool {
	m := make(map[string][2]bool, len(commonHeaders))
	for _, h := range commonHeaders {
		m[h] = [2]bool{matchName(&noDefaultsPlan, h), matchName(&defaultsPlan, h)}
	}
	return m
}()

// defaultsIndex is 1 when the default names apply, else 0.
func (p *redactPlan) defaultsIndex() int {
	if p.defaults {
		return 1
	}
	return 0
}
