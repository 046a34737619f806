package tui

import "github.com/charmbracelet/lipgloss"

// Styles holds every style the dashboard draws with. Colours degrade on
// terminals with fewer colours (lipgloss picks the terminal's profile), and
// nothing relies on colour alone: selections carry a marker and differences
// a sign, so the dashboard reads the same on a monochrome terminal.
type Styles struct {
	// Title is the program name in the header; Tab an inactive tab,
	// ActiveTab the shown one.
	Title     lipgloss.Style
	Tab       lipgloss.Style
	ActiveTab lipgloss.Style
	// Label is a field's name, Value its value, Muted secondary text,
	// Heading a section title.
	Label   lipgloss.Style
	Value   lipgloss.Style
	Muted   lipgloss.Style
	Heading lipgloss.Style
	// Good, Warn and Bad colour states: a passing verdict, a degraded
	// value, a failure.
	Good lipgloss.Style
	Warn lipgloss.Style
	Bad  lipgloss.Style
	// Banner is a prominent full-width alert, such as a tripped guardrail.
	Banner lipgloss.Style
	// Header is a table's column titles; Selected the row under the cursor.
	Header   lipgloss.Style
	Selected lipgloss.Style
	// Removed, Added, Changed and TypeChanged colour the differences of an
	// exemplar: red, green, yellow, magenta.
	Removed     lipgloss.Style
	Added       lipgloss.Style
	Changed     lipgloss.Style
	TypeChanged lipgloss.Style
	// SeriesA and SeriesB colour the two lines of a chart (primary and
	// candidate, target and achieved).
	SeriesA lipgloss.Style
	SeriesB lipgloss.Style
	// Axis colours a chart's axes and labels.
	Axis lipgloss.Style
	// Status is the status bar; StatusError an error in it; Prompt a
	// question waiting for an answer.
	Status      lipgloss.Style
	StatusError lipgloss.Style
	Prompt      lipgloss.Style
	// BarFull and BarEmpty draw a progress bar's filled and empty parts.
	BarFull  lipgloss.Style
	BarEmpty lipgloss.Style
}

// Colours shared by several styles; adaptive so they read on light and dark
// backgrounds.
var (
	colorAccent = lipgloss.AdaptiveColor{Light: "#5A56E0", Dark: "#7571F9"}
	colorMuted  = lipgloss.AdaptiveColor{Light: "#8A8A8A", Dark: "#6C6C6C"}
	colorGreen  = lipgloss.AdaptiveColor{Light: "#0A8A2A", Dark: "#3FD068"}
	colorYellow = lipgloss.AdaptiveColor{Light: "#A06C00", Dark: "#F2C94C"}
	colorRed    = lipgloss.AdaptiveColor{Light: "#C4131F", Dark: "#FF5F5F"}
	colorPurple = lipgloss.AdaptiveColor{Light: "#9A1FA8", Dark: "#E17BFF"}
	colorBlue   = lipgloss.AdaptiveColor{Light: "#1F5FBF", Dark: "#5FAFFF"}
)

// DefaultStyles returns the dashboard's styles.
func DefaultStyles() Styles {
	s := lipgloss.NewStyle()
	return Styles{
		Title:       s.Bold(true).Foreground(colorAccent),
		Tab:         s.Foreground(colorMuted),
		ActiveTab:   s.Bold(true).Underline(true),
		Label:       s.Foreground(colorMuted),
		Value:       s.Bold(true),
		Muted:       s.Foreground(colorMuted),
		Heading:     s.Bold(true).Foreground(colorAccent),
		Good:        s.Bold(true).Foreground(colorGreen),
		Warn:        s.Foreground(colorYellow),
		Bad:         s.Bold(true).Foreground(colorRed),
		Banner:      s.Bold(true).Reverse(true).Foreground(colorRed),
		Header:      s.Bold(true).Foreground(colorMuted),
		Selected:    s.Bold(true).Reverse(true),
		Removed:     s.Foreground(colorRed),
		Added:       s.Foreground(colorGreen),
		Changed:     s.Foreground(colorYellow),
		TypeChanged: s.Foreground(colorPurple),
		SeriesA:     s.Foreground(colorBlue),
		SeriesB:     s.Foreground(colorYellow),
		Axis:        s.Foreground(colorMuted),
		Status:      s.Foreground(colorMuted),
		StatusError: s.Bold(true).Foreground(colorRed),
		Prompt:      s.Bold(true).Reverse(true).Foreground(colorYellow),
		BarFull:     s.Foreground(colorAccent),
		BarEmpty:    s.Foreground(colorMuted),
	}
}
