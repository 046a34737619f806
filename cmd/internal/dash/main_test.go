package dash

import (
	"fmt"
	"os"
	"testing"

	"github.com/understudy-dev/understudy/internal/testio"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testio.RemoveBinaries()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
