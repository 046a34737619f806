package tui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// EndpointFields is the drill-down into one endpoint: a summary line, then
// the fields that differed with their counts (noise marked), then the
// endpoint's exemplars. The cursor runs over fields and exemplars; the
// shadow view opens the exemplar of the row under it.
type EndpointFields struct {
	// KeyMap holds the list's keys.
	KeyMap NavKeyMap

	styles Styles
	ep     Endpoint
	fields []Field // sorted: real differences first, most first
	rows   [][]cell
	cursor int
	tbl    table
	width  int
}

// NewEndpointFields returns an empty list.
func NewEndpointFields(st Styles) EndpointFields {
	f := EndpointFields{KeyMap: DefaultNavKeyMap(), styles: st}
	f.tbl.selectable = true
	f.tbl.cols = []column{
		{title: "TYPE", width: 8},
		{title: "PATH / REQUEST"},
		{title: "CAND DIFFS", width: 10, right: true},
		{title: "SEC DIFFS", width: 9, right: true},
		{title: "NOTE", width: 12},
	}
	return f
}

// SetEndpoint shows ep. The cursor stays where it was when ep is the same
// endpoint as before (a live update), and goes to the top otherwise.
func (f *EndpointFields) SetEndpoint(ep Endpoint) {
	same := endpointKey(&ep) == endpointKey(&f.ep)
	f.ep = ep
	f.fields = append(f.fields[:0], ep.Fields...)
	slices.SortStableFunc(f.fields, func(a, b Field) int {
		if a.IsNoise != b.IsNoise {
			if a.IsNoise {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(b.Diffs, a.Diffs); c != 0 {
			return c
		}
		return cmp.Compare(a.Path, b.Path)
	})
	f.rows = f.rows[:0]
	for i := range f.fields {
		f.rows = append(f.rows, f.fieldCells(&f.fields[i]))
	}
	for i := range ep.Exemplars {
		f.rows = append(f.rows, f.exemplarCells(&ep.Exemplars[i]))
	}
	if !same {
		f.cursor = 0
	}
	f.cursor = clamp(f.cursor, 0, len(f.rows)-1)
	f.tbl.follow(f.cursor, len(f.rows))
}

// Endpoint returns the endpoint shown.
func (f EndpointFields) Endpoint() Endpoint { return f.ep }

// SetSize sets the list's size, summary line included.
func (f *EndpointFields) SetSize(w, h int) {
	f.width = w
	f.tbl.setSize(w, h-2)
	f.tbl.follow(f.cursor, len(f.rows))
}

// Update moves the cursor.
func (f EndpointFields) Update(msg tea.Msg) (EndpointFields, tea.Cmd) {
	if km, ok := msg.(tea.KeyMsg); ok {
		if cur, ok := f.KeyMap.move(km, f.cursor, len(f.rows), f.tbl.pageRows()); ok {
			f.cursor = cur
			f.tbl.follow(f.cursor, len(f.rows))
		}
	}
	return f, nil
}

// Exemplar returns the exemplar for the row under the cursor: that
// exemplar, or for a field the first exemplar that differs at that path
// (or below it). False when there is none.
func (f EndpointFields) Exemplar() (Exemplar, bool) {
	if f.cursor >= len(f.fields) {
		i := f.cursor - len(f.fields)
		if i >= 0 && i < len(f.ep.Exemplars) {
			return f.ep.Exemplars[i], true
		}
		return Exemplar{}, false
	}
	path := f.fields[f.cursor].Path
	for _, ex := range f.ep.Exemplars {
		for _, d := range ex.Differences {
			if d.Path == path || strings.HasPrefix(d.Path, path+".") || strings.HasPrefix(d.Path, path+"[") {
				return ex, true
			}
		}
	}
	return Exemplar{}, false
}

// Field returns the field under the cursor; false on an exemplar row.
func (f EndpointFields) Field() (Field, bool) {
	if f.cursor < len(f.fields) {
		return f.fields[f.cursor], true
	}
	return Field{}, false
}

// View renders the summary line, a hint and the list.
func (f EndpointFields) View() string {
	st, e := f.styles, f.ep
	parts := []string{
		st.Value.Render(e.Method + " " + e.Route),
		fmtCount(e.Pairs) + " pairs",
		fmtCount(e.Diffs) + " diffs (" + fmtPct(e.DiffRate) + ")",
		strconv.Itoa(e.NoisyFields) + " noisy fields",
		"p99 " + fmtDur(e.PrimaryP99) + " → " + fmtDur(e.CandidateP99),
	}
	if e.CandidateErrors > 0 {
		parts = append(parts, st.Bad.Render(fmtCount(e.CandidateErrors)+" candidate errors"))
	}
	head := strings.Join(parts, st.Muted.Render(" · "))
	hint := st.Muted.Render(strconv.Itoa(len(f.fields)) + " fields, " +
		strconv.Itoa(len(e.Exemplars)) + " exemplars · enter opens an exemplar · esc goes back")
	if len(f.rows) == 0 {
		return head + "\n" + hint + "\n" + st.Muted.Render("  no differing fields recorded for this endpoint")
	}
	return head + "\n" + hint + "\n" + f.tbl.render(len(f.rows), func(i int) []cell { return f.rows[i] }, f.cursor, st)
}

// fieldCells renders a field row.
func (f *EndpointFields) fieldCells(fl *Field) []cell {
	st := f.styles
	note := plainCell("")
	diffs := plainCell(fmtCount(fl.Diffs))
	if fl.IsNoise {
		note = styledCell("noise", st.Muted)
		diffs = styledCell(diffs.text, st.Muted)
	} else if fl.Diffs > 0 {
		diffs = styledCell(diffs.text, st.Warn)
	}
	return []cell{plainCell("field"), plainCell(fl.Path), diffs, plainCell(fmtCount(fl.Noise)), note}
}

// exemplarCells renders an exemplar row.
func (f *EndpointFields) exemplarCells(ex *Exemplar) []cell {
	status := strconv.Itoa(ex.PrimaryStatus) + " → " + strconv.Itoa(ex.CandidateStatus)
	note := plainCell(status)
	if ex.PrimaryStatus != ex.CandidateStatus {
		note = styledCell(status, f.styles.Bad)
	}
	return []cell{
		styledCell("exemplar", f.styles.Muted),
		plainCell(ex.Method + " " + ex.URL),
		plainCell(strconv.Itoa(len(ex.Differences))),
		plainCell(""),
		note,
	}
}
