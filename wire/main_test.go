package wire

import (
	"crypto/tls"
	"io"
	"log"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/understudy-dev/understudy/internal/testio"
)

// wait bounds every wait in the tests: generous for a loaded machine,
// finite so a broken test fails instead of hanging.
const wait = 10 * time.Second

// quietLog keeps the servers' expected complaints (handshakes refused on
// purpose) out of the test output.
var quietLog = log.New(io.Discard, "", 0)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newCA returns a private CA for t.
func newCA(t testing.TB) *testio.CA {
	t.Helper()
	ca, err := testio.NewCA(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// issue returns a server certificate from ca for 127.0.0.1 and localhost.
func issue(t testing.TB, ca *testio.CA, cn string) testio.Pair {
	t.Helper()
	p, err := ca.Server(cn, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// serverCert is issue as a tls.Certificate.
func serverCert(t testing.TB, ca *testio.CA) tls.Certificate {
	t.Helper()
	c, err := issue(t, ca, "server").TLS()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeFile writes data to name in dir (see testio.WriteFile).
func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p, err := testio.WriteFile(dir, name, data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeCA writes ca's certificate to a file of t's and returns its path.
func writeCA(t testing.TB, ca *testio.CA) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "ca.pem", ca.PEM)
}
