package egress

import (
	"fmt"
	"strings"
)

// template is a parsed Dependency.Routes entry: literal segments and
// "{name}" segments that match any one non-empty segment.
type template struct {
	text string
	segs []tseg
}

type tseg struct {
	lit   string
	param bool
}

// parseTemplate parses a route template such as "/charges/{id}/capture".
func parseTemplate(s string) (template, error) {
	if !strings.HasPrefix(s, "/") {
		return template{}, fmt.Errorf("%q: a route template starts with /", s)
	}
	t := template{text: s}
	for _, part := range strings.Split(s[1:], "/") {
		name, isParam := strings.CutPrefix(part, "{")
		name, closed := strings.CutSuffix(name, "}")
		switch {
		case isParam && closed && name != "" && !strings.ContainsAny(name, "{}"):
			t.segs = append(t.segs, tseg{param: true})
		case strings.ContainsAny(part, "{}"):
			return template{}, fmt.Errorf("%q: segment %q: a parameter is a whole segment like {id}", s, part)
		default:
			t.segs = append(t.segs, tseg{lit: part})
		}
	}
	return t, nil
}

// match reports whether path (no query) fits t.
func (t *template) match(path string) bool {
	if !strings.HasPrefix(path, "/") {
		return false
	}
	parts := strings.Split(path[1:], "/")
	if len(parts) != len(t.segs) {
		return false
	}
	for i, s := range t.segs {
		if s.param && parts[i] == "" || !s.param && s.lit != parts[i] {
			return false
		}
	}
	return true
}

// templates maps a path to the template its calls are keyed under: the
// first route that matches, or the path itself.
type templates []template

func (ts templates) of(path string) string {
	for i := range ts {
		if ts[i].match(path) {
			return ts[i].text
		}
	}
	return path
}
