package mirror

import (
	"flag"
	"log/slog"
	"testing"

	"go.uber.org/goleak"
)

// update rewrites golden files under testdata/ instead of comparing.
var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// discardLogger keeps expected warnings (primary down, queue full) out of
// the test output.
var discardLogger = slog.New(slog.DiscardHandler)

// TestMain fails the package if any goroutine outlives the tests: the proxy
// promises that none outlives Shutdown.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
