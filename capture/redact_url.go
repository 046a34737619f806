package capture

import (
	"net/url"
	"strings"
)

// redactURL redacts a URL's userinfo and the secret parameters of its
// query and of a parameter-style fragment ("#access_token=..."). It keeps
// every other byte. u may be absolute or just path and query.
func (p *redaction) redactURL(u string) (string, bool) {
	changed := false
	if s, ok := p.redactUserinfo(u); ok {
		u, changed = s, true
	}
	q := strings.IndexByte(u, '?')
	h := strings.IndexByte(u, '#')
	if q < 0 && h < 0 {
		return u, changed
	}
	var b strings.Builder
	rest := u
	if h >= 0 && (q < 0 || h < q) {
		q = -1 // a '?' after '#' belongs to the fragment
	}
	if q >= 0 {
		end := len(u)
		if h > q {
			end = h
		}
		if s, ok := p.redactParams(u[q+1 : end]); ok {
			b.WriteString(u[:q+1])
			b.WriteString(s)
			rest, changed = u[end:], true
		}
	}
	if h >= 0 && strings.IndexByte(u[h:], '=') >= 0 {
		if s, ok := p.redactParams(u[h+1:]); ok {
			if b.Len() == 0 {
				b.WriteString(u[:h+1])
			} else {
				b.WriteString("#")
			}
			b.WriteString(s)
			rest, changed = "", true
		}
	}
	if b.Len() == 0 {
		return u, changed
	}
	b.WriteString(rest)
	return b.String(), true
}

// redactUserinfo replaces the password of "scheme://user:password@host",
// or the user when there is no password (tokens are often sent that way).
func (p *redaction) redactUserinfo(u string) (string, bool) {
	s := strings.Index(u, "://")
	if s < 0 {
		return u, false
	}
	start := s + 3
	auth := u[start:]
	if end := strings.IndexAny(auth, "/?#"); end >= 0 {
		auth = auth[:end]
	}
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return u, false
	}
	info := auth[:at]
	secretStart := start
	if c := strings.IndexByte(info, ':'); c >= 0 {
		secretStart = start + c + 1
	}
	secretEnd := start + at
	if secretStart == secretEnd {
		return u, false
	}
	secret := u[secretStart:secretEnd]
	if plain, err := url.PathUnescape(secret); err == nil {
		secret = plain
	}
	return u[:secretStart] + url.QueryEscape(p.replacement([]byte(secret))) + u[secretEnd:], true
}

// redactParams redacts the values of secret parameters in a query string
// or form body ("a=1&token=x"), keeping every other byte. Both '&' and ';'
// separate parameters, as some servers accept either.
func (p *redaction) redactParams(s string) (string, bool) {
	if strings.IndexByte(s, '=') < 0 {
		return s, false
	}
	var b strings.Builder
	done := 0 // s[:done] is in b
	for i := 0; i < len(s); {
		end := strings.IndexAny(s[i:], "&;")
		if end < 0 {
			end = len(s)
		} else {
			end += i
		}
		part := s[i:end]
		if eq := strings.IndexByte(part, '='); eq > 0 {
			key := part[:eq]
			if strings.ContainsAny(key, "%+") {
				if k, err := url.QueryUnescape(key); err == nil {
					key = k
				}
			}
			if matchParam(p.redactPlan, key) {
				val := part[eq+1:]
				if v, err := url.QueryUnescape(val); err == nil {
					val = v
				}
				if b.Len() == 0 {
					b.Grow(len(s) + 16)
				}
				b.WriteString(s[done : i+eq+1])
				b.WriteString(url.QueryEscape(p.replacement([]byte(val))))
				done = end
			}
		}
		i = end + 1
	}
	if done == 0 {
		return s, false
	}
	b.WriteString(s[done:])
	return b.String(), true
}
