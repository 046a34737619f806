package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// column describes one column of a table.
type column struct {
	title string
	// width is the column's width in cells; zero makes it the flexible
	// column that takes the space the others leave.
	width int
	// right aligns the column's cells to the right (numbers).
	right bool
	// minTable hides the column when the table is narrower than this.
	minTable int
}

// cell is one table cell: plain text and an optional style.
type cell struct {
	text  string
	style *lipgloss.Style
}

// plainCell returns an unstyled cell.
func plainCell(s string) cell { return cell{text: s} }

// styledCell returns a cell drawn with st.
func styledCell(s string, st lipgloss.Style) cell { return cell{text: s, style: &st} }

// minFlex is the narrowest the flexible column gets before optional
// columns are hidden.
const minFlex = 12

// marker prefixes the row under the cursor, so the selection shows without
// colour too; markerWidth is its width in cells (not bytes: ▸ takes three).
const (
	marker      = "▸ "
	noMarker    = "  "
	markerWidth = 2
)

// table renders rows under a header, scrolled to keep a cursor visible.
// Rendering only touches the visible rows, so a long table costs what a
// screenful does.
type table struct {
	cols []column
	// selectable draws the cursor marker column.
	selectable bool
	width      int
	// height counts the header and the rows.
	height int
	// offset is the first visible row.
	offset int
	// empty is shown under the header when there are no rows.
	empty string
}

// setSize sets the table's size, header included.
func (t *table) setSize(w, h int) {
	t.width, t.height = max(w, 0), max(h, 0)
}

// pageRows is how many rows fit under the header.
func (t *table) pageRows() int { return max(t.height-1, 0) }

// follow scrolls so the cursor row is visible among n rows.
func (t *table) follow(cursor, n int) {
	page := t.pageRows()
	if page == 0 {
		t.offset = 0
		return
	}
	if cursor < t.offset {
		t.offset = cursor
	}
	if cursor >= t.offset+page {
		t.offset = cursor - page + 1
	}
	t.offset = clamp(t.offset, 0, max(n-page, 0))
}

// layout returns the visible columns, where each one's cell sits in a row,
// and their widths for the table's width.
func (t *table) layout() ([]column, []int, []int) {
	avail := t.width
	if t.selectable {
		avail -= markerWidth
	}
	cols := make([]column, 0, len(t.cols))
	idx := make([]int, 0, len(t.cols))
	for i, c := range t.cols {
		if c.minTable == 0 || t.width >= c.minTable {
			cols = append(cols, c)
			idx = append(idx, i)
		}
	}
	fixed := 0
	for _, c := range cols {
		fixed += c.width
	}
	fixed += len(cols) - 1 // one space between columns
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = c.width
		if c.width == 0 {
			widths[i] = max(avail-fixed, minFlex)
		}
	}
	return cols, idx, widths
}

// render draws the header and the visible rows of n, getting each row's
// cells from rowAt; cursor is the selected row (ignored when the table is
// not selectable). The result has exactly height lines.
func (t *table) render(n int, rowAt func(int) []cell, cursor int, st Styles) string {
	if t.height <= 0 {
		return ""
	}
	cols, idx, widths := t.layout()
	var b strings.Builder
	b.Grow(t.width * t.height * 2)
	if t.selectable {
		b.WriteString(noMarker)
	}
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = pad(c.title, widths[i], c.right)
	}
	b.WriteString(st.Header.Render(strings.Join(head, " ")))

	page := t.pageRows()
	start := clamp(t.offset, 0, max(n-page, 0))
	end := min(start+page, n)
	parts := make([]string, len(cols))
	for r := start; r < end; r++ {
		b.WriteByte('\n')
		selected := t.selectable && r == cursor
		switch {
		case selected:
			b.WriteString(marker)
		case t.selectable:
			b.WriteString(noMarker)
		}
		row := rowAt(r)
		for i, c := range cols {
			var cl cell
			if idx[i] < len(row) {
				cl = row[idx[i]]
			}
			text := pad(oneLine(cl.text), widths[i], c.right)
			if cl.style != nil && !selected {
				text = cl.style.Render(text)
			}
			parts[i] = text
		}
		line := strings.Join(parts, " ")
		if selected {
			line = st.Selected.Render(line)
		}
		b.WriteString(line)
	}
	for i := end - start; i < page; i++ {
		b.WriteByte('\n')
		if n == 0 && i == 0 && t.empty != "" {
			b.WriteString(st.Muted.Render(truncate("  "+t.empty, t.width)))
		}
	}
	return b.String()
}
