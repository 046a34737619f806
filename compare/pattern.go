package compare

import (
	"errors"
	"fmt"
	"strings"

	"github.com/understudy-dev/understudy/internal/jsonpath"
)

// JSON paths in normalizers ("$.items[*].eta", "$..updated_at",
// "$['a.b']") are in the grammar of package internal/jsonpath, the one
// capture's redaction (Redactor.FieldPaths) uses too, so a path means the
// same in both. This file adapts it: JSON paths (parseJSONPath), form
// paths, whose one key step is a JSON path's ("form.qty",
// `form["order-id"]`), and the rendering of the paths of differences in
// the same syntax (appendKeyStep). XML paths have their own grammar, in
// xmlpath.go.

// parseJSONPath parses the JSON path of a normalizer.
func parseJSONPath(s string) (*jsonpath.Pattern, error) {
	p, err := jsonpath.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", s, err)
	}
	return p, nil
}

// appendKeyStep appends ".key" or `["key"]`: a key step of a JSON path.
func appendKeyStep(b []byte, key string) []byte {
	if jsonpath.IsIdent(key) {
		return append(append(b, '.'), key...)
	}
	b = append(b, '[')
	b = appendQuoted(b, key)
	return append(b, ']')
}

// formPattern is a compiled form path: a key, or any key.
type formPattern struct {
	key string
	any bool
}

// isFormPath reports whether a normalizer path targets form bodies.
func isFormPath(p string) bool {
	return strings.HasPrefix(p, "form.") || strings.HasPrefix(p, "form[")
}

// parseFormPattern compiles "form.key", `form["key"]`, "form.*" or
// "form[*]": "form" and one step of a JSON path.
func parseFormPattern(s string) (formPattern, error) {
	const root = "form"
	p, err := jsonpath.Parse("$" + strings.TrimPrefix(s, root))
	if se := (*jsonpath.SyntaxError)(nil); errors.As(err, &se) {
		se.Offset += len(root) - len("$") // an offset in s
	}
	if err != nil {
		return formPattern{}, fmt.Errorf("form path %q: %w", s, err)
	}
	steps, concrete := p.Steps()
	switch {
	case p.Len() != 1:
		return formPattern{}, fmt.Errorf("form path %q: want one key (form.key, form[\"key\"] or form.*); a normalizer applies to all of a key's values", s)
	case !concrete: // the one step is * ('..' needs a step after it)
		return formPattern{any: true}, nil
	case steps[0].IsIndex:
		return formPattern{}, fmt.Errorf("form path %q: want a key, not an index", s)
	}
	return formPattern{key: steps[0].Key}, nil
}

func (p formPattern) matches(key string) bool { return p.any || p.key == key }
