// Command plainproxy is the harness's no-mirroring baseline: a plain
// net/http/httputil.ReverseProxy in front of one upstream, with the same
// transport tuning and copy-buffer pool as mirror's primary path, so the
// difference between it and shadow is what mirroring costs.
//
//	plainproxy -listen 127.0.0.1:0 -upstream http://127.0.0.1:8081 [-flush-interval -1ns]
//
// -flush-interval is ReverseProxy's FlushInterval: 0 flushes an answer
// with a Content-Length only when its copy buffer fills or the body ends;
// negative flushes after every write (streaming what the upstream sends as
// it arrives), which the harness measures the cost of.
//
// With -tls-cert and -tls-key it serves HTTPS (h2 and HTTP/1.1 by ALPN);
// -ca trusts a private CA for an https:// upstream, spoken to in h2 by
// ALPN where it offers it, as mirror's transport does.
//
// It prints "listening on http://ADDR" (or https://) once it accepts connections and
// serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	upstream := flag.String("upstream", "", "base URL of the upstream")
	flush := flag.Duration("flush-interval", 0, "ReverseProxy.FlushInterval (negative: flush after every write)")
	var tc tlsFlags
	flag.StringVar(&tc.ca, "ca", "", "PEM CAs trusted for an https:// upstream instead of the system's")
	flag.StringVar(&tc.cert, "tls-cert", "", "serve HTTPS (h2 and http/1.1 by ALPN) with this PEM certificate; needs -tls-key")
	flag.StringVar(&tc.key, "tls-key", "", "the PEM key of -tls-cert")
	flag.Parse()
	if err := run(ctx, *listen, *upstream, *flush, tc); err != nil {
		fmt.Fprintln(os.Stderr, "plainproxy:", err)
		os.Exit(1)
	}
}

// tlsFlags are the TLS settings: the upstream's CA, the listener's
// certificate and key; all empty is plain HTTP on both sides.
type tlsFlags struct{ ca, cert, key string }

func run(ctx context.Context, listen, upstream string, flush time.Duration, tc tlsFlags) error {
	u, err := url.Parse(upstream)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("-upstream %q: want a base URL such as http://127.0.0.1:8081", upstream)
	}
	transport := &http.Transport{ // as mirror's newTransport
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	defer transport.CloseIdleConnections()
	if tc.ca != "" {
		pem, err := os.ReadFile(tc.ca)
		if err != nil {
			return fmt.Errorf("-ca: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("-ca %s: no PEM certificate in it", tc.ca)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	if (tc.cert == "") != (tc.key == "") {
		return fmt.Errorf("-tls-cert and -tls-key go together")
	}
	rp := &httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
		Transport:     transport,
		BufferPool:    &bufferPool{},
		FlushInterval: flush,
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen %q: %w", listen, err)
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if tc.cert != "" {
		scheme = "https"
	}
	fmt.Printf("listening on %s://%s\n", scheme, ln.Addr())
	errc := make(chan error, 1)
	go func() {
		if tc.cert != "" {
			errc <- srv.ServeTLS(ln, tc.cert, tc.key) // h2 by ALPN
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// bufferPool lends ReverseProxy 32 KiB copy buffers, as mirror does.
type bufferPool struct{ pool sync.Pool }

// Get returns a 32 KiB buffer.
func (b *bufferPool) Get() []byte {
	if v, ok := b.pool.Get().(*[32 << 10]byte); ok {
		return v[:]
	}
	return new([32 << 10]byte)[:]
}

// Put returns a buffer from Get.
func (b *bufferPool) Put(buf []byte) {
	if len(buf) == 32<<10 {
		b.pool.Put((*[32 << 10]byte)(buf))
	}
}
