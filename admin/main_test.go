package admin

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: server
// loops, stream handlers, profilers and client connections must all end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
