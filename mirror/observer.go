package mirror

import "github.com/understudy-dev/understudy/exchange"

// Observer receives each joined exchange: the compare engine, a capture
// file, a test. Observe is called from worker goroutines, concurrently; it
// owns x after the call. It should be quick: a slow observer holds a
// worker, so copies queue up and are eventually dropped. It is never on
// the client's path.
type Observer interface {
	Observe(x *exchange.Exchange)
}

// ObserverFunc adapts a function to an Observer.
type ObserverFunc func(*exchange.Exchange)

// Observe calls f(x).
func (f ObserverFunc) Observe(x *exchange.Exchange) { f(x) }
