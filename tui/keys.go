package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// KeyMap holds the dashboard's global keys: switching tabs, controlling the
// load, help and quitting. Keys that move within a view live in the view's
// own key map. It satisfies help.KeyMap.
type KeyMap struct {
	// Tab switches between the shadow and synth views when both exist.
	Tab key.Binding
	// Pause pauses the load, or resumes it when paused.
	Pause key.Binding
	// RateUp and RateDown change the target rate by one step, never above
	// the ceiling.
	RateUp   key.Binding
	RateDown key.Binding
	// SampleUp and SampleDown raise and lower the share of requests the
	// proxy mirrors by SampleStep points, within 0 to 100.
	SampleUp   key.Binding
	SampleDown key.Binding
	// Kill asks to stop the run at once; Confirm and Cancel answer.
	Kill    key.Binding
	Confirm key.Binding
	Cancel  key.Binding
	// Help toggles the full help.
	Help key.Binding
	// Quit leaves the dashboard (the instance keeps running).
	Quit key.Binding
}

// SampleStep is how many percentage points one press of the sample keys
// moves the share of requests the proxy mirrors.
const SampleStep = 10

// DefaultKeyMap returns the global keys: tab, p, +/-, [/], k (then y/n),
// ?, q.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Tab:        key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "switch view")),
		Pause:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause/resume")),
		RateUp:     key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "rate up")),
		RateDown:   key.NewBinding(key.WithKeys("-", "_"), key.WithHelp("-", "rate down")),
		SampleUp:   key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "sample +10%")),
		SampleDown: key.NewBinding(key.WithKeys("["), key.WithHelp("[", "sample -10%")),
		Kill:       key.NewBinding(key.WithKeys("k"), key.WithHelp("k", "kill")),
		Confirm:    key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "confirm")),
		Cancel:     key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n", "cancel")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
		Quit:       key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp returns the global keys for the one-line help.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Tab, k.Pause, k.RateUp, k.RateDown, k.SampleDown, k.SampleUp, k.Kill, k.Help, k.Quit}
}

// FullHelp returns the global keys for the full help.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Tab, k.Help, k.Quit}, {k.Pause, k.RateUp, k.RateDown, k.SampleDown, k.SampleUp, k.Kill}}
}

// NavKeyMap holds the keys that move a cursor or scroll within a view.
// There is no j/k: k kills.
type NavKeyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
}

// DefaultNavKeyMap returns arrows, page up/down, home and end.
func DefaultNavKeyMap() NavKeyMap {
	return NavKeyMap{
		Up:       key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "up")),
		Down:     key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "first")),
		Bottom:   key.NewBinding(key.WithKeys("end"), key.WithHelp("end", "last")),
	}
}

// ShortHelp returns the keys for the one-line help.
func (k NavKeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Up, k.Down} }

// FullHelp returns the keys for the full help.
func (k NavKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}}
}

// move returns where a cursor at cur among n items (page items per page)
// goes for msg's key, and whether the key was a navigation key.
func (k NavKeyMap) move(msgKey tea.KeyMsg, cur, n, page int) (int, bool) {
	page = max(page, 1)
	switch {
	case key.Matches(msgKey, k.Up):
		cur--
	case key.Matches(msgKey, k.Down):
		cur++
	case key.Matches(msgKey, k.PageUp):
		cur -= page
	case key.Matches(msgKey, k.PageDown):
		cur += page
	case key.Matches(msgKey, k.Top):
		cur = 0
	case key.Matches(msgKey, k.Bottom):
		cur = n - 1
	default:
		return cur, false
	}
	return clamp(cur, 0, n-1), true
}

// clamp bounds v to [lo, hi]; hi below lo yields lo.
func clamp(v, lo, hi int) int {
	return max(lo, min(v, hi))
}

// helpKeys is a help.KeyMap assembled from the shown view's keys and the
// global ones.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp returns the keys for the one-line help.
func (h helpKeys) ShortHelp() []key.Binding { return h.short }

// FullHelp returns the keys for the full help.
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }
