package scenarios

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// TestLimitDials proves that no more than n dials run at once, that the
// others wait their turn rather than fail, and that a waiting dial gives
// up when its context ends.
func TestLimitDials(t *testing.T) {
	t.Parallel()
	const n, callers = 3, 20
	release := make(chan struct{})
	entered := make(chan struct{}, callers)
	var mu sync.Mutex
	running, most := 0, 0
	dial := limitDials(func(ctx context.Context, _, _ string) (net.Conn, error) {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		entered <- struct{}{}
		<-release
		mu.Lock()
		running--
		mu.Unlock()
		return nil, nil
	}, n)

	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := dial(context.Background(), "tcp", "127.0.0.1:1")
			errs <- err
		})
	}
	timeout := time.After(20 * time.Second)
	for range n { // n dials get in; the rest wait for a slot
		select {
		case <-entered:
		case <-timeout:
			t.Fatal("the first dials did not start")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan error, 1)
	go func() {
		_, err := dial(ctx, "tcp", "127.0.0.1:1")
		waiting <- err
	}()
	cancel()
	select {
	case err := <-waiting:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiting dial: err = %v, want context.Canceled", err)
		}
	case <-timeout:
		t.Fatal("a waiting dial did not give up when its context ended")
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("dial: %v, want every dial to run in its turn", err)
		}
	}
	if most != n {
		t.Errorf("at most %d dials ran at once, want %d", most, n)
	}
}
