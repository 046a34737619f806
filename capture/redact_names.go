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

func (s *nameSet) empty() bool { return s.maxLen == 0 }

// has reports whether the folded name is in the set; it does not allocate.
func (s *nameSet) has(f *folded) bool {
	if f.long || f.n == 0 || f.n > s.maxLen {
		return false
	}
	h1, h2 := bloomBits(f.n, f.buf[0], f.buf[f.n-1])
	if s.bloom[h1/64]&(1<<(h1%64)) == 0 || s.bloom[h2/64]&(1<<(h2%64)) == 0 {
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
	defaultNames  = newNameSet(defaultFieldNames, true)
	alwaysHeaders = func() map[string]bool {
		m := make(map[string]bool, len(alwaysRedactedHeaders))
		for _, h := range alwaysRedactedHeaders {
			m[http.CanonicalHeaderKey(h)] = true
		}
		return m
	}()
)

// matchName reports whether a JSON key, form or query parameter or header
// name is a secret field name.
func matchName[T string | []byte](p *redactPlan, name T) bool {
	if !p.defaults && p.names.empty() {
		return false
	}
	f := fold(name)
	return (p.defaults && defaultNames.has(&f)) || p.names.has(&f)
}

// matchParam reports whether a query or form parameter is a secret.
func matchParam(p *redactPlan, name string) bool {
	f := fold(name)
	return (p.defaults && defaultNames.has(&f)) || p.params.has(&f)
}

// headerMatch reports whether a header of this name is a secret.
func (p *redactPlan) headerMatch(name string) bool {
	c := http.CanonicalHeaderKey(name)
	if alwaysHeaders[c] || matchName(p, name) {
		return true
	}
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
