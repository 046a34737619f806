package compare

import (
	"fmt"
	"strings"
)

// ComparatorKind names a way of comparing two bodies.
type ComparatorKind string

// AutoComparator picks the comparator per body: the first structured
// format that claims the body (JSON, then XML, then form; see the
// constants of each), text for other UTF-8 bodies, binary for the rest.
// The empty kind means auto too.
const AutoComparator ComparatorKind = "auto"

// ComparatorRule makes the bodies of one route compare with one
// comparator, whatever their Content-Type: a service that answers XML
// as text/plain, or JSON that should be compared as text.
type ComparatorRule struct {
	// Route selects the endpoint: a route template ("/orders/{id}") or
	// method and template ("POST /orders"), as reports show them (see
	// Normalizer.Route). Empty applies to every route.
	Route string `json:"route,omitempty" yaml:"route,omitempty" mapstructure:"route"`
	// Kind is the comparator: json, xml, form, text, binary, or auto
	// (also the empty value) to choose by content type.
	Kind ComparatorKind `json:"kind" yaml:"kind" mapstructure:"kind"`
}

func (r ComparatorRule) validate() error {
	if r.Route != "" {
		if _, _, err := parseRouteFilter(r.Route); err != nil {
			return fmt.Errorf("route: %w", err)
		}
	}
	if r.Kind == "" || knownComparator(r.Kind) {
		return nil
	}
	return fmt.Errorf("kind: unknown comparator %q (want %s or auto)", r.Kind, formatNames())
}

// comparatorRule is a compiled ComparatorRule.
type comparatorRule struct {
	method, route string // empty for any
	kind          ComparatorKind
}

// compileComparators compiles valid rules.
func compileComparators(rs []ComparatorRule) []comparatorRule {
	out := make([]comparatorRule, 0, len(rs))
	for _, r := range rs {
		c := comparatorRule{kind: r.Kind}
		if c.kind == "" {
			c.kind = AutoComparator
		}
		if r.Route != "" {
			c.method, c.route, _ = parseRouteFilter(r.Route)
		}
		out = append(out, c)
	}
	return out
}

// comparatorFor returns the comparator of the first rule that matches
// the endpoint, or AutoComparator.
func (e *Engine) comparatorFor(ep Endpoint) ComparatorKind {
	for _, r := range e.comparators {
		if (r.route == "" || r.route == ep.Route) && (r.method == "" || r.method == ep.Method) {
			return r.kind
		}
	}
	return AutoComparator
}

// mediaType returns the lower-case media type of a Content-Type, even a
// malformed one: what comes before the first ";", trimmed (which is what
// mime.ParseMediaType returns for a well-formed one), without allocating
// for the usual lower-case types.
func mediaType(ct string) string {
	base, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(base))
}
