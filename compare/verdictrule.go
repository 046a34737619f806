package compare

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Defaults of the latency gate (LatencyRule).
const (
	DefaultLatencyP50      = 1.2
	DefaultLatencyP99      = 1.5
	DefaultLatencyMinDelta = 5 * time.Millisecond
	DefaultLatencyMinPairs = 100
)

// LatencyRule is the latency gate: an endpoint fails when the
// candidate's p50 is more than P50 times the primary's, or its p99 more
// than P99 times the primary's, and in either case also at least MinDelta
// slower (so that 1 ms against 0.8 ms is not a regression). Latencies come
// from the histograms the engine keeps per endpoint: the primary's over
// the exchanges it answered, the candidate's over compared pairs. An
// endpoint is checked once it has MinPairs pairs; fewer are reported as
// not judged on latency.
//
// The zero value is the gate on with its defaults (1.2, 1.5, 5ms, 100
// pairs): a release gate that passes a candidate twice as slow is not one.
type LatencyRule struct {
	// Off turns the gate off; the report still shows the latencies.
	Off bool `json:"off,omitempty" yaml:"off,omitempty" mapstructure:"off"`
	// P50 is the highest acceptable ratio of candidate to primary median.
	// Unset (nil) means DefaultLatencyP50; 0 turns the p50 check off.
	P50 *float64 `json:"p50,omitempty" yaml:"p50,omitempty" mapstructure:"p50"`
	// P99 is the same for the 99th percentile. Unset means
	// DefaultLatencyP99; 0 turns the p99 check off.
	P99 *float64 `json:"p99,omitempty" yaml:"p99,omitempty" mapstructure:"p99"`
	// MinDelta is how much slower, at least, the candidate must be for a
	// ratio above the limit to count. 0 means DefaultLatencyMinDelta;
	// negative means no minimum.
	MinDelta time.Duration `json:"min_delta,omitempty" yaml:"min_delta,omitempty" mapstructure:"min_delta"`
	// MinPairs is how many pairs an endpoint needs before its latency is
	// judged. 0 means DefaultLatencyMinPairs.
	MinPairs int `json:"min_pairs,omitempty" yaml:"min_pairs,omitempty" mapstructure:"min_pairs"`
}

// enabled reports whether the gate checks anything.
func (l LatencyRule) enabled() bool {
	return !l.Off && (ratioOf(l.P50) > 0 || ratioOf(l.P99) > 0)
}

func ratioOf(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func (l LatencyRule) validate() error {
	for _, q := range []struct {
		name string
		v    *float64
	}{{"p50", l.P50}, {"p99", l.P99}} {
		if q.v == nil {
			continue
		}
		if v := *q.v; math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (v > 0 && v < 1) {
			return fmt.Errorf("%s: must be a ratio ≥ 1 (candidate over primary), or 0 to turn it off, got %v", q.name, v)
		}
	}
	if l.MinPairs < 0 {
		return fmt.Errorf("min_pairs: must not be negative, got %d", l.MinPairs)
	}
	return nil
}

// withDefaults fills in every unset field.
func (l LatencyRule) withDefaults() LatencyRule {
	if l.P50 == nil {
		v := DefaultLatencyP50
		l.P50 = &v
	}
	if l.P99 == nil {
		v := DefaultLatencyP99
		l.P99 = &v
	}
	if l.MinDelta == 0 {
		l.MinDelta = DefaultLatencyMinDelta
	}
	if l.MinPairs == 0 {
		l.MinPairs = DefaultLatencyMinPairs
	}
	return l
}

// over sets in l the fields o sets.
func (l LatencyRule) over(o LatencyRule) LatencyRule {
	if o.Off {
		l.Off = true
	}
	if o.P50 != nil {
		l.P50 = o.P50
	}
	if o.P99 != nil {
		l.P99 = o.P99
	}
	if o.MinDelta != 0 {
		l.MinDelta = o.MinDelta
	}
	if o.MinPairs != 0 {
		l.MinPairs = o.MinPairs
	}
	return l
}

// RouteRule overrides the verdict rule for the endpoints of one route:
// what it sets replaces the rule's value there, what it leaves unset is
// the rule's.
type RouteRule struct {
	// Route names the endpoints: a route template ("/search") or a method
	// and template ("GET /search"), as reports show them. Required.
	Route string `json:"route" yaml:"route" mapstructure:"route"`
	// MinPairs overrides VerdictRule.MinPairs; nil keeps it.
	MinPairs *int `json:"min_pairs,omitempty" yaml:"min_pairs,omitempty" mapstructure:"min_pairs"`
	// MaxDiffRate overrides VerdictRule.MaxDiffRate; nil keeps it.
	MaxDiffRate *float64 `json:"max_diff_rate,omitempty" yaml:"max_diff_rate,omitempty" mapstructure:"max_diff_rate"`
	// MaxErrorRate overrides VerdictRule.MaxErrorRate (negative: not
	// checked); nil keeps it.
	MaxErrorRate *float64 `json:"max_error_rate,omitempty" yaml:"max_error_rate,omitempty" mapstructure:"max_error_rate"`
	// Latency overrides the fields of VerdictRule.Latency it sets; nil
	// keeps them all.
	Latency *LatencyRule `json:"max_latency_regression,omitempty" yaml:"max_latency_regression,omitempty" mapstructure:"max_latency_regression"`
}

func (r RouteRule) validate() error {
	if r.Route == "" {
		return errors.New("route: required (a route template like /search, optionally after a method)")
	}
	if _, _, err := parseRouteFilter(r.Route); err != nil {
		return fmt.Errorf("route: %w", err)
	}
	if r.MinPairs != nil && *r.MinPairs < 0 {
		return fmt.Errorf("min_pairs: must not be negative, got %d", *r.MinPairs)
	}
	if r.MaxDiffRate != nil {
		if err := checkRate("max_diff_rate", *r.MaxDiffRate); err != nil {
			return err
		}
	}
	if r.MaxErrorRate != nil && *r.MaxErrorRate >= 0 {
		if err := checkRate("max_error_rate", *r.MaxErrorRate); err != nil {
			return err
		}
	}
	if r.Latency != nil {
		if err := r.Latency.validate(); err != nil {
			return fmt.Errorf("max_latency_regression.%w", err)
		}
	}
	return nil
}

// matches reports whether the rule names the endpoint.
func (r RouteRule) matches(method, route string) bool {
	m, t, err := parseRouteFilter(r.Route)
	return err == nil && t == route && (m == "" || m == method)
}

// For returns the rule an endpoint is judged by: v with the first
// matching Routes entry applied. v should have its defaults (WithDefaults).
func (v VerdictRule) For(method, route string) VerdictRule {
	for _, r := range v.Routes {
		if !r.matches(method, route) {
			continue
		}
		if r.MinPairs != nil {
			v.MinPairs = *r.MinPairs
		}
		if r.MaxDiffRate != nil {
			v.MaxDiffRate = *r.MaxDiffRate
		}
		if r.MaxErrorRate != nil {
			v.MaxErrorRate = *r.MaxErrorRate
		}
		if r.Latency != nil {
			v.Latency = v.Latency.over(*r.Latency)
		}
		break
	}
	return v
}
