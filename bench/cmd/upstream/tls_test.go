package main

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/internal/testio"
)

// TestServeTLS starts the servers with -tls-cert and -tls-key: the
// address file names https:// URLs, and a client trusting the CA gets the
// answer over h2 (by ALPN) and over HTTP/1.1 when it offers only that.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	ca, err := testio.NewCA("upstream test CA")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.Server("127.0.0.1", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := testio.WriteFile(dir, "server.pem", pair.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	key, err := testio.WriteFile(dir, "server-key.pem", pair.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	addrs := filepath.Join(dir, "addrs.txt")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := config{serve: listFlag{"p=0ms"}, addrs: addrs, tlsCert: cert, tlsKey: key}
	go func() { done <- run(ctx, cfg) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && err != context.Canceled {
			t.Errorf("run: %v", err)
		}
	}()
	var url string
	testio.Eventually(t, "the address file", func() bool {
		b, err := os.ReadFile(addrs)
		url = strings.TrimSpace(strings.TrimPrefix(string(b), "p="))
		return err == nil && url != ""
	})
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("address %q, want an https:// URL", url)
	}
	for _, h1 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, ForceAttemptHTTP2: true}
		want := "HTTP/2.0"
		if h1 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			want = "HTTP/1.1"
		}
		resp, err := (&http.Client{Transport: tr}).Get(url + "/orders/42")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		if resp.Proto != want || string(body) != answer {
			t.Errorf("got %s %q, want %s %q", resp.Proto, body, want, answer)
		}
	}
	if err := run(context.Background(), config{serve: listFlag{"p=0ms"}, tlsCert: cert}); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Errorf("-tls-cert without -tls-key: err = %v", err)
	}
}
