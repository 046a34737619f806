package mirror

import (
	"net/http"
	"strings"
)

// injected returns what the proxy set or rewrote, beyond what the client
// sent, on j's request to t (exchange.Response.Injected): the Host header
// t got, the forwarding headers where they are not the client's own, the
// marker (copies only), and t's RemoveHeaders ("") and SetHeaders. It is
// rebuilt by the worker from what j holds, the way copyHeader and rewrite
// build the requests, so the client's path does no extra work for it.
func (p *Proxy) injected(j *job, t *target, copy bool) map[string]string {
	m := make(map[string]string, 6)
	host := t.hostFor(j.host)
	if host == "" {
		host = t.url.Host
	}
	m["Host"] = host
	fwd := make(http.Header, 3)
	setForwarded(fwd, j.header, j.remoteAddr, j.host, j.tls)
	for k, v := range fwd {
		if got := strings.Join(v, ", "); got != strings.Join(j.header[k], ", ") {
			m[k] = got
		}
	}
	if copy {
		m[p.markerKey] = p.cfg.MarkerValue
	}
	for _, k := range t.remove {
		if _, ok := j.header[k]; ok {
			m[k] = ""
		}
	}
	for _, hv := range t.set {
		m[hv.key] = hv.value[0]
	}
	return m
}
