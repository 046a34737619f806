package demo

import (
	"fmt"
	"math"
	"net/url"
	"time"
)

// Defaults for the zero values of Options.
const (
	// DefaultMaxOrders is how many orders an instance keeps before it
	// evicts the oldest.
	DefaultMaxOrders = 100_000
	// DefaultSlowDelay is version 2's extra wait on GET /orders?customer=.
	DefaultSlowDelay = 3 * time.Millisecond
	// DefaultErrorRate is version 2's share of 500s on GET /orders/{id}.
	DefaultErrorRate = 0.01
)

// Options configures one instance of the service. The zero value is a
// version 1 instance with a time-based seed, the real clock and the default
// store bound.
type Options struct {
	// Version selects the behaviour: 1 or 2; 0 means 1.
	Version int
	// Seed drives every random choice of the instance (eta, X-Request-Id,
	// version 2's 500s), so two instances with the same seed and the same
	// requests answer alike. 0 means a seed taken from the clock.
	Seed int64
	// Now is the clock for created_at; nil means time.Now.
	Now func() time.Time
	// SlowDelay is version 2's extra wait before answering
	// GET /orders?customer=. 0 means DefaultSlowDelay; negative means none.
	// Version 1 ignores it.
	SlowDelay time.Duration
	// ErrorRate is version 2's share, between 0 and 1, of GET /orders/{id}
	// requests answered with 500. 0 means DefaultErrorRate; negative means
	// none. Version 1 ignores it.
	ErrorRate float64
	// MaxOrders bounds the store: past it the oldest order is evicted.
	// 0 means DefaultMaxOrders.
	MaxOrders int
	// Payments is the base URL of the payment service (see Payments) that
	// POST /orders charges the order's total before storing it, passing
	// on the request's traceparent; a failed charge fails the order with
	// 502. "" means orders are not charged.
	Payments string
}

// Validate reports the first field that holds a value New cannot use.
func (o Options) Validate() error {
	switch {
	case o.Version < 0 || o.Version > 2:
		return fmt.Errorf("demo options: Version must be 0, 1 or 2, got %d", o.Version)
	case math.IsNaN(o.ErrorRate) || o.ErrorRate > 1:
		return fmt.Errorf("demo options: ErrorRate must be at most 1, got %v", o.ErrorRate)
	case o.MaxOrders < 0:
		return fmt.Errorf("demo options: MaxOrders must not be negative, got %d", o.MaxOrders)
	}
	if o.Payments != "" {
		if u, err := url.Parse(o.Payments); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("demo options: Payments must be an http:// or https:// base URL, got %q", o.Payments)
		}
	}
	return nil
}

// resolved returns o with every zero value replaced by what it means and the
// version 2 knobs turned off on version 1.
func (o Options) resolved() Options {
	if o.Version == 0 {
		o.Version = 1
	}
	if o.Seed == 0 {
		o.Seed = time.Now().UnixNano()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case o.Version == 1 || o.SlowDelay < 0:
		o.SlowDelay = 0
	case o.SlowDelay == 0:
		o.SlowDelay = DefaultSlowDelay
	}
	switch {
	case o.Version == 1 || o.ErrorRate < 0:
		o.ErrorRate = 0
	case o.ErrorRate == 0:
		o.ErrorRate = DefaultErrorRate
	}
	if o.MaxOrders == 0 {
		o.MaxOrders = DefaultMaxOrders
	}
	return o
}
