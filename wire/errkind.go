package wire

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// Kinds of failure reaching an upstream, as ErrorKind names them.
const (
	// KindTLS is a failed TLS handshake: an untrusted or expired
	// certificate, a wrong name, a certificate the upstream asked for and
	// did not get, or TLS spoken to a server that does not.
	KindTLS = "tls"
	// KindRefused is a connection refused: nothing listens there.
	KindRefused = "refused"
	// KindTimeout is a deadline reached: dialling, the handshake, or the
	// answer.
	KindTimeout = "timeout"
	// KindProtocol is an upstream that does not speak the HTTP expected of
	// it: a malformed answer, HTTP/2 asked of an HTTP/1-only server (or
	// the reverse), a protocol error from its HTTP/2 stack.
	KindProtocol = "protocol"
	// KindReset is a connection the upstream reset or closed before its
	// answer was complete.
	KindReset = "reset"
	// KindOther is anything else (an unknown host, a local error).
	KindOther = "other"
)

// Kinds lists every kind ErrorKind returns, in the order reports show them.
var Kinds = [...]string{KindTLS, KindRefused, KindTimeout, KindProtocol, KindReset, KindOther}

// ErrorKind names the kind of err, an error from sending a request to an
// upstream or reading its answer (one of Kinds); "" for nil.
func ErrorKind(err error) string {
	if err == nil {
		return ""
	}
	var (
		verr    *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		netErr  net.Error
	)
	msg := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return KindTimeout
	case strings.Contains(msg, "tls: no application protocol"), strings.Contains(msg, "ALPN"):
		// The upstream does not speak the HTTP version asked for (h2):
		// TLS alert 120 (RFC 7301), which crypto/tls does not export.
		return KindProtocol
	case errors.As(err, &verr), errors.As(err, &recErr), errors.As(err, &alert),
		errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid),
		isCertRequired(err):
		return KindTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.As(err, &netErr) && netErr.Timeout():
		return KindTimeout
	case strings.Contains(msg, "tls: "):
		// A handshake failure with no type of its own ("tls: handshake
		// failure", "tls: server selected unadvertised ALPN protocol").
		return KindTLS
	case strings.Contains(msg, "http2: "), strings.Contains(msg, "malformed HTTP"),
		strings.Contains(msg, "HTTP/1.x transport connection broken"):
		// net/http's HTTP/2 errors have no exported types; its messages
		// carry the package's prefix.
		return KindProtocol
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return KindReset
	}
	return KindOther
}
