package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// RequestHeader is the header that lets a request through the guard of a
// server without a Token, with any non-empty value ("1"): a web page can
// send a custom header to another origin only after a CORS preflight, which
// this server never grants, so a request that carries it comes from a
// program, not from a page the operator happens to have open. Client sends
// it on every request.
const RequestHeader = "X-Admin-Request"

// guard lets a request through to next only when it may see the instance's
// state or act on it. With a Token it wants "Authorization: Bearer <token>";
// without one (loopback only) it wants the request addressed to an IP or
// localhost, which shuts out web pages that rebind their DNS name to
// 127.0.0.1, and a request no browser sends cross-site without a preflight
// (see crossSiteSafe), which shuts out an <img> tag or a form on any page
// that points at 127.0.0.1.
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
			if !crossSiteSafe(r) {
				s.log.Warn("admin request refused: a web page could have sent it",
					"remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
				writeError(w, http.StatusForbidden, crossSiteRefusal(r))
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

// crossSiteSafe reports whether a request without a token may go on: a
// plain GET or HEAD of a read that costs little (/snapshot without a
// stream, the instance's own Handlers); a request that a browser sends to
// another origin only after a CORS preflight, which this server never
// grants; or one a browser marks, in a header no page can set, as typed
// by the user or sent by this server's own pages (Sec-Fetch-Site none or
// same-origin: the pprof index and its links work in a browser).
// Everything else, such as an <img> tag that starts a five-minute CPU
// profile or a trace, a form posted to /control, or a page that holds
// snapshot streams open, is what any web site the operator visits could
// send to 127.0.0.1, and is refused.
func crossSiteSafe(r *http.Request) bool {
	if !isSimpleRequest(r) {
		return true
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "none", "same-origin":
		return true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch r.URL.Path {
	case "/snapshot":
		v := r.URL.Query().Get("stream")
		stream, err := strconv.ParseBool(v)
		return v == "" || err == nil && !stream
	case "/snapshot/stream", "/control":
		return false
	}
	return !strings.HasPrefix(r.URL.Path, "/debug/pprof/")
}

// crossSiteRefusal says what a refused request lacked.
func crossSiteRefusal(r *http.Request) string {
	msg := "request refused: without a token, " + r.Method + " " + r.URL.Path
	if r.URL.Path == "/control" {
		return msg + " takes only a command sent as Content-Type: application/json, which a web page cannot send to another site"
	}
	return msg + " needs the header " + RequestHeader + ": 1, which a web page cannot send to another site " +
		"(curl -H '" + RequestHeader + ": 1' URL)"
}

// isSimpleRequest reports whether a browser could have sent r to another
// origin without a CORS preflight (a "simple request" of the Fetch
// standard): method GET, HEAD or POST, no RequestHeader or Authorization,
// and a Content-Type, if any, that an HTML form can send. It errs towards
// simple: a Content-Type whose essence is one a form sends counts as
// simple whatever its parameters.
func isSimpleRequest(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		return false
	}
	if r.Header.Get(RequestHeader) != "" || r.Header.Get("Authorization") != "" {
		return false
	}
	ct, ok := r.Header["Content-Type"]
	if !ok {
		return true
	}
	essence, _, _ := strings.Cut(strings.Join(ct, ","), ";")
	switch strings.ToLower(strings.TrimSpace(essence)) {
	case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
		return true
	}
	return false
}

// quote quotes s for an error message, cut to a readable length.
func quote(s string) string {
	const max = 100
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}
