package capture

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/internal/content"
	"github.com/understudy-dev/understudy/internal/jsonpath"
)

// Redacted replaces a secret value when the Redactor has no Key.
const Redacted = "[REDACTED]"

// hashPrefix starts a keyed-hash replacement: "hmac:" and 16 hex digits
// (the first 8 bytes of HMAC-SHA256).
const hashPrefix = "hmac:"

// minKeyLen is the shortest HMAC key Validate accepts.
const minKeyLen = 16

// alwaysRedactedHeaders are redacted whatever the configuration says.
var alwaysRedactedHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
	"X-Api-Key", "X-Auth-Token",
}

// defaultFieldNames are the secret-looking names redacted unless
// NoDefaultFieldNames is set. Matching ignores case, '_' and '-'.
var defaultFieldNames = []string{
	"password", "passwd", "secret", "client_secret", "api_secret",
	"token", "access_token", "refresh_token", "id_token", "auth_token",
	"api_key", "private_key", "authorization", "session_id", "otp",
	"card_number", "cvv", "cvc", "ssn",
	"signature", "x-amz-signature", "x-amz-security-token",
}

// urlHeaders hold URLs whose query parameters are redacted like the
// request's own.
var urlHeaders = []string{"Location", "Content-Location", "Referer"}

// Redactor says which values are secrets and how they are replaced. It is
// applied to every record before it is written or shown.
//
// Always redacted: the headers Authorization, Proxy-Authorization, Cookie,
// Set-Cookie, X-Api-Key and X-Auth-Token, and any header, query parameter,
// form field or JSON field whose name is one of the field names. Names are
// matched ignoring case, '_' and '-', so "card_number" also catches
// "cardNumber" and "Card-Number". The default field names are password,
// passwd, secret, client_secret, api_secret, token, access_token,
// refresh_token, id_token, auth_token, api_key, private_key, authorization,
// session_id, otp, card_number, cvv, cvc, ssn, signature, x-amz-signature
// and x-amz-security-token.
//
// The always-redacted headers and Headers are field names too: a service
// that echoes its request headers writes them as JSON keys.
//
// Secrets are also redacted by value: every secret value found in an
// exchange's request by the rules here (and the token of "Bearer <token>",
// the password of Basic credentials, each cookie's value) is replaced
// wherever else it appears in the exchange, raw, JSON-escaped or
// URL-escaped: in the request's URL, headers and body, and in every
// answer's headers, trailers and body, whatever their type. Values shorter
// than MinSecretValueLen are not searched for.
//
// Bodies are redacted by name when they are JSON (by Content-Type, or when
// they start with '{' or '['; truncated and malformed JSON included) or
// form-urlencoded, also inside a Content-Encoding (gzip, deflate, br,
// zstd, stacked: the codings compare undoes), encoded again with the same
// codings when redacted. Query parameters are redacted in request URLs, in the
// Location, Content-Location and Referer headers, and in synthetic step
// URLs, as is the password (or lone user name) of a URL's userinfo.
//
// The zero value applies the defaults and replaces values with
// "[REDACTED]". Redact and RedactSynth read the configuration on every call
// (cheaply); a Writer reads it once, in NewWriter.
type Redactor struct {
	// Headers names further headers to redact (case-insensitive).
	Headers []string `mapstructure:"headers"`
	// QueryParams names further URL query and form parameters to redact,
	// in addition to FieldNames.
	QueryParams []string `mapstructure:"query_params"`
	// FieldNames names further fields to redact wherever they appear: JSON
	// object keys at any depth, query parameters, form fields, headers.
	FieldNames []string `mapstructure:"field_names"`
	// NoDefaultFieldNames drops the default field names, keeping only
	// FieldNames. The always-redacted headers stay.
	// It is no config file key: a file cannot turn the defaults off.
	NoDefaultFieldNames bool `mapstructure:"-"`
	// FieldPaths names JSON fields by path from the body's root, in the
	// grammar of compare's normalizers (package internal/jsonpath):
	// "$.card.number", "$.items[*].cvv", "$.users[0].pin", "$..ssn" (at
	// any depth), "$['odd.key']". "*" matches any key or index. Keys are
	// case-sensitive here.
	FieldPaths []string `mapstructure:"field_paths"`
	// Key, when set, replaces each secret with a keyed hash
	// ("hmac:3f2a9c..."), so equal secrets still compare equal across
	// answers and records without being revealed. At least 16 bytes.
	// Empty means "[REDACTED]".
	Key []byte `mapstructure:"key"`
}

// Validate reports the first entry that is not usable, named by its
// config key ("field_paths[0]: ...").
func (r *Redactor) Validate() error {
	for i, h := range r.Headers {
		if !validHeaderName(h) {
			return fmt.Errorf("headers[%d]: %q is not a header name", i, h)
		}
	}
	for i, n := range r.QueryParams {
		if err := checkName(n); err != nil {
			return fmt.Errorf("query_params[%d]: %q %w", i, n, err)
		}
	}
	for i, n := range r.FieldNames {
		if err := checkName(n); err != nil {
			return fmt.Errorf("field_names[%d]: %q %w", i, n, err)
		}
	}
	for i, p := range r.FieldPaths {
		if _, err := parseFieldPath(p); err != nil {
			return fmt.Errorf("field_paths[%d]: %q: %w", i, p, err)
		}
	}
	if len(r.Key) > 0 && len(r.Key) < minKeyLen {
		return fmt.Errorf("key: has %d bytes, want at least %d", len(r.Key), minKeyLen)
	}
	return nil
}

// checkName reports why a configured name cannot match anything.
func checkName(n string) error {
	switch f := fold(n); {
	case f.long:
		return fmt.Errorf("is longer than %d bytes", maxNameLen)
	case f.n == 0:
		return errors.New("is empty (ignoring '_' and '-')")
	}
	return nil
}

// Redact removes the secrets from x's request and from every answer. It
// rewrites x's fields in place, but never writes into the header maps, body
// arrays or secondary Response it found there: those may still be shared
// with the proxy. Invalid entries (see Validate) are ignored.
func (r *Redactor) Redact(x *exchange.Exchange) {
	red := r.compile().call()
	red.exchange(x, nil)
	red.release()
}

// RedactSynth removes the secrets from a synthetic step result: URL query
// parameters and userinfo, and tags named like secrets. Like Redact it
// replaces rather than writes into the Tags map.
func (r *Redactor) RedactSynth(s *SynthRecord) {
	r.compile().call().synth(s)
}

// redactPlan is a Redactor prepared for matching. Preparing one is cheap
// (the default names are shared), so Redact prepares one per call.
type redactPlan struct {
	defaults bool     // the default field names apply
	names    nameSet  // FieldNames and Headers
	params   nameSet  // FieldNames, QueryParams and Headers
	headers  []string // Headers, canonical
	// unfolded says some of headers has no usable folded name (empty or
	// longer than maxNameLen), so names does not find it.
	unfolded bool
	paths    []*jsonpath.Pattern
	key      []byte
}

// Built once: the plans of Redactors that configure nothing but
// NoDefaultFieldNames, shared read-only by every redaction.
var (
	defaultsPlan   = redactPlan{defaults: true}
	noDefaultsPlan = redactPlan{}
)

// compile prepares r for matching, skipping invalid entries. A Redactor
// that configures no names, paths or key gets a shared plan.
func (r *Redactor) compile() *redactPlan {
	if len(r.Headers) == 0 && len(r.FieldNames) == 0 && len(r.QueryParams) == 0 && len(r.FieldPaths) == 0 && len(r.Key) < minKeyLen {
		if r.NoDefaultFieldNames {
			return &noDefaultsPlan
		}
		return &defaultsPlan
	}
	p := &redactPlan{defaults: !r.NoDefaultFieldNames}
	for _, h := range r.Headers {
		if validHeaderName(h) {
			p.headers = append(p.headers, http.CanonicalHeaderKey(h))
			if f := fold(h); f.long || f.n == 0 {
				p.unfolded = true
			}
			// As a JSON key, form field or parameter name too: a service
			// that echoes its request headers writes them as keys.
			p.names.add(foldString(h))
			p.params.add(foldString(h))
		}
	}
	for _, n := range r.FieldNames {
		n = foldString(n)
		p.names.add(n)
		p.params.add(n)
	}
	for _, n := range r.QueryParams {
		p.params.add(foldString(n))
	}
	for _, s := range r.FieldPaths {
		if segs, err := parseFieldPath(s); err == nil {
			p.paths = append(p.paths, segs)
		}
	}
	if len(r.Key) >= minKeyLen {
		p.key = bytes.Clone(r.Key)
	}
	return p
}

// replacement returns what a secret is replaced with.
func (p *redactPlan) replacement(secret []byte) string {
	if p.key == nil {
		return Redacted
	}
	m := hmac.New(sha256.New, p.key)
	m.Write(secret)
	var sum [sha256.Size]byte
	return hashPrefix + hex.EncodeToString(m.Sum(sum[:0])[:8])
}

// exchange redacts x. New bodies are carved from arena when it is not nil
// (see take), so a caller that is done with x before reusing the arena
// makes no garbage for them.
//
// The request is redacted first, collecting every secret value the rules
// find in it; those values are then scrubbed from everything else: the
// request's own URL, headers and body, and every answer's headers,
// trailers and body, whatever their names (see redact_values.go).
func (p *redaction) exchange(x *exchange.Exchange, arena *[]byte) {
	orig := x.Request.Header
	p.collecting = true
	x.Request.Header = p.header(x.Request.Header)
	x.Request.URL, _ = p.redactURL(x.Request.URL)
	x.Request.Body = p.body(x.Request.Body, x.Request.Header, false, arena)
	p.collectDerived(orig)
	// What the proxy itself sent each side (set headers may hold a
	// credential of the proxy's) is redacted by name, and its secrets
	// scrubbed from every answer like the client's.
	x.Primary.Injected = p.injected(x.Primary.Injected)
	if x.Secondary != nil && len(x.Secondary.Injected) > 0 {
		s := *x.Secondary
		s.Injected = p.injected(s.Injected)
		x.Secondary = &s
	}
	x.Candidate.Injected = p.injected(x.Candidate.Injected)
	if len(x.Outbound) > 0 {
		// The calls the sides made to dependencies are requests too: what
		// they hold by name (the primary's API key to a payment service)
		// is searched for everywhere else, like the client's secrets.
		x.Outbound = append([]exchange.OutboundCall(nil), x.Outbound...)
		for i := range x.Outbound {
			c := &x.Outbound[i]
			h := c.Header
			c.Header = p.header(c.Header)
			c.URL, _ = p.redactURL(c.URL)
			c.Body = p.body(c.Body, c.Header, c.BodyTruncated, arena)
			p.collectDerived(h)
		}
	}
	p.collecting = false
	if p.buildMatcher() {
		x.Request.URL = p.scrubString(x.Request.URL)
		x.Request.Header = p.scrubHeader(x.Request.Header)
		x.Request.Body = p.transformBody(x.Request.Body, x.Request.Header, false, arena, p.scrubBody)
		for i := range x.Outbound {
			c := &x.Outbound[i]
			c.URL = p.scrubString(c.URL)
			c.Header = p.scrubHeader(c.Header)
			c.Body = p.transformBody(c.Body, c.Header, c.BodyTruncated, arena, p.scrubBody)
		}
	}
	p.response(&x.Primary, arena)
	if x.Secondary != nil {
		s := *x.Secondary
		p.response(&s, arena)
		x.Secondary = &s
	}
	p.response(&x.Candidate, arena)
	for i := range x.Outbound {
		c := &x.Outbound[i]
		p.response(&c.Response, arena)
		c.Response.Error = p.scrubString(c.Response.Error)
	}
	if len(x.OtherCandidates) > 0 {
		others := make([]exchange.Response, len(x.OtherCandidates)) // replaced, never written into
		for i := range x.OtherCandidates {
			others[i] = x.OtherCandidates[i]
			p.response(&others[i], arena)
		}
		x.OtherCandidates = others
	}
}

// injected returns m, or a redacted copy of it when it holds secrets
// (by header name, and by the token after an auth scheme): each value is
// treated as header would treat a header of that name with that one
// value, its derived secrets collected as collectDerived would.
func (p *redaction) injected(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	var out map[string]string
	for k, v := range m {
		nv := v
		switch {
		case p.headerMatch(k):
			p.collectDerivedValue(isCookieHeader(k), v)
			nv = p.replacement([]byte(v))
		case isURLHeader(k):
			nv, _ = p.redactURL(v)
		}
		if nv != v {
			if out == nil {
				out = maps.Clone(m)
			}
			out[k] = nv
		}
	}
	if out == nil {
		return m
	}
	return out
}

func (p *redaction) response(r *exchange.Response, arena *[]byte) {
	r.Header = p.scrubHeader(p.header(r.Header))
	r.Trailer = p.scrubHeader(p.header(r.Trailer))
	r.Body = p.answerBody(r.Body, r.Header, r.Truncated, arena)
}

// lastAnswer is the previous answer body redacted in one exchange.
type lastAnswer struct {
	ok        bool
	in, out   []byte
	changed   bool // out is a redacted copy, not in
	ct, ce    []string
	truncated bool
}

// answerBody is body for an answer. An answer whose body, Content-Type,
// Content-Encoding and truncation are the previous answer's (a candidate
// answering as the primary did, as most do) is redacted alike, so it gets
// the same result without being scanned again: redacting a body depends
// on nothing else once the request's secrets are collected. A redacted
// copy is then shared by both answers, clipped so that appending to
// either cannot write into the other.
func (p *redaction) answerBody(b []byte, h http.Header, truncated bool, arena *[]byte) []byte {
	ct, ce := h["Content-Type"], h["Content-Encoding"]
	if l := &p.last; l.ok && len(b) > 0 && truncated == l.truncated && slices.Equal(ct, l.ct) && slices.Equal(ce, l.ce) && bytes.Equal(b, l.in) {
		if l.changed {
			return l.out
		}
		return b
	}
	out := p.body(b, h, truncated, arena)
	changed := len(out) != len(b) || (len(b) > 0 && &out[0] != &b[0])
	if changed {
		out = slices.Clip(out)
	}
	p.last = lastAnswer{ok: len(b) > 0, in: b, out: out, changed: changed, ct: ct, ce: ce, truncated: truncated}
	return out
}

func (p *redaction) synth(s *SynthRecord) {
	s.URL, _ = p.redactURL(s.URL)
	var tags map[string]string
	for k, v := range s.Tags {
		if !p.headerMatch(k) {
			continue
		}
		if tags == nil {
			tags = make(map[string]string, len(s.Tags))
			for k2, v2 := range s.Tags {
				tags[k2] = v2
			}
		}
		tags[k] = p.replacement([]byte(v))
	}
	if tags != nil {
		s.Tags = tags
	}
}

// header returns h, or a redacted copy of it when it holds secrets.
func (p *redaction) header(h http.Header) http.Header {
	return rewriteHeader(h, func(k, v string) (string, bool) {
		switch {
		case p.headerMatch(k):
			return p.replacement([]byte(v)), true
		case isURLHeader(k):
			return p.redactURL(v)
		}
		return v, false
	})
}

// rewriteHeader returns h, or a copy of it with each value fn changed;
// it never writes into h, which may be shared with the proxy.
func rewriteHeader(h http.Header, fn func(name, value string) (string, bool)) http.Header {
	if len(h) == 0 {
		return h
	}
	var out http.Header
	for k, vs := range h {
		var repl []string
		for i, v := range vs {
			nv, changed := fn(k, v)
			if !changed {
				continue
			}
			if repl == nil {
				repl = append([]string(nil), vs...)
			}
			repl[i] = nv
		}
		if repl == nil {
			continue
		}
		if out == nil {
			out = h.Clone()
		}
		out[k] = repl
	}
	if out == nil {
		return h
	}
	return out
}

// isURLHeader reports whether a header holds a URL (urlHeaders, any
// case). Only a name of one of their lengths and initials can match: no
// letter of theirs has a non-ASCII case fold (as 'k' and 's' have), so
// EqualFold never matches another.
func isURLHeader(name string) bool {
	switch len(name) {
	case len("Referer"), len("Location"), len("Content-Location"):
	default:
		return false
	}
	if c := name[0] | 0x20; c != 'r' && c != 'l' && c != 'c' {
		return false
	}
	for _, u := range urlHeaders {
		if strings.EqualFold(name, u) {
			return true
		}
	}
	return false
}

// body returns b, or a redacted (and, once the request's secrets are
// known, scrubbed) copy of it, judging its type by h; truncated says b is
// a prefix of the body.
func (p *redaction) body(b []byte, h http.Header, truncated bool, arena *[]byte) []byte {
	return p.transformBody(b, h, truncated, arena, func(plain []byte, contentType string, arena *[]byte) ([]byte, bool) {
		out, changed := p.plainBody(plain, contentType, arena)
		if p.m != nil {
			if s, ok := p.scrubBody(out, contentType, arena); ok {
				out, changed = s, true
			}
		}
		return out, changed
	})
}

// bodyTransform rewrites an uncompressed body of the given Content-Type,
// reporting whether anything changed.
type bodyTransform func(plain []byte, contentType string, arena *[]byte) ([]byte, bool)

// transformBody applies fn to b inside its Content-Encoding, the codings
// compare undoes (gzip, deflate, br, zstd, stacked), and encodes the
// result again with the same codings when anything changed. What did not
// decode (the proxy kept only a prefix, or the data is corrupt part way)
// could not be inspected, so it is dropped: the body keeps the redacted
// part that did. A body compare would show as it was sent (an unknown
// coding, data not of its coding at all) is transformed as it is.
func (p *redaction) transformBody(b []byte, h http.Header, truncated bool, arena *[]byte, fn bodyTransform) []byte {
	if len(b) == 0 {
		return b
	}
	// Indexed, not h.Get: the names are canonical already, and Get would
	// canonicalize them again for every body.
	var ct string
	if v := h["Content-Type"]; len(v) > 0 {
		ct = v[0]
	}
	codings, known := content.Codings(h["Content-Encoding"])
	if !known || len(codings) == 0 {
		out, _ := fn(b, ct, arena)
		return out
	}
	plain, cut, err := content.Decode(b, codings, truncated, MaxRecordBytes)
	if err != nil && len(plain) == 0 {
		out, _ := fn(b, ct, arena)
		return out
	}
	out, changed := fn(plain, ct, nil)
	if !changed && !cut {
		return b
	}
	enc, err := content.Encode(out, codings)
	if err != nil {
		return out // cannot happen for the codings Codings knows; never the secret
	}
	return enc
}

// plainBody redacts an uncompressed body by name and path.
func (p *redaction) plainBody(b []byte, contentType string, arena *[]byte) ([]byte, bool) {
	mt := contentType
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.TrimSpace(mt)
	if !isLowerASCII(mt) { // as it mostly is: no copy
		mt = strings.ToLower(mt)
	}
	switch {
	case mt == "application/x-www-form-urlencoded":
		s, changed := p.redactParams(string(b))
		if !changed {
			return b, false
		}
		return []byte(s), true
	case strings.Contains(mt, "json") || looksLikeJSON(b):
		return p.redactJSON(b, arena)
	}
	return b, false
}

// isLowerASCII reports whether s is ASCII without upper-case letters, so
// that strings.ToLower would return it unchanged.
func isLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func looksLikeJSON(b []byte) bool {
	i := skipWS(b, 0)
	return i < len(b) && (b[i] == '{' || b[i] == '[')
}
