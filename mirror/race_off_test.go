//go:build !race

package mirror

// raceEnabled reports that the race detector is on.
const raceEnabled = false
