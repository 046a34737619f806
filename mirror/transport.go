package mirror

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// newTransport returns a transport tuned for proxying to a few hosts:
// keep-alives with many idle connections per host (the default of 2 makes a
// busy proxy open and close a connection per request), no transparent
// gzip (the upstream's bytes must reach the client unchanged, and copies
// must be asked for exactly what the primary was asked for), and no
// environment proxy (a sidecar talks to its upstreams directly). Its TLS
// settings and protocols are the upstream's (newUpstream).
func newTransport(maxIdlePerHost int) *http.Transport {
	return &http.Transport{
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConnsPerHost:   maxIdlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		DisableCompression:    true,
	}
}

// closeIdle closes the idle connections of rt, if it keeps any, so that
// their goroutines end with the proxy.
func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// copyBufferSize is the size of the buffers ReverseProxy copies answers
// through; 32 KiB is what it allocates itself when it has no pool.
const copyBufferSize = 32 << 10

// bufferPool lends ReverseProxy its copy buffers, so that answers are not
// copied through a fresh 32 KiB allocation per request. It stores array
// pointers rather than slices: a pointer fits in an interface, so Put does
// not allocate either.
type bufferPool struct{ pool sync.Pool }

// Get returns a buffer of copyBufferSize bytes.
func (b *bufferPool) Get() []byte {
	if v, ok := b.pool.Get().(*[copyBufferSize]byte); ok {
		return v[:]
	}
	return new([copyBufferSize]byte)[:]
}

// Put returns a buffer from Get to the pool.
func (b *bufferPool) Put(buf []byte) {
	if len(buf) == copyBufferSize {
		b.pool.Put((*[copyBufferSize]byte)(buf))
	}
}
