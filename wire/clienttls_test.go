package wire

import (
	"crypto/tls"
	"strings"
	"testing"
)

func TestClientTLSConfig(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	dir := t.TempDir()
	caFile := writeCA(t, ca)
	pair, err := ca.Client("me")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := writePair(t, dir, pair)
	garbage := writeFile(t, dir, "garbage.pem", []byte("not PEM"))
	tests := []struct {
		name  string
		tls   ClientTLS
		want  string // in the error; "" for none
		check func(t *testing.T, c *tls.Config)
	}{
		{name: "zero: system roots", check: func(t *testing.T, c *tls.Config) {
			if c.RootCAs != nil || len(c.Certificates) != 0 || c.InsecureSkipVerify || c.MinVersion != tls.VersionTLS12 {
				t.Errorf("got roots %v, %d certificates, skip %v, min %x; want the system's, none, false, TLS 1.2",
					c.RootCAs, len(c.Certificates), c.InsecureSkipVerify, c.MinVersion)
			}
		}},
		{name: "everything", tls: ClientTLS{CAFile: caFile, CertFile: certFile, KeyFile: keyFile, ServerName: "api.internal"},
			check: func(t *testing.T, c *tls.Config) {
				if c.RootCAs == nil || len(c.Certificates) != 1 || c.ServerName != "api.internal" {
					t.Errorf("got roots %v, %d certificates, name %q", c.RootCAs, len(c.Certificates), c.ServerName)
				}
			}},
		{name: "skip verify", tls: ClientTLS{InsecureSkipVerify: true}, check: func(t *testing.T, c *tls.Config) {
			if !c.InsecureSkipVerify {
				t.Error("verification not skipped")
			}
		}},
		{name: "cert without key", tls: ClientTLS{CertFile: certFile}, want: "cert_file and key_file: want both"},
		{name: "skip verify with a CA", tls: ClientTLS{CAFile: caFile, InsecureSkipVerify: true}, want: "ca_file: set with insecure_skip_verify"},
		{name: "missing CA", tls: ClientTLS{CAFile: dir + "/nope.pem"}, want: "ca_file: open " + dir + "/nope.pem"},
		{name: "CA not PEM", tls: ClientTLS{CAFile: garbage}, want: `ca_file: "` + garbage + `" holds no PEM certificate`},
		{name: "bad pair", tls: ClientTLS{CertFile: garbage, KeyFile: keyFile}, want: `cert_file "` + garbage + `" and key_file`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.tls.Config()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Config: %v", err)
			case tc.want != "":
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Config: %v, want an error with %q", err, tc.want)
				}
				return
			}
			tc.check(t, c)
		})
	}
}

func TestProtocol(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p      Protocol
		scheme string
		client int
		want   string // http.Protocols.String, or the error
	}{
		{"", "https", 1, "{HTTP1}"},
		{"", "https", 2, "{HTTP1,HTTP2}"},
		{Auto, "https", 0, "{HTTP1,HTTP2}"},
		{Auto, "http", 2, "{HTTP1}"},
		{HTTP1, "https", 2, "{HTTP1}"},
		{H2, "https", 1, "{HTTP2}"},
		{H2C, "http", 1, "{UnencryptedHTTP2}"},
		{H2, "http", 1, `"h2" needs an https:// upstream`},
		{H2C, "https", 1, `"h2c" needs an http:// upstream`},
		{"h3", "https", 1, `"h3" is not a protocol; want auto, http1, h2 or h2c`},
	}
	for _, tc := range tests {
		got := ""
		if err := tc.p.Validate(tc.scheme); err != nil {
			got = err.Error()
		} else {
			got = tc.p.Protocols(tc.scheme, tc.client).String()
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q to %s for HTTP/%d: %s, want %s", tc.p, tc.scheme, tc.client, got, tc.want)
		}
	}
}
