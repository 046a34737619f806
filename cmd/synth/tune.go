package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The tuner sizes the Go runtime to the run synth is making, in two ways,
// each left alone when its environment variable (GOMAXPROCS, GOGC) is set:
//
//   - Ps (GOMAXPROCS): as many as the rate needs (procsFor) rather than
//     one per core. A load generator at a modest rate gains nothing from
//     more: every hand-off between goroutines (pacer to journey, journey
//     to the connection's writer, reader to journey) wakes an idle P's
//     thread, which spins, finds nothing and sleeps again. Those futex
//     calls and context switches were the largest share of synth's CPU
//     per request at 2,000/s on two cores, beside the requests' own
//     syscalls. A faster run, or one busier than procsBusy, gets more, up
//     to the default.
//   - GC headroom: the collector runs once the heap has grown by about
//     gcHeadroom, not by 100% of a live heap of two or three MiB (the run's
//     histograms and the program's tables), which at thousands of
//     requests a second collected several times a second, each time
//     scanning the same tables again and waking threads (at 2,000/s on
//     one P: about 3,000 context switches a second of the 6,500). A large
//     live heap (a big feeder file) keeps GOGC's 100%.

// ratePerProc is the rate, in journeys per second, that one of the Go
// runtime's Ps carries for synth with room to spare: at 2,000/s a one-step
// journey costs synth about a fifth of a core.
const ratePerProc = 4000

// procsBusy is the share of its Ps' time a run may use before the tuner
// gives it another P, whatever its rate: a scenario heavier than a small
// GET (TLS, large bodies, many templates) needs more per journey.
const procsBusy = 0.75

// gcHeadroom is how much the heap may grow past the live heap before a
// collection, at the least.
const gcHeadroom = 8 << 20

// tuneTick is how often the tuner looks at the rate, the CPU used and the
// live heap.
const tuneTick = time.Second

// procsFor returns how many Ps a run at rate needs: one per ratePerProc,
// at least one and at most limit.
func procsFor(rate float64, limit int) int {
	n := 1
	if rate > ratePerProc && !math.IsInf(rate, 0) && !math.IsNaN(rate) {
		n = int(math.Ceil(rate / ratePerProc))
	}
	return min(n, limit)
}

// nextProcs returns the Ps for the next tick and the floor to keep: the
// rate's need (want), raised for good (floor) by one each time the run
// used more than procsBusy of the Ps it had (busy, in cores over the last
// tick), never above limit.
func nextProcs(cur, want, floor int, busy float64, limit int) (next, newFloor int) {
	if busy > procsBusy*float64(cur) {
		floor = max(floor, cur+1)
	}
	floor = min(floor, limit)
	return max(want, floor), floor
}

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

// tuner keeps the runtime sized to one run; see above.
type tuner struct {
	peak   func() float64 // the run's highest planned rate from now on
	procs  bool           // sizing GOMAXPROCS
	gc     bool           // sizing GOGC
	limit  int            // the default GOMAXPROCS: the most it gives
	oldGC  int            // GOGC before the run, restored after it
	live   []metrics.Sample
	lastGC int // the GOGC last set
	stop   chan struct{}
	done   sync.WaitGroup
}

// tuneRuntime sizes the runtime for the run whose highest planned rate
// peak returns, and keeps it fitting while the run lasts; the returned
// func stops it and restores the defaults.
func tuneRuntime(peak func() float64) (stop func()) {
	t := &tuner{peak: peak, limit: runtime.GOMAXPROCS(0), stop: make(chan struct{}),
		live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.procs = os.Getenv("GOMAXPROCS") == "" && t.limit > 1
	t.gc = os.Getenv("GOGC") == ""
	if !t.procs && !t.gc {
		return func() {}
	}
	cur := 0
	if t.procs {
		cur = procsFor(peak(), t.limit)
		runtime.GOMAXPROCS(cur)
	}
	if t.gc {
		t.lastGC = gcPercentFor(t.liveHeap())
		t.oldGC = debug.SetGCPercent(t.lastGC)
	}
	t.done.Go(func() { t.loop(cur) })
	return func() {
		close(t.stop)
		t.done.Wait()
		if t.procs {
			runtime.SetDefaultGOMAXPROCS()
		}
		if t.gc {
			debug.SetGCPercent(t.oldGC)
		}
	}
}

func (t *tuner) loop(cur int) {
	tick := time.NewTicker(tuneTick)
	defer tick.Stop()
	floor := 1
	lastCPU, lastWall := processCPU(), time.Now()
	for {
		select {
		case <-t.stop:
			return
		case now := <-tick.C:
			if t.gc {
				// Only a change by a quarter or more: the live heap
				// moves a little at every collection.
				if pct := gcPercentFor(t.liveHeap()); 4*abs(pct-t.lastGC) >= t.lastGC {
					debug.SetGCPercent(pct)
					t.lastGC = pct
				}
			}
			if !t.procs {
				continue
			}
			cpu := processCPU()
			busy := float64(cpu-lastCPU) / float64(now.Sub(lastWall))
			lastCPU, lastWall = cpu, now
			var next int
			next, floor = nextProcs(cur, procsFor(t.peak(), t.limit), floor, busy, t.limit)
			if next != cur {
				runtime.GOMAXPROCS(next)
				cur = next
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
