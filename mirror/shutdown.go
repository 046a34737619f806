package mirror

import (
	"context"
	"runtime"
)

// Shutdown stops taking copies, then lets the queued copies and those in
// flight finish until ctx is done; then it cancels the rest. It returns how
// many copies were abandoned (cancelled or never sent; they do not reach the
// observer) and ctx's error if it ran out of time. When it returns, every
// goroutine the proxy started has ended. It is safe to call more than once,
// and concurrently.
//
// Shutdown does not stop the proxy from serving clients: requests arriving
// after it began are still forwarded to the primary, just not mirrored.
// Call http.Server.Shutdown first so client requests drain, then this.
func (p *Proxy) Shutdown(ctx context.Context) (abandoned int, err error) {
	p.stopOnce.Do(p.stopTaking)
	select {
	case <-p.done:
	case <-ctx.Done():
		p.hardCancel()
		<-p.done // quick: every copy's context is now cancelled
		err = ctx.Err()
	}
	p.hardCancel() // release the context; nothing is left to cancel
	p.closeIdle()
	c := &p.counters
	n := c.abandoned.Load()
	p.log.Info("mirror stopped", "received", c.received.Load(), "mirrored", c.mirrored.Load(),
		"completed", c.completed.Load(), "dropped", c.dropped.Load(), "abandoned", n)
	return int(n), err
}

// Close stops the proxy at once: copies queued or in flight are abandoned.
// It is Shutdown with no grace period.
func (p *Proxy) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = p.Shutdown(ctx)
	return nil
}

// stopTaking makes ServeHTTP stop queueing copies and closes the queue, so
// workers return once it is empty.
func (p *Proxy) stopTaking() {
	p.closing.Store(true)
	p.stopWebSockets()
	// Wait out the ServeHTTP calls that checked closing before it was set
	// and are about to send (see enqueue): a handful of instructions each.
	for p.enqueuing.Load() != 0 {
		runtime.Gosched()
	}
	close(p.queue)
	for _, l := range p.lanes[1:] {
		close(l.queue)
	}
}
