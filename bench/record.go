package bench

import (
	"encoding/json"
	"fmt"
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
}

// MirrorDelta is how shadow's counters moved over a measurement window.
type MirrorDelta struct {
	// Received counts client requests; Mirrored copies queued; Dropped
	// copies lost to a full queue.
	Received uint64 `json:"received"`
	Mirrored uint64 `json:"mirrored"`
	Dropped  uint64 `json:"dropped"`
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
		QueueSize: later.QueueSize,
	}
}
