package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// guard lets a request through to next only when it may see the instance's
// state or act on it. With a Token it wants "Authorization: Bearer <token>";
// without one (loopback only) it wants the request addressed to an IP or
// localhost, which shuts out web pages that rebind their DNS name to
// 127.0.0.1.
func (s *Server) guard(next http.Handler) http.Handler {
	if s.cfg.Token == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !isLocalHostHeader(r.Host) {
				s.log.Warn("admin request refused: host not allowed",
					"remote", r.RemoteAddr, "host", r.Host, "path", r.URL.Path)
				writeError(w, http.StatusForbidden, "host "+quote(r.Host)+
					" not allowed: without a token the admin server answers only requests addressed to an IP address or localhost")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	want := sha256.Sum256([]byte(s.cfg.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r.Header.Get("Authorization"))
		// Comparing digests keeps the time independent of the token's length.
		got := sha256.Sum256([]byte(token))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			msg := "missing bearer token: send Authorization: Bearer <token>"
			if ok {
				msg = "wrong bearer token"
			}
			s.log.Warn("admin request refused: "+msg, "remote", r.RemoteAddr, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Bearer realm="understudy admin"`)
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken extracts the token from an Authorization header value. The
// scheme is case-insensitive (RFC 6750).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// isLocalHostHeader reports whether a Host header addresses this machine by
// IP address or as localhost, rather than by a DNS name someone else controls.
func isLocalHostHeader(host string) bool {
	if host == "" { // HTTP/1.0 without Host: no browser sends this
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	return net.ParseIP(host) != nil
}

// quote quotes s for an error message, cut to a readable length.
func quote(s string) string {
	const max = 100
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}
