package demo

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Order statuses.
const (
	statusPlaced    = "placed"
	statusCancelled = "cancelled"
)

// Errors the store answers with; the handlers map them to status codes.
var (
	errNotFound         = errors.New("order not found")
	errAlreadyCancelled = errors.New("order already cancelled")
)

// line is one priced line of an order. It never changes once stored.
type line struct {
	SKU       string
	Name      string
	Qty       int
	UnitPrice cents
	LineTotal cents
}

// order is the version-neutral record of an order; the version decides how
// it is priced (before it is stored) and how it is rendered.
type order struct {
	ID        string
	Customer  string
	Lines     []line
	Total     cents
	Status    string
	CreatedAt time.Time
	ETA       int
	Synthetic bool
	PaymentID string // the charge's id; empty when orders are not charged
}

// totals is what /analytics reports: lifetime counters that eviction does
// not change.
type totals struct {
	Orders            int64
	Cancelled         int64
	Revenue           cents
	SyntheticExcluded int64
}

// store holds one instance's orders in memory, at most max of them, oldest
// evicted first. It is safe for concurrent use.
type store struct {
	mu         sync.Mutex
	max        int
	seq        int64               // last id number handed out
	byID       map[string]*order   // every held order
	fifo       []*order            // held orders, oldest first
	byCustomer map[string][]*order // held orders per customer, oldest first
	totals     totals
}

// newStore returns an empty store that keeps at most max orders.
func newStore(max int) *store {
	return &store{
		max:        max,
		byID:       make(map[string]*order),
		byCustomer: make(map[string][]*order),
	}
}

// add gives o the next id, stores it, evicts the oldest order if the store
// is full, and returns the stored order.
func (s *store) add(o order) order {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	o.ID = fmt.Sprintf("ord-%06d", s.seq)
	o.Status = statusPlaced
	p := &o
	s.byID[o.ID] = p
	s.fifo = append(s.fifo, p)
	s.byCustomer[o.Customer] = append(s.byCustomer[o.Customer], p)
	if o.Synthetic {
		s.totals.SyntheticExcluded++
	} else {
		s.totals.Orders++
		s.totals.Revenue += o.Total
	}
	for len(s.fifo) > s.max {
		s.evictOldest()
	}
	return o
}

// evictOldest drops the oldest held order. The caller holds s.mu.
func (s *store) evictOldest() {
	old := s.fifo[0]
	s.fifo[0] = nil
	s.fifo = s.fifo[1:]
	delete(s.byID, old.ID)
	// The oldest order overall is also the oldest of its customer.
	list := s.byCustomer[old.Customer]
	list[0] = nil
	if list = list[1:]; len(list) == 0 {
		delete(s.byCustomer, old.Customer)
	} else {
		s.byCustomer[old.Customer] = list
	}
}

// get returns a copy of the order with the given id.
func (s *store) get(id string) (order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byID[id]
	if !ok {
		return order{}, errNotFound
	}
	return *p, nil
}

// byCustomerNewest returns copies of the customer's orders, newest first, at
// most limit of them; an empty, non-nil slice when there are none.
func (s *store) byCustomerNewest(customer string, limit int) []order {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.byCustomer[customer]
	n := min(len(list), limit)
	out := make([]order, 0, n)
	for i := len(list) - 1; i >= len(list)-n; i-- {
		out = append(out, *list[i])
	}
	return out
}

// cancel marks the order cancelled and returns a copy of it.
func (s *store) cancel(id string) (order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byID[id]
	switch {
	case !ok:
		return order{}, errNotFound
	case p.Status == statusCancelled:
		return *p, errAlreadyCancelled
	}
	p.Status = statusCancelled
	if !p.Synthetic {
		s.totals.Cancelled++
		s.totals.Revenue -= p.Total
	}
	return *p, nil
}

// len reports how many orders the store holds.
func (s *store) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.fifo)
}

// analytics returns the lifetime counters.
func (s *store) analytics() totals {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.totals
}
