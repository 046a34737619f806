package replay

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/understudy-dev/understudy/exchange"
)

// request builds the replayed request: the recorded method, URI, headers
// and body, sent to the candidate with what the live proxy set on the
// live run's copy (recorded, see injections), the marker and SetHeaders.
// injected is what this request carries beyond the recorded headers
// (exchange.Response.Injected of the replayed answer).
func (r *Replayer) request(ctx context.Context, rec *exchange.Request, live map[string]string) (_ *http.Request, injected map[string]string, _ error) {
	uri := rec.URL
	if u, err := url.Parse(uri); err == nil && u.IsAbs() {
		uri = u.RequestURI() // absolute-form request target
	}
	if !strings.HasPrefix(uri, "/") {
		uri = "/" + uri
	}
	var body io.Reader
	if len(rec.Body) > 0 {
		body = bytes.NewReader(rec.Body)
	}
	method := rec.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+uri, body)
	if err != nil {
		return nil, nil, fmt.Errorf("replay request %s %q: %w", method, rec.URL, err)
	}
	h := rec.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	removeHopByHop(h)
	h.Del("Content-Length")
	h.Del("Host")
	injected = make(map[string]string, len(live)+2+len(r.cfg.SetHeaders))
	for k, v := range live {
		switch {
		case k == "Host", k == liveMarker, isRedacted(v):
			// The Host is the replay target's own; the marker is set
			// below; a redacted credential cannot be sent again.
			continue
		case v == "":
			h.Del(k)
		default:
			h.Set(k, v)
		}
		injected[k] = v
	}
	injected["Host"] = req.URL.Host
	for name, vs := range r.cfg.SetHeaders {
		k := textproto.CanonicalMIMEHeaderKey(name)
		h[k] = append([]string(nil), vs...)
		injected[k] = strings.Join(vs, ", ")
	}
	h.Set(r.cfg.MarkerHeader, r.cfg.MarkerValue)
	injected[textproto.CanonicalMIMEHeaderKey(r.cfg.MarkerHeader)] = r.cfg.MarkerValue
	if isGRPC(h) {
		h.Set("Te", "trailers") // see grpc.go
	}
	req.Header = h
	return req, injected, nil
}

// liveMarker is the marker the live proxy sets by default; the replay
// sets its own (MarkerHeader) instead.
const liveMarker = DefaultMarkerHeader

// isRedacted reports whether a recorded value was redacted (capture's
// "[REDACTED]" or "hmac:…" replacements), so it is not the value sent.
func isRedacted(v string) bool {
	return strings.Contains(v, "[REDACTED]") || strings.HasPrefix(v, "hmac:")
}

// liveInjections is what the live proxy set on the recorded exchange's
// copy: the candidate's record, or the primary's when the candidate has
// none (their forwarding headers are the same).
func liveInjections(x *exchange.Exchange) map[string]string {
	if len(x.Candidate.Injected) > 0 {
		return x.Candidate.Injected
	}
	return x.Primary.Injected
}

// read fills resp into a Response: status, headers, the body up to
// MaxResponseBytes (the rest counted), trailers.
func (r *Replayer) read(resp *http.Response, out *exchange.Response) error {
	defer resp.Body.Close()
	out.Status = resp.StatusCode
	out.Header = resp.Header
	removeHopByHop(out.Header)
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.cfg.MaxResponseBytes))
	out.Body, out.Size = body, int64(len(body))
	if err == nil {
		var rest int64
		rest, err = io.Copy(io.Discard, resp.Body)
		out.Size += rest
		out.Truncated = rest > 0
	}
	if len(resp.Trailer) > 0 {
		out.Trailer = resp.Trailer
	}
	if len(out.Body) == 0 {
		out.Body = nil
	}
	return err
}

// hopHeaders are the hop-by-hop headers (RFC 9110 section 7.6.1), removed
// from replayed requests and recorded answers as a proxy would.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// removeHopByHop removes the headers named in Connection, then the
// well-known hop-by-hop ones.
func removeHopByHop(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, f := range hopHeaders {
		h.Del(f)
	}
}
