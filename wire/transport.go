package wire

import (
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
)

// Transport is an http.Transport to one upstream, with that upstream's
// ClientTLS and protocols applied. Its RoundTrip is the http.Transport's,
// except that an error the transport leaves unexplained is explained when
// Transport knows more: an HTTP/2 connection over TLS 1.3 that the
// upstream closes before the first request, having asked for a client
// certificate that is not configured, is an mTLS refusal, not a mystery
// ("http2: client conn could not be established").
type Transport struct {
	*http.Transport
	asked atomic.Bool // an upstream asked for a client certificate we do not have
}

// NewTransport returns base, changed to speak protocols (nil: base's own)
// with tc's TLS settings. base must not be in use yet; it is changed in
// place and belongs to the returned Transport.
func NewTransport(base *http.Transport, tc ClientTLS, protocols *http.Protocols) (*Transport, error) {
	cfg, err := tc.Config()
	if err != nil {
		return nil, err
	}
	t := &Transport{Transport: base}
	if len(cfg.Certificates) == 0 {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			t.asked.Store(true)
			return &tls.Certificate{}, nil // none, as without this hook
		}
	}
	base.TLSClientConfig = cfg
	if protocols != nil {
		base.Protocols = protocols
	}
	return t, nil
}

// RoundTrip sends req, as http.Transport does.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.Transport.RoundTrip(req)
	if err != nil && t.asked.Load() && strings.Contains(err.Error(), "client conn could not be established") {
		err = &certRequiredError{err}
	}
	return res, err
}

// certRequiredError is an HTTP/2 connection lost right after a handshake
// in which the upstream asked for a client certificate we have none of.
type certRequiredError struct{ err error }

func (e *certRequiredError) Error() string {
	return e.err.Error() + ": the upstream asked for a client certificate and none is configured (tls: cert_file, key_file)"
}

func (e *certRequiredError) Unwrap() error { return e.err }

// isCertRequired reports whether err is, or wraps, a certRequiredError.
func isCertRequired(err error) bool {
	var c *certRequiredError
	return errors.As(err, &c)
}
