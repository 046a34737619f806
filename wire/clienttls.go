package wire

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ClientTLS is how connections to one https upstream are secured: which
// CA to trust, which certificate to present, which name to verify. The
// zero value trusts the system's roots, presents no certificate and
// verifies the URL's host name.
//
// The files are read once, by Config; rotating them needs a restart.
type ClientTLS struct {
	// CAFile is a PEM file of the CA certificates that sign the upstream's
	// certificate (a private CA). When set, only they are trusted, not the
	// system's roots. "" means the system's roots.
	CAFile string `mapstructure:"ca_file" yaml:"ca_file" json:"ca_file,omitempty"`
	// CertFile and KeyFile are a PEM certificate and its key presented to
	// an upstream that asks for one (mTLS). Both or neither.
	CertFile string `mapstructure:"cert_file" yaml:"cert_file" json:"cert_file,omitempty"`
	KeyFile  string `mapstructure:"key_file" yaml:"key_file" json:"key_file,omitempty"`
	// ServerName is the name the upstream's certificate must carry, and
	// the SNI sent, when it differs from the URL's host (an upstream
	// reached by IP address). "" means the URL's host.
	ServerName string `mapstructure:"server_name" yaml:"server_name" json:"server_name,omitempty"`
	// InsecureSkipVerify accepts any certificate the upstream presents,
	// so the connection is encrypted but not authenticated: anyone on the
	// path can read and change it. For a test upstream with a throwaway
	// certificate only; it is logged as a warning at start.
	InsecureSkipVerify bool `mapstructure:"insecure_skip_verify" yaml:"insecure_skip_verify" json:"insecure_skip_verify,omitempty"`
}

// IsZero reports whether t sets nothing.
func (t ClientTLS) IsZero() bool { return t == ClientTLS{} }

// Validate reports every bad field of t, each named by its key
// ("cert_file"), without reading the files (Config does).
func (t ClientTLS) Validate() error {
	var errs []error
	if (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, errors.New("cert_file and key_file: want both (a client certificate and its key) or neither"))
	}
	if t.InsecureSkipVerify && t.CAFile != "" {
		errs = append(errs, errors.New("ca_file: set with insecure_skip_verify, which trusts any certificate; want one of them"))
	}
	return errors.Join(errs...)
}

// Config reads t's files and returns the client TLS configuration: at
// least TLS 1.2, the CA, certificate and server name t names. Each call
// returns a new tls.Config, which the caller may change (an
// http.Transport sets its NextProtos).
func (t ClientTLS) Config() (*tls.Config, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	c := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // explicit, documented and logged
	}
	if t.CAFile != "" {
		pool, err := readPool(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		c.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("cert_file %q and key_file %q: %w", t.CertFile, t.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// readPool reads a PEM file of CA certificates into a pool of its own.
func readPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%q holds no PEM certificate", path)
	}
	return pool, nil
}
