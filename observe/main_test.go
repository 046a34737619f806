package observe

import (
	"testing"

	"go.uber.org/goleak"
)

// A Pipeline runs a writer goroutine; every test must leave none behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
