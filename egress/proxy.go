package egress

import (
	"net/http"

	"github.com/understudy-dev/understudy/exchange"
)

// proxyHandler serves one side of the forward-proxy mode: a service whose
// HTTP_PROXY names this listener sends its calls in absolute form
// ("POST http://payments:8080/charges"), and the host picks the
// dependency. Only configured dependencies are served, on every side:
// egress is never an open proxy, and a copy's call for any other host is
// refused like every call it cannot answer.
type proxyHandler struct {
	side   exchange.Side
	st     *store
	byHost map[string]http.Handler // hostPort of the upstream -> forwarder or replayer
}

func (p *proxyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.reject(w, RefusedUnsupported, http.StatusNotImplemented, "CONNECT (https through the proxy) is not served: a tunnel cannot be recorded; point the service at the dependency by base URL (the dependency's own listeners), or leave https hosts out of HTTPS_PROXY")
		return
	}
	if !r.URL.IsAbs() {
		p.reject(w, RefusedUnknownDependency, http.StatusBadRequest, "this is egress's forward-proxy listener: it serves requests in absolute form (set HTTP_PROXY to it), not "+r.URL.String())
		return
	}
	h := p.byHost[hostPort(r.URL)]
	if h == nil {
		p.reject(w, RefusedUnknownDependency, http.StatusBadGateway, r.URL.Host+" is not a configured dependency (egress: upstream); list hosts that are not dependencies in NO_PROXY")
		return
	}
	h.ServeHTTP(w, r)
}

// reject answers a request the proxy does not serve: on the primary side
// with status and the message, counted as refused; on the other sides as
// a refused call.
func (p *proxyHandler) reject(w http.ResponseWriter, reason Reason, status int, msg string) {
	if p.side == exchange.Primary {
		p.st.counts.proxyRefused.Add(1)
		http.Error(w, "egress: "+msg, status)
		return
	}
	p.st.counts.calls[sideIndex(p.side)].Add(1)
	p.st.counts.refuse(p.side, reason)
	refuse(w, p.side, reason, msg)
}
