package demo

import (
	"fmt"
	"sync"
	"testing"
)

func TestStoreEvictsOldestAcrossCustomers(t *testing.T) {
	t.Parallel()
	s := newStore(3)
	for _, c := range []string{"a", "b", "a", "c", "a"} {
		s.add(order{Customer: c})
	}
	// Held: ord-000003 (a), ord-000004 (c), ord-000005 (a).
	tests := []struct {
		customer string
		want     []string
	}{
		{"a", []string{"ord-000005", "ord-000003"}},
		{"b", []string{}},
		{"c", []string{"ord-000004"}},
	}
	for _, tt := range tests {
		got := []string{}
		for _, o := range s.byCustomerNewest(tt.customer, 10) {
			got = append(got, o.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("orders of %s = %v, want %v", tt.customer, got, tt.want)
		}
	}
	if _, ok := s.byCustomer["b"]; ok {
		t.Error("customer b still indexed after its only order was evicted")
	}
	if got := s.len(); got != 3 {
		t.Errorf("len = %d, want 3", got)
	}
}

func TestStoreReturnsCopies(t *testing.T) {
	t.Parallel()
	s := newStore(10)
	o := s.add(order{Customer: "a"})
	o.Status = "tampered"
	got, err := s.get(o.ID)
	if err != nil || got.Status != statusPlaced {
		t.Fatalf("get = %q, %v; want %q, nil", got.Status, err, statusPlaced)
	}
	if _, err := s.cancel(o.ID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if got.Status != statusPlaced {
		t.Error("cancel changed a copy handed out earlier")
	}
}

// TestStoreConcurrent runs creates, reads and cancels at once (meaningful
// under -race) and checks that ids are unique and dense and the bound holds.
func TestStoreConcurrent(t *testing.T) {
	t.Parallel()
	const workers, each, bound = 8, 200, 100
	s := newStore(bound)
	ids := make(chan string, workers*each)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for i := 0; i < each; i++ {
				o := s.add(order{Customer: fmt.Sprintf("c%d", w), Total: 100, Synthetic: i%2 == 0})
				ids <- o.ID
				s.get(o.ID)
				s.cancel(o.ID)
				s.byCustomerNewest(o.Customer, 50)
				s.analytics()
			}
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("id %s handed out twice", id)
		}
		seen[id] = true
	}
	for i := 1; i <= workers*each; i++ {
		if id := fmt.Sprintf("ord-%06d", i); !seen[id] {
			t.Errorf("id %s never handed out", id)
		}
	}
	if got := s.len(); got != bound {
		t.Errorf("len = %d, want %d", got, bound)
	}
	held := 0
	for _, list := range s.byCustomer {
		held += len(list)
	}
	if held != bound || len(s.byID) != bound {
		t.Errorf("indexes hold %d by customer and %d by id, want %d", held, len(s.byID), bound)
	}
	a := s.analytics()
	if want := int64(workers * each / 2); a.Orders != want || a.SyntheticExcluded != want || a.Cancelled > want {
		t.Errorf("analytics = %+v, want %d real and %d synthetic orders", a, want, want)
	}
}
