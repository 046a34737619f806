package metrics

import (
	"fmt"
	"sync"
	"testing"
)

// TestLimiter: the first max distinct values keep their name, for good;
// every later one is Other; Other itself takes no slot.
func TestLimiter(t *testing.T) {
	t.Parallel()
	l := newLimiter(2)
	steps := []struct{ in, want string }{
		{Other, Other},
		{"a", "a"},
		{"b", "b"},
		{"c", Other},
		{"a", "a"},
		{"b", "b"},
		{"d", Other},
		{"c", Other},
	}
	for i, s := range steps {
		if got := l.value(s.in); got != s.want {
			t.Errorf("step %d: value(%q) = %q, want %q", i, s.in, got, s.want)
		}
	}
	if got := newLimiter(0).max; got != DefaultMaxLabelValues {
		t.Errorf("newLimiter(0).max = %d, want %d", got, DefaultMaxLabelValues)
	}
}

// TestLimiterConcurrent: many goroutines offering many values admit
// exactly max of them, and each goroutine sees a value admitted or not
// the same way every time.
func TestLimiterConcurrent(t *testing.T) {
	t.Parallel()
	const max, goroutines, values = 10, 8, 100
	l := newLimiter(max)
	var wg sync.WaitGroup
	seen := make([]map[string]string, goroutines)
	for g := range goroutines {
		seen[g] = map[string]string{}
		wg.Go(func() {
			for round := range 3 {
				for v := range values {
					in := fmt.Sprint((v + g*7) % values)
					got := l.value(in)
					if prev, ok := seen[g][in]; ok && prev != got {
						t.Errorf("goroutine %d round %d: %q became %q, was %q", g, round, in, got, prev)
					}
					seen[g][in] = got
				}
			}
		})
	}
	wg.Wait()
	admitted := map[string]bool{}
	for _, m := range seen {
		for in, got := range m {
			if got == in {
				admitted[in] = true
			} else if got != Other {
				t.Errorf("value(%q) = %q, want itself or %q", in, got, Other)
			}
		}
	}
	if len(admitted) != max {
		t.Errorf("%d values admitted, want %d: %v", len(admitted), max, admitted)
	}
}
