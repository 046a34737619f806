package metrics

import "sync"

// DefaultMaxLabelValues is how many distinct values a step label takes
// before further values are reported as Other.
const DefaultMaxLabelValues = 200

// DefaultMaxRoutes is how many distinct values the route label of the
// shadow metrics takes before further routes are reported as Other. It is
// lower than DefaultMaxLabelValues because a route costs about 40 series
// (56 with a secondary): two or three latency histograms of 16 series
// each, three diff kinds, four outcomes and one differing count; 50
// routes stay under 3,000 series per replica.
const DefaultMaxRoutes = 50

// Other is the label value that stands for every route or step beyond
// the cap, so one misconfigured templating rule cannot create a series per
// raw path.
const Other = "other"

// limiter hands out label values: the first max distinct values keep
// their name for the life of the process, every later one becomes Other.
// It is sticky so a series never changes name between two scrapes. It is
// safe for concurrent use; the common case (a value already admitted)
// takes a read lock only.
type limiter struct {
	max int

	mu   sync.RWMutex
	seen map[string]struct{}
}

func newLimiter(max int) *limiter {
	if max <= 0 {
		max = DefaultMaxLabelValues
	}
	return &limiter{max: max, seen: make(map[string]struct{})}
}

// value returns v when it is admitted (now or earlier), Other otherwise.
func (l *limiter) value(v string) string {
	l.mu.RLock()
	_, ok := l.seen[v]
	full := len(l.seen) >= l.max
	l.mu.RUnlock()
	if ok {
		return v
	}
	if full || v == Other {
		return Other
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[v]; ok {
		return v
	}
	if len(l.seen) >= l.max {
		return Other
	}
	l.seen[v] = struct{}{}
	return v
}
