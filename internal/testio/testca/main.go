// Command testca writes a throwaway private CA and certificates issued by
// it, for benchmarks and manual tests of TLS (never for production):
//
//	go run ./internal/testio/testca -out DIR [-host 127.0.0.1,localhost]
//
// DIR gets ca.pem (the CA: a ca_file or client_ca_file), server.pem and
// server-key.pem (for the hosts), client.pem and client-key.pem (a client
// certificate for mTLS), all mode 0600.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/understudy-dev/understudy/internal/testio"
)

func main() {
	out := flag.String("out", "", "directory to write the files to (created if missing)")
	hosts := flag.String("host", "127.0.0.1,localhost", "comma-separated names and addresses the server certificate is for")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: testca -out DIR [-host 127.0.0.1,localhost]")
		os.Exit(2)
	}
	if err := write(*out, strings.Split(*hosts, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "testca:", err)
		os.Exit(1)
	}
}

func write(dir string, hosts []string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := testio.NewCA("understudy test CA")
	if err != nil {
		return err
	}
	server, err := ca.Server(hosts[0], hosts...)
	if err != nil {
		return err
	}
	client, err := ca.Client("understudy test client")
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"ca.pem": ca.PEM, "server.pem": server.CertPEM, "server-key.pem": server.KeyPEM,
		"client.pem": client.CertPEM, "client-key.pem": client.KeyPEM,
	} {
		if _, err := testio.WriteFile(dir, name, data); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}
