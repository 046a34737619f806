package testio

import (
	"testing"
	"time"
)

// WaitTimeout bounds every wait of this package's helpers. It is
// generous, since the machine running the tests may be loaded, and only a
// failing test ever reaches it.
const WaitTimeout = 30 * time.Second

// Eventually polls cond until it holds, and fails t when it still does not
// after WaitTimeout, saying what it waited for. It polls often at first and
// less often later, so a quick condition costs little time and a slow one
// little CPU. In a testing/synctest bubble it waits on the bubble's clock.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !poll(cond, time.Millisecond) {
		t.Fatalf("timed out after %v waiting for %s", WaitTimeout, what)
	}
}

// WaitFor polls what b holds until match accepts it, and returns it; when
// it does not within WaitTimeout, it fails t showing what b holds.
func (b *Buffer) WaitFor(t testing.TB, what string, match func(string) bool) string {
	t.Helper()
	var s string
	if !poll(func() bool { s = b.String(); return match(s) }, time.Millisecond) {
		t.Fatalf("timed out after %v waiting for %s; the output is:\n%s", WaitTimeout, what, s)
	}
	return s
}

// poll calls cond until it holds or WaitTimeout passes, sleeping from
// interval up to 50ms between calls, and reports whether it held.
func poll(cond func() bool, interval time.Duration) bool {
	deadline := time.Now().Add(WaitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
		interval = min(2*interval, 50*time.Millisecond)
	}
	return true
}
