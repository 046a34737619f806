package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The tuner gives the garbage collector headroom for the run synth is
// making, unless GOGC is set in the environment: the collector runs once
// the heap has grown by about gcHeadroom, not by 100% of a live heap of
// two or three MiB (the run's histograms and the program's tables), which
// at thousands of requests a second collected several times a second,
// each time scanning the same tables again and waking threads. A large
// live heap (a big feeder file) keeps GOGC's 100%.
//
// It leaves GOMAXPROCS alone. Fewer Ps would cost less CPU per request
// at modest rates (each hand-off between goroutines wakes an idle P's
// thread, which spins and sleeps again: about a tenth of synth's CPU at
// 2,000/s on two cores), but with one P an answer waits for the P before
// its latency is taken: in bench's synth section, p50 at 2,500/s was
// 1,515 µs with one P against 718 µs with two (vegeta: 271-381 µs). A
// load tester's latencies are what its assertions and guardrails judge,
// so they are not traded for CPU; GOMAXPROCS=1 in the environment makes
// that trade for whoever wants it.

// gcHeadroom is how much the heap may grow past the live heap before a
// collection, at the least.
const gcHeadroom = 8 << 20

// tuneTick is how often the tuner looks at the live heap.
const tuneTick = time.Second

// gcMinHeap is the Go runtime's minimum heap goal at GOGC=100; it scales
// with GOGC.
const gcMinHeap = 4 << 20

// gcPercentFor returns the GOGC under which a heap whose live part is live
// bytes is collected once it has grown by about gcHeadroom, and never by
// less than GOGC's default 100%. The runtime's goal is the larger of
// live*(1+GOGC/100) and gcMinHeap*GOGC/100: both are kept at or under
// live+gcHeadroom.
func gcPercentFor(live uint64) int {
	live = max(live, 1<<20) // before the first collection: as if 1 MiB
	target := live + gcHeadroom
	return max(100, int(min(gcHeadroom*100/live, target*100/gcMinHeap)))
}

// tuner keeps the collector's headroom fitting one run; see above.
type tuner struct {
	oldGC  int // GOGC before the run, restored after it
	live   []metrics.Sample
	lastGC int // the GOGC last set
	stop   chan struct{}
	done   sync.WaitGroup
}

// tuneRuntime gives the collector headroom for the run, and keeps it
// fitting the live heap while the run lasts; the returned func stops it
// and restores the default.
func tuneRuntime() (stop func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	t := &tuner{stop: make(chan struct{}), live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.lastGC = gcPercentFor(t.liveHeap())
	t.oldGC = debug.SetGCPercent(t.lastGC)
	t.done.Go(t.loop)
	return func() {
		close(t.stop)
		t.done.Wait()
		debug.SetGCPercent(t.oldGC)
	}
}

func (t *tuner) loop() {
	tick := time.NewTicker(tuneTick)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			// Only a change by a quarter or more: the live heap moves a
			// little at every collection.
			if pct := gcPercentFor(t.liveHeap()); 4*abs(pct-t.lastGC) >= t.lastGC {
				debug.SetGCPercent(pct)
				t.lastGC = pct
			}
		}
	}
}

// liveHeap returns the bytes the last collection found live, or 0 before
// the first one.
func (t *tuner) liveHeap() uint64 {
	metrics.Read(t.live)
	if t.live[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return t.live[0].Value.Uint64()
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
