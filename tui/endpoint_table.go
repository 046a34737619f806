package tui

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// SortKey orders the endpoint table.
type SortKey int

// The endpoint table's orders, in the order the sort key cycles through
// them. Ties are broken by route, then method.
const (
	// SortDiffRate puts the highest diff rate first (the default).
	SortDiffRate SortKey = iota
	// SortPairs puts the most compared traffic first.
	SortPairs
	// SortLatency puts the largest p99 regression (candidate minus
	// primary) first.
	SortLatency
	// SortRoute orders by route, then method.
	SortRoute
	sortKeys // number of sort keys
)

// String names the sort key for the status bar.
func (k SortKey) String() string {
	switch k {
	case SortDiffRate:
		return "diff rate"
	case SortPairs:
		return "pairs"
	case SortLatency:
		return "p99 regression"
	case SortRoute:
		return "route"
	}
	return "SortKey(" + strconv.Itoa(int(k)) + ")"
}

// EndpointTableKeyMap holds the endpoint table's keys.
type EndpointTableKeyMap struct {
	NavKeyMap
	// Sort cycles the sort key.
	Sort key.Binding
}

// DefaultEndpointTableKeyMap returns the navigation keys and s to sort.
func DefaultEndpointTableKeyMap() EndpointTableKeyMap {
	return EndpointTableKeyMap{
		NavKeyMap: DefaultNavKeyMap(),
		Sort:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
	}
}

// EndpointTable lists the endpoints of a parallel run — route, pairs, diff
// rate, noisy fields, primary and candidate p99, candidate errors — sorted
// by a key the user cycles, with a cursor that stays on the same endpoint
// as live updates reorder the rows. A narrow table leaves out the diff
// count and then the noisy fields first; candidate errors always show.
type EndpointTable struct {
	// KeyMap holds the table's keys.
	KeyMap EndpointTableKeyMap

	styles Styles
	sort   SortKey
	eps    []Endpoint // as the producer sent them
	order  []int      // indexes into eps, sorted
	cursor int        // index into order
	// selected is the key of the endpoint under the cursor, which the
	// cursor follows when rows move.
	selected string
	tbl      table
	// names are the candidates' when the endpoints compare several: a
	// diff-rate column each, instead of one DIFF% column.
	names []string
}

// NewEndpointTable returns an empty table sorted by diff rate.
func NewEndpointTable(st Styles) EndpointTable {
	t := EndpointTable{KeyMap: DefaultEndpointTableKeyMap(), styles: st}
	t.tbl.selectable = true
	t.tbl.cols = t.columns()
	t.tbl.empty = "no requests compared yet"
	return t
}

// endpointKey identifies an endpoint across snapshots.
func endpointKey(e *Endpoint) string { return e.Method + " " + e.Route }

// SetEndpoints replaces the listed endpoints, keeping the cursor on the
// endpoint it was on when that endpoint is still listed. The table keeps
// eps without copying it: the caller must not change it afterwards.
func (t *EndpointTable) SetEndpoints(eps []Endpoint) {
	t.eps = eps
	if names := candidateNames(eps); !slices.Equal(names, t.names) {
		t.names = names
		t.tbl.cols = t.columns()
	}
	t.resort()
}

// SetSize sets the table's size, header included.
func (t *EndpointTable) SetSize(w, h int) {
	t.tbl.setSize(w, h)
	t.tbl.follow(t.cursor, len(t.order))
}

// Sort returns the current sort key.
func (t EndpointTable) Sort() SortKey { return t.sort }

// SetSort orders the table by k.
func (t *EndpointTable) SetSort(k SortKey) {
	t.sort = ((k % sortKeys) + sortKeys) % sortKeys
	t.tbl.cols = t.columns()
	t.resort()
}

// Selected returns the endpoint under the cursor; false when the table is
// empty.
func (t EndpointTable) Selected() (Endpoint, bool) {
	if t.cursor < 0 || t.cursor >= len(t.order) {
		return Endpoint{}, false
	}
	return t.eps[t.order[t.cursor]], true
}

// Len returns the number of endpoints listed.
func (t EndpointTable) Len() int { return len(t.order) }

// Update moves the cursor and cycles the sort key.
func (t EndpointTable) Update(msg tea.Msg) (EndpointTable, tea.Cmd) {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return t, nil
	}
	if key.Matches(km, t.KeyMap.Sort) {
		t.SetSort(t.sort + 1)
		return t, nil
	}
	if cur, ok := t.KeyMap.move(km, t.cursor, len(t.order), t.tbl.pageRows()); ok {
		t.setCursor(cur)
	}
	return t, nil
}

// View renders the table; only the visible rows are formatted.
func (t EndpointTable) View() string {
	return t.tbl.render(len(t.order), func(i int) []cell {
		return t.cells(&t.eps[t.order[i]])
	}, t.cursor, t.styles)
}

// setCursor moves the cursor to row i and remembers its endpoint.
func (t *EndpointTable) setCursor(i int) {
	t.cursor = clamp(i, 0, len(t.order)-1)
	t.selected = ""
	if t.cursor < len(t.order) {
		t.selected = endpointKey(&t.eps[t.order[t.cursor]])
	}
	t.tbl.follow(t.cursor, len(t.order))
}

// resort orders the endpoints by the sort key and puts the cursor back on
// the selected endpoint.
func (t *EndpointTable) resort() {
	t.order = t.order[:0]
	for i := range t.eps {
		t.order = append(t.order, i)
	}
	slices.SortStableFunc(t.order, func(a, b int) int { return t.compare(&t.eps[a], &t.eps[b]) })
	cur := 0
	if t.selected != "" {
		for i, j := range t.order {
			if endpointKey(&t.eps[j]) == t.selected {
				cur = i
				break
			}
		}
	}
	t.setCursor(cur)
}

// compare orders two endpoints by the sort key, then route and method.
func (t *EndpointTable) compare(a, b *Endpoint) int {
	var c int
	switch t.sort {
	case SortDiffRate:
		c = cmp.Compare(b.DiffRate, a.DiffRate)
		if c == 0 {
			c = cmp.Compare(b.Diffs, a.Diffs)
		}
	case SortPairs:
		c = cmp.Compare(b.Pairs, a.Pairs)
	case SortLatency:
		c = cmp.Compare(b.CandidateP99-b.PrimaryP99, a.CandidateP99-a.PrimaryP99)
	}
	if c != 0 {
		return c
	}
	if c = cmp.Compare(a.Route, b.Route); c != 0 {
		return c
	}
	return cmp.Compare(a.Method, b.Method)
}

// columns returns the table's columns, the sorted one marked.
func (t *EndpointTable) columns() []column {
	mark := func(title string, k SortKey) string {
		if t.sort == k {
			if k == SortRoute {
				return title + "↑"
			}
			return title + "↓"
		}
		return title
	}
	cols := []column{
		{title: "METHOD", width: 6},
		{title: mark("ROUTE", SortRoute)},
		{title: mark("PAIRS", SortPairs), width: 8, right: true},
		{title: "DIFFS", width: 8, right: true, minTable: 100},
		{title: mark("DIFF%", SortDiffRate), width: 7, right: true},
		{title: "NOISY FIELDS", width: 12, right: true, minTable: 110},
		{title: "P99 PRI", width: 8, right: true},
		{title: mark("P99 CAND", SortLatency), width: 9, right: true},
		{title: "CAND ERR", width: 8, right: true},
	}
	if len(t.names) > 0 {
		// Several candidates: a diff rate each in place of DIFF% (the
		// first one's title marks the sort), the first candidate's p99
		// giving way on a narrow terminal.
		each := candidateColumns(t.names)
		if t.sort == SortDiffRate {
			each[0].title = mark(each[0].title, SortDiffRate)
			each[0].width = max(each[0].width, len(each[0].title))
		}
		cols[7].minTable = 90
		cols = append(slices.Clone(cols[:4]), append(each, cols[5:]...)...)
	}
	return cols
}

// cells renders one endpoint as table cells.
func (t *EndpointTable) cells(e *Endpoint) []cell {
	st := t.styles
	rate := t.rateCell(e.DiffRate)
	cand := plainCell(fmtDur(e.CandidateP99))
	if e.PrimaryP99 > 0 && e.CandidateP99 > e.PrimaryP99+e.PrimaryP99/5 {
		cand = styledCell(cand.text, st.Warn)
	}
	errs := plainCell(fmtCount(e.CandidateErrors))
	if e.CandidateErrors > 0 {
		errs = styledCell(errs.text, st.Bad)
	}
	cells := []cell{
		plainCell(e.Method),
		plainCell(e.Route),
		plainCell(fmtCount(e.Pairs)),
		plainCell(fmtCount(e.Diffs)),
		rate,
		plainCell(strconv.Itoa(e.NoisyFields)),
		plainCell(fmtDur(e.PrimaryP99)),
		cand,
		errs,
	}
	if len(t.names) > 0 {
		cells = append(slices.Clone(cells[:4]), append(t.candidateCells(e), cells[5:]...)...)
	}
	return cells
}

// rateCell renders a diff rate, warning above 0 and bad from 5%.
func (t *EndpointTable) rateCell(r float64) cell {
	c := plainCell(fmtPct(r))
	switch {
	case r >= 0.05:
		c = styledCell(c.text, t.styles.Bad)
	case r > 0:
		c = styledCell(c.text, t.styles.Warn)
	}
	return c
}
