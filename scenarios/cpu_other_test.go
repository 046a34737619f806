//go:build !unix

package scenarios

import "time"

// processCPU is not available here: benchmarks leave out their CPU figures.
func processCPU() (time.Duration, bool) { return 0, false }
