package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// MirrorRoutesKeyMap holds the route list's keys.
type MirrorRoutesKeyMap struct {
	NavKeyMap
	// Switch turns the selected route's mirroring off, or back on. The
	// list only selects; the dashboard, which holds the Controller, acts.
	Switch key.Binding
}

// DefaultMirrorRoutesKeyMap returns the navigation keys, and space or
// enter to switch.
func DefaultMirrorRoutesKeyMap() MirrorRoutesKeyMap {
	return MirrorRoutesKeyMap{
		NavKeyMap: DefaultNavKeyMap(),
		Switch:    key.NewBinding(key.WithKeys(" ", "enter"), key.WithHelp("space", "switch on/off")),
	}
}

// MirrorRoutes is the shadow view's page of the proxy's configured routes
// (mirror.routes, by name, in match order), each with whether it is
// mirrored now, under the sample share. Routes are not the endpoint
// table's endpoints: a route is a path pattern that may cover many
// endpoints, and an endpoint is named by its path template, so the
// operator switches routes here, by name. A request takes the first route
// that matches it, so switching a route off leaves its requests
// unmirrored rather than passing them to a later route. The cursor stays
// on the same route across live updates.
type MirrorRoutes struct {
	// KeyMap holds the list's keys.
	KeyMap MirrorRoutesKeyMap

	styles Styles
	tuning Tuning
	have   bool
	cursor int
	// selected is the name under the cursor, which the cursor follows.
	selected string
	tbl      table
	width    int
}

// NewMirrorRoutes returns an empty list.
func NewMirrorRoutes(st Styles) MirrorRoutes {
	r := MirrorRoutes{KeyMap: DefaultMirrorRoutesKeyMap(), styles: st}
	r.tbl.selectable = true
	r.tbl.cols = []column{
		{title: "MIRRORED", width: 8},
		{title: "ROUTE"},
	}
	r.tbl.empty = "no routes configured: safe requests are mirrored, unsafe ones are not"
	return r
}

// SetTuning shows t; nil means the proxy does not report its routes.
func (r *MirrorRoutes) SetTuning(t *Tuning) {
	r.have = t != nil
	r.tuning = Tuning{}
	if t != nil {
		r.tuning = *t
	}
	cur := 0
	for i, rt := range r.tuning.Routes {
		if rt.Name == r.selected {
			cur = i
			break
		}
	}
	r.setCursor(cur)
}

// SetSize sets the list's size, its two head lines included.
func (r *MirrorRoutes) SetSize(w, h int) {
	r.width = w
	r.tbl.setSize(w, h-2)
	r.tbl.follow(r.cursor, len(r.tuning.Routes))
}

// Selected returns the route under the cursor; false when there is none.
func (r MirrorRoutes) Selected() (MirrorRoute, bool) {
	if r.cursor < 0 || r.cursor >= len(r.tuning.Routes) {
		return MirrorRoute{}, false
	}
	return r.tuning.Routes[r.cursor], true
}

// Update moves the cursor.
func (r MirrorRoutes) Update(msg tea.Msg) (MirrorRoutes, tea.Cmd) {
	if km, ok := msg.(tea.KeyMsg); ok {
		if cur, ok := r.KeyMap.move(km, r.cursor, len(r.tuning.Routes), r.tbl.pageRows()); ok {
			r.setCursor(cur)
		}
	}
	return r, nil
}

// setCursor moves the cursor to row i and remembers its route.
func (r *MirrorRoutes) setCursor(i int) {
	n := len(r.tuning.Routes)
	r.cursor = clamp(i, 0, n-1)
	if r.cursor < n {
		r.selected = r.tuning.Routes[r.cursor].Name
	}
	r.tbl.follow(r.cursor, n)
}

// View renders the sample share, a hint and the routes.
func (r MirrorRoutes) View() string {
	st := r.styles
	if !r.have {
		return st.Muted.Render("this proxy does not report its sample share and routes")
	}
	t := r.tuning
	head := st.Heading.Render("MIRROR ROUTES") + st.Muted.Render(" · ") + sampleText(&t, st)
	if off := len(t.off()); off > 0 {
		head += st.Muted.Render(" · ") + st.Warn.Render(strconv.Itoa(off)+" of "+strconv.Itoa(len(t.Routes))+" off")
	}
	hint := st.Muted.Render("space switches the selected route · [ ] change the sample · esc goes back")
	rows := r.tbl.render(len(t.Routes), func(i int) []cell {
		rt := &t.Routes[i]
		on := plainCell("yes")
		if rt.Disabled {
			on = styledCell("no (off)", st.Warn)
		}
		return []cell{on, plainCell(rt.Name)}
	}, r.cursor, st)
	return strings.Join([]string{truncate(head, r.width), truncate(hint, r.width), rows}, "\n")
}

// sampleText renders the sample share and what it samples by: the whole
// of it is a warning when nothing is mirrored.
func sampleText(t *Tuning, st Styles) string {
	s := "sample " + fmtPercent(t.SamplePercent)
	if t.SampleBy != "" {
		s += " by " + oneLine(t.SampleBy)
	}
	if t.SamplePercent <= 0 {
		return st.Warn.Render(s + " (nothing mirrored)")
	}
	return st.Label.Render("sample ") + strings.TrimPrefix(s, "sample ")
}
