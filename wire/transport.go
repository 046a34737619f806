package wire

import (
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
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
	asked   atomic.Bool // an upstream asked for a client certificate
	hasCert bool        // one is configured (then the upstream refused it)
}

// NewTransport returns base, changed to speak protocols (nil: base's own)
// with tc's TLS settings. base must not be in use yet; it is changed in
// place and belongs to the returned Transport.
func NewTransport(base *http.Transport, tc ClientTLS, protocols *http.Protocols) (*Transport, error) {
	cfg, err := tc.Config()
	if err != nil {
		return nil, err
	}
	t := &Transport{Transport: base, hasCert: len(cfg.Certificates) > 0}
	certs := cfg.Certificates
	cfg.Certificates = nil // the hook below hands them out
	cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		t.asked.Store(true)
		for i := range certs {
			if cri.SupportsCertificate(&certs[i]) == nil {
				return &certs[i], nil
			}
		}
		if len(certs) > 0 {
			return &certs[0], nil // as crypto/tls does when none fits
		}
		return &tls.Certificate{}, nil // none, as without this hook
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
	if err != nil && res == nil && t.asked.Load() && lostAtStart(err) {
		err = &certRequiredError{err, t.hasCert}
	}
	return res, err
}

// certRequiredError is an HTTP/2 connection lost right after a handshake
// in which the upstream asked for a client certificate: over TLS 1.3 the
// upstream judges it after the handshake, and the HTTP/2 client drops the
// alert that said why.
type certRequiredError struct {
	err     error
	hadCert bool // one was sent, and refused
}

func (e *certRequiredError) Error() string {
	if e.hadCert {
		return e.err.Error() + ": the upstream asked for a client certificate and refused the one configured (tls: cert_file, key_file)"
	}
	return e.err.Error() + ": the upstream asked for a client certificate and none is configured (tls: cert_file, key_file)"
}

func (e *certRequiredError) Unwrap() error { return e.err }

// lostAtStart reports whether err is how a connection that an mTLS
// upstream refused after a TLS 1.3 handshake shows up in the client: the
// HTTP/2 client's "could not be established", or the first write or read
// on it reset or cut. It is a guess, made only once the upstream has
// asked for a client certificate.
func lostAtStart(err error) bool {
	return strings.Contains(err.Error(), "client conn could not be established") ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// isCertRequired reports whether err is, or wraps, a certRequiredError.
func isCertRequired(err error) bool {
	var c *certRequiredError
	return errors.As(err, &c)
}
