package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/understudy-dev/understudy/egress"
	"github.com/understudy-dev/understudy/exchange"
)

var (
	descEgressPrimary = prometheus.NewDesc("shadow_egress_primary_calls_total",
		"The primary's calls to dependencies through egress, by outcome: forwarded (every call sent on to the dependency), recorded (recorded whole, ready to answer the copies), untraced (no traceparent: forwarded, not recorded), not_recorded (over a limit), failed (the dependency gave no answer), refused (a forward-proxy request for no configured dependency, or a CONNECT).", []string{"outcome"}, nil)
	descEgressCopies = prometheus.NewDesc("shadow_egress_copy_calls_total",
		"The secondary's and candidate's calls to dependencies through egress, never sent on, by side and outcome: answered (from the primary's record), or the reason they were refused with a 503 (no_trace, no_match, incomplete, over_limit, memory, evicted, taken, ...).", []string{"side", "outcome"}, nil)
	descEgressEvicted = prometheus.NewDesc("shadow_egress_evicted_traces_total",
		"Traces whose records egress dropped before their exchange took them, by cause: ttl (older than record_ttl) or memory (pushed out by newer ones at max_memory_bytes).", []string{"cause"}, nil)
	descEgressBytes = prometheus.NewDesc("shadow_egress_bytes_held",
		"Bytes egress's records hold now, against egress_limits.max_memory_bytes.", nil, nil)
	descEgressTraces = prometheus.NewDesc("shadow_egress_traces",
		"Traces egress holds records of now.", nil, nil)
)

// egressCollector reads egress's counters at scrape time.
type egressCollector struct{ stats func() egress.Stats }

// NewEgress registers the egress metrics of a shadow run on reg, read
// from stats (egress.Egress.Stats) at every scrape.
func NewEgress(reg prometheus.Registerer, stats func() egress.Stats) error {
	if stats == nil {
		return errors.New("egress metrics: stats: required")
	}
	if err := reg.Register(egressCollector{stats}); err != nil {
		return fmt.Errorf("egress metrics: %w", err)
	}
	return nil
}

func (c egressCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEgressPrimary, descEgressCopies, descEgressEvicted, descEgressBytes, descEgressTraces} {
		ch <- d
	}
}

func (c egressCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	p := st.Primary
	for _, o := range []struct {
		name string
		v    int64
	}{{"forwarded", p.Forwarded}, {"recorded", p.Recorded}, {"untraced", p.Untraced}, {"not_recorded", p.NotRecorded}, {"failed", p.Failed}, {"refused", p.Refused}} {
		counter(descEgressPrimary, o.v, o.name)
	}
	for _, side := range []struct {
		side exchange.Side
		st   egress.CopyStats
	}{{exchange.Secondary, st.Secondary}, {exchange.Candidate, st.Candidate}} {
		counter(descEgressCopies, side.st.Answered, string(side.side), "answered")
		for reason, n := range side.st.Refused {
			counter(descEgressCopies, n, string(side.side), string(reason))
		}
	}
	counter(descEgressEvicted, st.EvictedTTL, "ttl")
	counter(descEgressEvicted, st.EvictedMemory, "memory")
	ch <- prometheus.MustNewConstMetric(descEgressBytes, prometheus.GaugeValue, float64(st.BytesHeld))
	ch <- prometheus.MustNewConstMetric(descEgressTraces, prometheus.GaugeValue, float64(st.Traces))
}
