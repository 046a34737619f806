package wire

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCertCheckInterval is how often, at most, the listener looks at
// its certificate files for a change: a handshake after that checks them
// (a stat of each), and loads the pair when either changed.
const DefaultCertCheckInterval = 5 * time.Second

// certReloader serves a certificate pair from files and re-reads them when
// they change, so that a rotated certificate (cert-manager, a renewed
// Let's Encrypt pair) is served without a restart. A new pair that does
// not load (the key not written yet, a mismatch) is logged once and the
// old one kept.
type certReloader struct {
	certFile, keyFile string
	every             time.Duration
	log               *slog.Logger

	cert atomic.Pointer[tls.Certificate]

	mu     sync.Mutex // guards what follows; handshakes never wait for it
	next   time.Time  // when to look at the files again
	loaded fileStamp  // the files as they were when cert was loaded
	bad    *fileStamp // the files as they were when they last failed to load
}

// fileStamp tells whether files changed: their identity, size and
// modification time.
type fileStamp [2]os.FileInfo

func (a fileStamp) same(b fileStamp) bool {
	for i := range a {
		switch {
		case a[i] == nil || b[i] == nil: // a file that was missing
			if a[i] != b[i] {
				return false
			}
		case !os.SameFile(a[i], b[i]) || a[i].Size() != b[i].Size() || !a[i].ModTime().Equal(b[i].ModTime()):
			return false
		}
	}
	return true
}

// newCertReloader loads the pair, or fails naming the files.
func newCertReloader(certFile, keyFile string, every time.Duration, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, every: every, log: log}
	st, err := r.stat()
	if err == nil {
		err = r.load(st)
	}
	if err != nil {
		return nil, err
	}
	r.next = time.Now().Add(every)
	return r, nil
}

// stat returns the files' stamp.
func (r *certReloader) stat() (fileStamp, error) {
	var st fileStamp
	for i, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return st, fmt.Errorf("certificate: %w", err)
		}
		st[i] = fi
	}
	return st, nil
}

// load reads the pair and serves it from now on.
func (r *certReloader) load(st fileStamp) error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("certificate %q with key %q: %w", r.certFile, r.keyFile, err)
	}
	r.cert.Store(&c)
	r.loaded = st
	return nil
}

// getCertificate is tls.Config.GetCertificate: the current pair, after a
// look at the files when it is time for one. A handshake that finds
// another one looking serves the current pair rather than wait.
func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if r.mu.TryLock() {
		r.check(time.Now())
		r.mu.Unlock()
	}
	return r.cert.Load(), nil
}

// check reloads the pair if its files changed. Callers hold mu.
func (r *certReloader) check(now time.Time) {
	if now.Before(r.next) {
		return
	}
	r.next = now.Add(r.every)
	st, err := r.stat()
	switch {
	case err == nil && st.same(r.loaded):
		return // unchanged
	case r.bad != nil && st.same(*r.bad):
		return // the same bad pair (or missing file) as last time: logged then
	}
	if err == nil {
		if err = r.load(st); err == nil {
			r.bad = nil
			r.log.Info("listener certificate reloaded", "cert_file", r.certFile, "not_after", r.cert.Load().Leaf.NotAfter)
			return
		}
	}
	r.bad = &st
	r.log.Warn("listener certificate not reloaded: keeping the one loaded before", "err", err)
}
