package replay

import (
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// pacer decides when each request starts. It is a vegeta.Pacer, so that a
// fixed rate is vegeta's own ConstantPacer and the recorded timing is one
// more pacer beside it (and synth's rate shapes would fit the same loop);
// record tells it about the record whose start it is asked for next.
type pacer interface {
	vegeta.Pacer
	record(received time.Time)
}

// newPacer returns the pacer for cfg: the recorded timing scaled by Speed,
// a fixed Rate, or, with neither, no wait at all.
func newPacer(cfg Config) pacer {
	if cfg.Speed > 0 {
		return &recordedPacer{speed: cfg.Speed}
	}
	return constantPacer{vegeta.ConstantPacer{Freq: cfg.Rate, Per: time.Second}}
}

// constantPacer is vegeta's ConstantPacer, which needs no record times.
type constantPacer struct{ vegeta.ConstantPacer }

func (constantPacer) record(time.Time) {}

// recordedPacer starts each request at its record's recorded time, the
// gaps between consecutive records' Received times divided by speed: with
// speed 2, records received 100 ms apart are sent 50 ms apart. A record
// received before the one read before it (the first of the next file, or
// of the next pass of a loop) or without a time follows at once, and the
// gaps after it are measured from it. The times are offsets from the start
// of the replay, so a request that had to wait for a free worker does not
// delay the ones after it.
type recordedPacer struct {
	speed float64
	// due is when the current record starts, from the start of the replay.
	due time.Duration
	// gap is the scaled gap before the current record; last is the
	// previous record's time.
	gap  time.Duration
	last time.Time
}

func (p *recordedPacer) record(received time.Time) {
	p.gap = 0
	if received.IsZero() {
		return
	}
	if !p.last.IsZero() && received.After(p.last) {
		p.gap = time.Duration(float64(received.Sub(p.last)) / p.speed)
		p.due += p.gap
	}
	p.last = received
}

// Pace returns the wait until the current record is due. It never stops
// the replay: the records end it.
func (p *recordedPacer) Pace(elapsed time.Duration, _ uint64) (time.Duration, bool) {
	return max(p.due-elapsed, 0), false
}

// Rate is the rate the recorded gap before the current record stands for,
// in requests per second; 0 when there is no gap.
func (p *recordedPacer) Rate(time.Duration) float64 {
	if p.gap <= 0 {
		return 0
	}
	return float64(time.Second) / float64(p.gap)
}
