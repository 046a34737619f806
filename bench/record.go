package bench

import (
	"encoding/json"
	"fmt"
	"math"
)

// LatencyRecord is one cell of the added-latency matrix: one target, in
// one group (the primary's delay), in one round, at a fixed open-model
// rate. Latencies are measured from each request's intended send time, so
// a stall shows up as latency rather than as a lower rate. The loadgen
// command writes one per line (JSON).
type LatencyRecord struct {
	// Group names the condition the row belongs to, such as "1ms" (the
	// primary's answer delay).
	Group string `json:"group"`
	// Target names the path under test: "direct", "plain", "shadow-fast"...
	Target string `json:"target"`
	// Round counts from 1; rounds interleave the targets.
	Round int `json:"round"`
	// Rate is the intended requests per second; DurationS the measured
	// window in seconds (warm-up excluded).
	Rate      float64 `json:"rate"`
	DurationS float64 `json:"duration_s"`
	// Sent counts requests sent in the window; OK those answered 200;
	// Errors the rest (status, transport error or timeout); Skipped the
	// sends left out because MaxInFlight requests were already waiting.
	Sent    int64 `json:"sent"`
	OK      int64 `json:"ok"`
	Errors  int64 `json:"errors"`
	Skipped int64 `json:"skipped"`
	// Latency percentiles of the answered requests, in microseconds.
	P50us  float64 `json:"p50_us"`
	P90us  float64 `json:"p90_us"`
	P99us  float64 `json:"p99_us"`
	MaxUs  float64 `json:"max_us"`
	MeanUs float64 `json:"mean_us"`
	// Mirror holds the proxy's counters over the window when the target
	// has an admin endpoint; nil otherwise.
	Mirror *MirrorDelta `json:"mirror,omitempty"`
	// CPUus is the CPU time, in µs, the target's processes (Procs of
	// them: the proxy, or nginx's master and workers, or the upstream for
	// a direct target) used from the start of the window until they were
	// idle again after its last answer (at most the settle limit, SettleS
	// seconds of it); 0 when not measured. CPUSource says how it was read:
	// "schedstat" (per-thread ns) or "stat" (utime+stime, 10 ms ticks).
	CPUus     float64 `json:"cpu_us,omitempty"`
	Procs     int     `json:"procs,omitempty"`
	CPUSource string  `json:"cpu_source,omitempty"`
	SettleS   float64 `json:"settle_s,omitempty"`
	// Beside counts the unmeasured load sent beside the measured one
	// during the cell (warm-up included), to another path of the same
	// target; nil when there was none.
	Beside *BesideLoad `json:"beside,omitempty"`
}

// BesideLoad is a second, unmeasured load sent during a cell: the "few
// clients" whose requests are heavy, beside the light load measured.
type BesideLoad struct {
	Path string  `json:"path"`
	Rate float64 `json:"rate"`
	// Sent, OK and Errors as in LatencyRecord; P50us is their median
	// latency.
	Sent   int64   `json:"sent"`
	OK     int64   `json:"ok"`
	Errors int64   `json:"errors"`
	P50us  float64 `json:"p50_us"`
}

// CPUPerRequest is the CPU the target's processes used per answered
// request (the beside load's included), in µs; NaN when not measured or
// nothing was answered.
func (r LatencyRecord) CPUPerRequest() float64 {
	n := r.OK
	if r.Beside != nil {
		n += r.Beside.OK
	}
	if r.CPUus <= 0 || n <= 0 {
		return math.NaN()
	}
	return r.CPUus / float64(n)
}

// MirrorDelta is how shadow's counters moved over a measurement window.
type MirrorDelta struct {
	// Received counts client requests; Mirrored copies queued; Dropped
	// copies lost to a full queue; Compared the pairs judged.
	Received uint64 `json:"received"`
	Mirrored uint64 `json:"mirrored"`
	Dropped  uint64 `json:"dropped"`
	Compared uint64 `json:"compared,omitempty"`
	// MaxQueueDepth is the deepest queue seen while polling (0 when not
	// polled), out of QueueSize.
	MaxQueueDepth int `json:"max_queue_depth"`
	QueueSize     int `json:"queue_size"`
}

// DropRatio is Dropped over the copies the proxy tried to queue; 0 when it
// tried none.
func (d MirrorDelta) DropRatio() float64 {
	if d.Mirrored+d.Dropped == 0 {
		return 0
	}
	return float64(d.Dropped) / float64(d.Mirrored+d.Dropped)
}

// ShadowCounters are the fields of shadow's admin /snapshot the harness
// reads.
type ShadowCounters struct {
	Received   uint64 `json:"received"`
	Mirrored   uint64 `json:"mirrored"`
	Dropped    uint64 `json:"dropped"`
	Compared   uint64 `json:"compared"`
	QueueDepth int    `json:"queue_depth"`
	QueueSize  int    `json:"queue_size"`
}

// ParseSnapshot reads the shadow counters out of an admin /snapshot body.
func ParseSnapshot(data []byte) (ShadowCounters, error) {
	var s struct {
		Shadow *ShadowCounters `json:"shadow"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return ShadowCounters{}, fmt.Errorf("parse snapshot: %w", err)
	}
	if s.Shadow == nil {
		return ShadowCounters{}, fmt.Errorf("parse snapshot: no \"shadow\" object")
	}
	return *s.Shadow, nil
}

// Delta is how the counters moved from c to later.
func (c ShadowCounters) Delta(later ShadowCounters) MirrorDelta {
	return MirrorDelta{
		Received:  later.Received - c.Received,
		Mirrored:  later.Mirrored - c.Mirrored,
		Dropped:   later.Dropped - c.Dropped,
		Compared:  later.Compared - c.Compared,
		QueueSize: later.QueueSize,
	}
}

// UploadRecord is one run of many slow uploaders against one target
// (bench/cmd/slowclient): how much memory the target held while they
// sent.
type UploadRecord struct {
	// Target names the proxy ("shadow", "plain"); Mode is "body" (each
	// connection sends its whole body slowly, then reads the answer) or
	// "hold" (headers and one byte, then nothing until the end).
	Target string `json:"target"`
	Mode   string `json:"mode"`
	Round  int    `json:"round"`
	// Conns connections, each announcing BodyBytes, over DurationS.
	Conns     int     `json:"conns"`
	BodyBytes int64   `json:"body_bytes"`
	DurationS float64 `json:"duration_s"`
	// Opened connections connected; Answered got an answer, Statuses
	// counts them by code; Failed broke before an answer (in hold mode,
	// where no answer is awaited, none are counted).
	Opened   int64          `json:"opened"`
	Answered int64          `json:"answered"`
	Failed   int64          `json:"failed"`
	Statuses map[string]int `json:"statuses,omitempty"`
	// Errors counts the failures by kind ("write: connection reset by
	// peer", "i/o timeout").
	Errors map[string]int `json:"errors,omitempty"`
	// The target's VmRSS before the first connection (Idle), the largest
	// sampled (every 100 ms) and at the end, and its VmHWM at the end
	// (the peak since it started), in kB.
	IdleKB int64 `json:"idle_rss_kb"`
	PeakKB int64 `json:"peak_rss_kb"`
	EndKB  int64 `json:"end_rss_kb"`
	HWMKB  int64 `json:"hwm_kb"`
	// PeakHeapKB is the largest Go heap in use seen (shadow's
	// go_memstats_heap_inuse_bytes, every 500 ms), which counts buffers
	// allocated but not yet written to, as VmRSS does not; 0 when the
	// target has no metrics.
	PeakHeapKB int64 `json:"peak_heap_kb,omitempty"`
	// CPUus is the target's CPU time over the run, in µs.
	CPUus float64 `json:"cpu_us"`
}

// Usage is what a command used, from its rusage once it ended
// (bench/cmd/rusage): the CPU time of all its threads, to the µs.
type Usage struct {
	UserUs float64 `json:"user_us"`
	SysUs  float64 `json:"sys_us"`
	WallS  float64 `json:"wall_s"`
	// MaxRSSKB is the peak resident set; Exit the command's exit code.
	MaxRSSKB int64 `json:"max_rss_kb"`
	Exit     int   `json:"exit"`
}

// CPUus is user plus system time in µs.
func (u Usage) CPUus() float64 { return u.UserUs + u.SysUs }
