package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/understudy-dev/understudy/compare"
)

// candidateMetrics count the judged exchanges per candidate when a run
// compares several (compare.Result.Candidate and Others); a run of one
// candidate has no series of them.
type candidateMetrics struct {
	names     *limiter // at most compare.MaxCandidates names
	exchanges *prometheus.CounterVec
	differing *prometheus.CounterVec
}

func newCandidateMetrics() candidateMetrics {
	return candidateMetrics{
		names: newLimiter(compare.MaxCandidates),
		exchanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shadow_candidate_exchanges_total",
			Help: "Exchanges judged per candidate when several are compared, by candidate and outcome (compared, primary_error, candidate_error, candidate_timeout, not_sent: its own queue or breaker kept the copy back).",
		}, []string{"candidate", "outcome"}),
		differing: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shadow_candidate_differing_exchanges_total",
			Help: "Compared exchanges that differed in any way other than noise learned so far, per candidate when several are compared; divide by shadow_candidate_exchanges_total{outcome=\"compared\"} for its diff rate.",
		}, []string{"candidate"}),
	}
}

// record counts res, and each of res.Others, under its candidate's name.
func (c candidateMetrics) record(res compare.Result) {
	if res.Candidate == "" && len(res.Others) == 0 {
		return
	}
	one := func(r *compare.Result) {
		name := c.names.value(r.Candidate)
		c.exchanges.WithLabelValues(name, string(r.Outcome)).Inc()
		if r.Outcome == compare.Compared && r.Differs {
			c.differing.WithLabelValues(name).Inc()
		}
	}
	one(&res)
	for i := range res.Others {
		one(&res.Others[i])
	}
}
