package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/mirror"
)

// With several candidates each one's outcomes and differing exchanges
// are counted under its name; with one, nothing is.
func TestShadowCandidateMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m, err := NewShadow(reg, ShadowConfig{Stats: func() mirror.Stats { return mirror.Stats{} }})
	if err != nil {
		t.Fatal(err)
	}
	ep := compare.Endpoint{Method: "GET", Route: "/a"}
	m.Record(&exchange.Exchange{}, compare.Result{Endpoint: ep, Outcome: compare.Compared, Differs: true})
	if got := series(t, reg, "shadow_candidate_exchanges_total", "shadow_candidate_differing_exchanges_total"); len(got) != 0 {
		t.Errorf("one candidate has candidate series: %v", got)
	}
	for range 2 {
		m.Record(&exchange.Exchange{}, compare.Result{Endpoint: ep, Outcome: compare.Compared, Candidate: "v2", Others: []compare.Result{
			{Endpoint: ep, Outcome: compare.Compared, Candidate: "v3", Differs: true},
			{Endpoint: ep, Outcome: compare.NotSent, Candidate: "v4"},
		}})
	}
	checkSeries(t, series(t, reg, "shadow_candidate_exchanges_total", "shadow_candidate_differing_exchanges_total"), map[string]float64{
		sk("shadow_candidate_exchanges_total", "candidate", "v2", "outcome", "compared"): 2,
		sk("shadow_candidate_exchanges_total", "candidate", "v3", "outcome", "compared"): 2,
		sk("shadow_candidate_exchanges_total", "candidate", "v4", "outcome", "not_sent"): 2,
		sk("shadow_candidate_differing_exchanges_total", "candidate", "v3"):              2,
	})
}
