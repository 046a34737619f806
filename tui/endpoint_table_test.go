package tui

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// routes lists the table's rows as "METHOD route" in display order.
func routes(t EndpointTable) []string {
	out := make([]string, 0, t.Len())
	for _, i := range t.order {
		out = append(out, endpointKey(&t.eps[i]))
	}
	return out
}

func TestEndpointTableSortCycles(t *testing.T) {
	t.Parallel()
	tbl := NewEndpointTable(DefaultStyles())
	tbl.SetSize(80, 12)
	tbl.SetEndpoints(endpoints())
	want := []struct {
		key   SortKey
		first []string
	}{
		{SortDiffRate, []string{"GET /orders/{id}", "POST /orders", "GET /analytics/daily"}},
		{SortPairs, []string{"GET /menu", "GET /orders/{id}", "GET /orders"}},
		{SortLatency, []string{"POST /orders", "GET /orders/{id}", "GET /orders"}},
		{SortRoute, []string{"GET /analytics/daily", "GET /healthz", "GET /menu"}},
		{SortDiffRate, []string{"GET /orders/{id}", "POST /orders", "GET /analytics/daily"}},
	}
	for i, w := range want {
		if i > 0 {
			tbl, _ = tbl.Update(runes("s"))
		}
		if tbl.Sort() != w.key {
			t.Fatalf("after %d presses, sort = %v, want %v", i, tbl.Sort(), w.key)
		}
		if got := routes(tbl)[:3]; !slices.Equal(got, w.first) {
			t.Errorf("sorted by %v: first rows = %q, want %q", w.key, got, w.first)
		}
		if !strings.Contains(tbl.View(), "↓") && !strings.Contains(tbl.View(), "↑") {
			t.Errorf("sorted by %v: header has no sort mark:\n%s", w.key, tbl.View())
		}
	}
}

func TestEndpointTableCursorFollowsItsEndpoint(t *testing.T) {
	t.Parallel()
	tbl := NewEndpointTable(DefaultStyles())
	tbl.SetSize(80, 12)
	eps := endpoints()
	tbl.SetEndpoints(eps)
	tbl, _ = tbl.Update(keyDown) // POST /orders, second by diff rate
	if e, _ := tbl.Selected(); endpointKey(&e) != "POST /orders" {
		t.Fatalf("selected %q, want POST /orders", endpointKey(&e))
	}
	// A live update makes POST /orders the worst endpoint: the cursor
	// moves with it.
	next := endpoints()
	next[3].DiffRate = 0.9
	tbl.SetEndpoints(next)
	if e, _ := tbl.Selected(); endpointKey(&e) != "POST /orders" || tbl.cursor != 0 {
		t.Fatalf("after reorder, selected %q at row %d, want POST /orders at row 0", endpointKey(&e), tbl.cursor)
	}
	// It disappears (the producer bounds the list): the cursor stays in
	// range.
	tbl.SetEndpoints(next[:1])
	if e, ok := tbl.Selected(); !ok || endpointKey(&e) != "GET /orders/{id}" {
		t.Fatalf("after removal, selected %q (%v), want the remaining endpoint", endpointKey(&e), ok)
	}
	tbl.SetEndpoints(nil)
	if _, ok := tbl.Selected(); ok {
		t.Fatal("an empty table has a selection")
	}
	tbl, _ = tbl.Update(keyDown) // must not panic on an empty table
	_ = tbl.View()
}

func TestEndpointTableScrollsToTheCursor(t *testing.T) {
	t.Parallel()
	many := largeSnapshot(0).Shadow.Endpoints
	tbl := NewEndpointTable(DefaultStyles())
	tbl.SetSize(80, 6) // header and five rows
	tbl.SetEndpoints(many)
	for range 12 {
		tbl, _ = tbl.Update(keyDown)
	}
	e, _ := tbl.Selected()
	v := tbl.View()
	if lines := strings.Split(v, "\n"); len(lines) != 6 || !strings.HasPrefix(lines[5], marker) || !strings.Contains(lines[5], e.Route) {
		t.Fatalf("cursor row %q is not the last visible row:\n%s", e.Route, v)
	}
	tbl, _ = tbl.Update(keyPgDn)
	tbl, _ = tbl.Update(tea.KeyMsg{Type: tea.KeyEnd})
	if tbl.cursor != len(many)-1 {
		t.Fatalf("end: cursor = %d, want %d", tbl.cursor, len(many)-1)
	}
}

func TestEndpointFieldsFindAnExemplarForAField(t *testing.T) {
	t.Parallel()
	f := NewEndpointFields(DefaultStyles())
	f.SetSize(80, 20)
	f.SetEndpoint(endpoints()[0])
	// Rows: real differences by count ($.items[0].price, $.total,
	// $.coupon), then noise, then the two exemplars.
	cases := []struct {
		downs   int
		wantURL string
		wantOK  bool
	}{
		{0, "/orders/42?expand=items", true}, // $.items[0].price
		{1, "/orders/42?expand=items", true}, // $.total: the first exemplar differing there
		{3, "", false},                       // $.updated_at: noise, no exemplar lists it
		{5, "/orders/42?expand=items", true}, // first exemplar row
		{6, "/orders/77", true},              // second exemplar row
	}
	for _, tc := range cases {
		g := f
		for range tc.downs {
			g, _ = g.Update(keyDown)
		}
		ex, ok := g.Exemplar()
		if ok != tc.wantOK || ex.URL != tc.wantURL {
			t.Errorf("after %d downs: exemplar %q, %v; want %q, %v", tc.downs, ex.URL, ok, tc.wantURL, tc.wantOK)
		}
	}
}
