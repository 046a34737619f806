package capture

import (
	"testing"

	"go.uber.org/goleak"
)

// The Writer runs a flush goroutine; every test must leave none behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
