package wire

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Listener defaults, for the zero values of ServerConfig.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
)

// ServerTLS turns on TLS for the listener: the listen_tls block.
// The zero value serves in the clear.
type ServerTLS struct {
	// CertFile and KeyFile are the PEM certificate (chain) and key the
	// listener serves. Both, or neither for no TLS. They are re-read when
	// they change (see DefaultCertCheckInterval).
	CertFile string `mapstructure:"cert_file" yaml:"cert_file" json:"cert_file,omitempty"`
	KeyFile  string `mapstructure:"key_file" yaml:"key_file" json:"key_file,omitempty"`
	// ClientCAFile is a PEM file of the CAs whose client certificates are
	// accepted. When set, every client must present one they signed
	// (mTLS): a client without is refused in the handshake. It is read at
	// start. "" means clients present no certificate.
	ClientCAFile string `mapstructure:"client_ca_file" yaml:"client_ca_file" json:"client_ca_file,omitempty"`
}

// Enabled reports whether t turns TLS on.
func (t ServerTLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Validate reports every bad field of t, named by its key, without
// reading the files (NewServer does).
func (t ServerTLS) Validate() error {
	var errs []error
	if (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, errors.New("cert_file and key_file: want both (the certificate and its key) or neither"))
	}
	if t.ClientCAFile != "" && !t.Enabled() {
		errs = append(errs, errors.New("client_ca_file: needs cert_file and key_file: client certificates are checked in a TLS handshake"))
	}
	return errors.Join(errs...)
}

// ServerConfig configures the listener clients talk to. Zero values take
// the defaults; a negative timeout turns it off.
type ServerConfig struct {
	// ReadHeaderTimeout bounds reading a request's head, and a TLS
	// handshake, so that slow clients (slowloris) cannot pin goroutines.
	// 0 means 10s.
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection (HTTP/1.1 or
	// HTTP/2) waits for its next request. 0 means 2m.
	IdleTimeout time.Duration
	// TLS, when enabled, serves HTTPS: h2 and http/1.1 by ALPN, TLS 1.2 at
	// least. The zero value serves HTTP/1.1 and h2c in the clear.
	TLS ServerTLS
	// CertCheckInterval is how often, at most, the certificate files are
	// looked at for a change. 0 means DefaultCertCheckInterval.
	CertCheckInterval time.Duration
	// Logger receives the server's log. nil means slog.Default().
	Logger *slog.Logger
}

// Server is an http.Server for the proxy's clients, built by NewServer.
type Server struct {
	*http.Server
	tls bool
}

// NewServer returns a server for h configured by c, its certificate (if
// any) loaded: an error names the file that failed.
func NewServer(c ServerConfig, h http.Handler) (*Server, error) {
	if err := c.TLS.Validate(); err != nil {
		return nil, err
	}
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	var ps http.Protocols
	ps.SetHTTP1(true)
	ps.SetHTTP2(true)
	ps.SetUnencryptedHTTP2(true)
	s := &Server{Server: &http.Server{
		Handler:           withoutH2CUpgrade(h),
		ReadHeaderTimeout: cmp.Or(c.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		IdleTimeout:       cmp.Or(c.IdleTimeout, DefaultIdleTimeout),
		Protocols:         &ps,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	if !c.TLS.Enabled() {
		return s, nil
	}
	certs, err := newCertReloader(c.TLS.CertFile, c.TLS.KeyFile, cmp.Or(c.CertCheckInterval, DefaultCertCheckInterval), log)
	if err != nil {
		return nil, fmt.Errorf("cert_file: %w", err)
	}
	tc := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: certs.getCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
	if c.TLS.ClientCAFile != "" {
		pool, err := readPool(c.TLS.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("client_ca_file: %w", err)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	s.TLSConfig, s.tls = tc, true
	return s, nil
}

// Scheme is "https" when the server serves TLS, "http" otherwise.
func (s *Server) Scheme() string {
	if s.tls {
		return "https"
	}
	return "http"
}

// Serve accepts connections on ln until Shutdown or Close, serving TLS
// when configured. Like http.Server.Serve, it returns
// http.ErrServerClosed after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if s.tls {
		return s.Server.ServeTLS(ln, "", "")
	}
	return s.Server.Serve(ln)
}
