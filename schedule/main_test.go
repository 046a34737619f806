package schedule

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: the cron
// loop, attempts, runners and their connections must all end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
