package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/understudy-dev/understudy/internal/testio"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		testio.RemoveBinaries()
		os.Exit(code)
	}))
}
