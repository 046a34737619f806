package tui

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
)

// The README's table of dashboard keys (../README.md, "The dashboard")
// names every key the dashboard binds, and binds every key it names in its
// first column.
func TestReadmeKeyTableMatchesTheKeys(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "| key | does |")
	if start < 0 {
		t.Fatal(`README.md has no "| key | does |" table`)
	}
	table := text[start:]
	if end := strings.Index(table, "\n\n"); end >= 0 {
		table = table[:end]
	}
	code := regexp.MustCompile("`([^`]+)`")
	var named, mentioned []string
	for _, row := range strings.Split(table, "\n")[2:] {
		cells := strings.Split(row, "|")
		if len(cells) < 3 {
			t.Fatalf("README key table row %q has no two cells", row)
		}
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			named = append(named, m[1])
		}
		for _, m := range code.FindAllStringSubmatch(row, -1) {
			mentioned = append(mentioned, m[1])
		}
	}

	// The keys as the README writes them.
	shown := map[string]string{"up": "↑", "down": "↓", "pgdown": "pgdn", " ": "space"}
	var bound []string
	add := func(bs ...key.Binding) {
		for _, b := range bs {
			for _, k := range b.Keys() {
				if s, ok := shown[k]; ok {
					k = s
				}
				bound = append(bound, k)
			}
		}
	}
	g := DefaultKeyMap()
	add(g.Tab, g.Pause, g.RateUp, g.RateDown, g.SampleUp, g.SampleDown, g.Kill, g.Confirm, g.Cancel, g.Help, g.Quit)
	n := DefaultNavKeyMap()
	add(n.Up, n.Down, n.PageUp, n.PageDown, n.Top, n.Bottom)
	s := DefaultShadowKeyMap()
	add(s.Open, s.Back, s.Routes)
	add(DefaultEndpointTableKeyMap().Sort, DefaultMirrorRoutesKeyMap().Switch)

	for _, k := range bound {
		// Y and N confirm and cancel too; the README names y and n.
		if k != "Y" && k != "N" && !slices.Contains(mentioned, k) {
			t.Errorf("the README's key table does not name %q", k)
		}
	}
	for _, k := range named {
		if !slices.Contains(bound, k) {
			t.Errorf("the README's key table names %q, which the dashboard does not bind", k)
		}
	}
}
