package compare

// FewestPairs returns the fewest judged copies any endpoint seen so far
// has, and how many endpoints were seen, so a run can stop once every
// endpoint has enough to be judged; with several candidates, over every
// candidate's endpoints. A judged copy is a compared pair or a candidate
// error: both count toward an endpoint's verdict (its diff and error
// rates), so a run against a candidate that fails every copy ends too.
// It locks each endpoint briefly and copies nothing.
func (e *Engine) FewestPairs() (pairs int64, endpoints int) {
	e.mu.RLock()
	aggs := make([]*endpointAgg, 0, len(e.endpoints))
	for _, a := range e.endpoints {
		aggs = append(aggs, a)
	}
	e.mu.RUnlock()
	for i, a := range aggs {
		a.mu.Lock()
		n := a.c.pairs + a.c.candidateErrors
		a.mu.Unlock()
		if i == 0 || n < pairs {
			pairs = n
		}
	}
	return e.others.fewestPairs(pairs, len(aggs))
}
