package capture

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"
)

// Redaction by value. A service that echoes its request (a debug
// endpoint, go-httpbin's /headers, /get, /anything) puts the client's
// credentials into its answer under names no rule knows: header names as
// JSON keys, a "url" string holding the query, a "data" string holding
// the request body. So every secret value the rules find in the request
// is also searched for, in every form an echo may take, everywhere else
// in the exchange, and replaced like the original.

// Bounds of redaction by value. Values shorter than MinSecretValueLen are
// not searched for (scrubbing "1234" or "true" from every body would wreck
// them); they are still redacted by name.
const (
	// MinSecretValueLen is the shortest secret value scrubbed by value.
	MinSecretValueLen = 6
	// maxSecretValueLen is the longest; longer values (rare: a cookie is
	// at most 4 KiB) are only redacted by name.
	maxSecretValueLen = 4 << 10
	// maxSecretValues bounds the values one exchange is scrubbed of.
	maxSecretValues = 32
	// maxPatternBytes bounds the automaton built for one exchange.
	maxPatternBytes = 256 << 10
)

// redaction is the redaction of one exchange: the prepared rules, and the
// secret values found in its request, which are then scrubbed wherever
// they appear.
type redaction struct {
	*redactPlan
	collecting bool           // record the secrets replacement sees
	secrets    []string       // found in the request, decoded
	m          *valueMatcher  // nil until some secret is to be scrubbed
	pats       []valuePattern // per pattern of m
	repl       []string       // per secret: its replacement, once needed
	spans      []span         // scratch
	forms      []string       // scratch: the patterns of m
	built      *valueMatcher  // kept for reuse across redactions
	last       lastAnswer     // the previous answer body redacted
}

// valuePattern is one form of one secret.
type valuePattern struct {
	secret  int
	escaped bool // URL-escaped form: the replacement is escaped too
}

// redactions reuses the scratch of finished redactions (the automaton's
// nodes above all), so that redacting every exchange makes little garbage.
var redactions = sync.Pool{New: func() any { return new(redaction) }}

// call starts the redaction of one exchange; release ends it.
func (p *redactPlan) call() *redaction {
	r := redactions.Get().(*redaction)
	r.redactPlan = p
	return r
}

// release returns r's scratch for reuse; r must not be used after it.
func (r *redaction) release() {
	if r.built != nil && cap(r.built.nodes) > 1<<16 {
		r.built = nil // let an unusually large automaton go
	}
	*r = redaction{built: r.built, secrets: r.secrets[:0], pats: r.pats[:0], repl: r.repl[:0], spans: r.spans[:0], forms: r.forms[:0]}
	redactions.Put(r)
}

// replacement returns what a secret is replaced with and, while the
// request is being redacted, remembers it.
func (r *redaction) replacement(secret []byte) string {
	if r.collecting {
		r.addSecret(string(secret))
	}
	return r.redactPlan.replacement(secret)
}

func (r *redaction) addSecret(s string) {
	s = strings.TrimSpace(s)
	if len(s) < MinSecretValueLen || len(s) > maxSecretValueLen || len(r.secrets) == maxSecretValues || s == Redacted {
		return
	}
	for _, have := range r.secrets {
		if have == s {
			return
		}
	}
	r.secrets = append(r.secrets, s)
}

// collectDerived adds the parts of secret request headers that are echoed
// on their own: the token after an auth scheme ("Bearer <token>"), the
// password in Basic credentials, each cookie's value.
func (r *redaction) collectDerived(h http.Header) {
	for k, vs := range h {
		if !r.headerMatch(k) {
			continue
		}
		cookie := isCookieHeader(k)
		for _, v := range vs {
			r.collectDerivedValue(cookie, v)
		}
	}
}

// isCookieHeader reports whether a header name is Cookie's, in any case.
func isCookieHeader(name string) bool {
	return len(name) == len("Cookie") && http.CanonicalHeaderKey(name) == "Cookie"
}

// collectDerivedValue is collectDerived for one value of a secret header;
// cookie says the header is Cookie.
func (r *redaction) collectDerivedValue(cookie bool, v string) {
	if cookie {
		for _, c := range strings.Split(v, ";") {
			if _, val, ok := strings.Cut(c, "="); ok {
				r.addSecret(strings.Trim(strings.TrimSpace(val), `"`))
			}
		}
		return
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return
	}
	token = strings.TrimSpace(token)
	r.addSecret(token)
	if strings.EqualFold(scheme, "Basic") {
		if dec, err := base64.StdEncoding.DecodeString(token); err == nil {
			if _, pw, ok := strings.Cut(string(dec), ":"); ok {
				r.addSecret(pw)
			}
		}
	}
}

// buildMatcher prepares the search for the collected secrets in every form
// an echo may show them in; false when there is nothing to search for.
func (r *redaction) buildMatcher() bool {
	if len(r.secrets) == 0 {
		return false
	}
	pats := r.forms[:0]
	total := 0
	for i, s := range r.secrets {
		for _, f := range secretForms(s) {
			if total+len(f.text) > maxPatternBytes {
				break
			}
			total += len(f.text)
			pats = append(pats, f.text)
			r.pats = append(r.pats, valuePattern{secret: i, escaped: f.escaped})
		}
	}
	r.forms = pats
	if r.built == nil {
		r.built = new(valueMatcher)
	}
	r.built.build(pats)
	r.m = r.built
	r.repl = append(r.repl[:0], make([]string, len(r.secrets))...)
	return true
}

// secretForm is a secret as it may appear in an echo.
type secretForm struct {
	text    string
	escaped bool
}

// secretForms returns the distinct forms of s: as it is; escaped in a
// JSON string (minimally, as encoding/json does with its HTML escapes,
// with "\/", and twice, for a JSON document held in a JSON string); and
// URL-escaped, as a query or form value and as a path segment.
func secretForms(s string) []secretForm {
	forms := []secretForm{{text: s}}
	if plainToken(s) {
		return forms // every form is the same
	}
	add := func(t string, escaped bool) {
		for _, f := range forms {
			if f.text == t {
				return
			}
		}
		forms = append(forms, secretForm{t, escaped})
	}
	j := jsonEscape(s)
	add(j, false)
	if b, err := json.Marshal(s); err == nil {
		add(string(b[1:len(b)-1]), false)
	}
	add(strings.ReplaceAll(j, "/", `\/`), false)
	add(jsonEscape(j), false)
	add(url.QueryEscape(s), true)
	add(url.PathEscape(s), true)
	return forms
}

// plainToken reports whether s reads the same in every form: letters,
// digits and "-._~" only, as most tokens and keys are.
func plainToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// jsonEscape escapes s for a JSON string, escaping only what JSON must.
func jsonEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&0xf])
		case c < utf8.RuneSelf:
			b.WriteByte(c)
		default:
			_, n := utf8.DecodeRuneInString(s[i:])
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		i++
	}
	return b.String()
}

// replFor returns the replacement for pattern i, computed once per secret.
func (r *redaction) replFor(i int32) string {
	vp := r.pats[i]
	rep := r.repl[vp.secret]
	if rep == "" {
		rep = r.redactPlan.replacement([]byte(r.secrets[vp.secret]))
		r.repl[vp.secret] = rep
	}
	if vp.escaped {
		return url.QueryEscape(rep)
	}
	return rep
}

// scrubString replaces every secret in s.
func (r *redaction) scrubString(s string) string {
	if r.m == nil {
		return s
	}
	r.spans = findSpans(r.m, s, r.spans[:0])
	if len(r.spans) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	done := 0
	for _, sp := range r.spans {
		b.WriteString(s[done:sp.start])
		b.WriteString(r.replFor(sp.pat))
		done = sp.end
	}
	b.WriteString(s[done:])
	return b.String()
}

// scrubHeader returns h, or a copy with every secret value replaced in
// every header's values.
func (r *redaction) scrubHeader(h http.Header) http.Header {
	if r.m == nil {
		return h
	}
	return rewriteHeader(h, func(_, v string) (string, bool) {
		nv := r.scrubString(v)
		return nv, nv != v
	})
}

// scrubBody replaces every secret in an uncompressed body of any type; it
// has the shape of a bodyTransform.
func (r *redaction) scrubBody(b []byte, _ string, arena *[]byte) ([]byte, bool) {
	if r.m == nil {
		return b, false
	}
	r.spans = findSpans(r.m, b, r.spans[:0])
	if len(r.spans) == 0 {
		return b, false
	}
	out := take(arena, len(b)+32)
	done := 0
	for _, sp := range r.spans {
		out = append(out, b[done:sp.start]...)
		out = append(out, r.replFor(sp.pat)...)
		done = sp.end
	}
	return append(out, b[done:]...), true
}
