package compare

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/understudy-dev/understudy/internal/jsonpath"
)

// BuiltinPatterns are the named regular expressions a Replace normalizer
// can use through Normalizer.Builtin. Each match is replaced by
// "<name>" unless Replacement says otherwise.
var BuiltinPatterns = map[string]string{
	// uuid: 123e4567-e89b-12d3-a456-426614174000, any version.
	"uuid": `(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`,
	// rfc3339: 2024-05-01T12:34:56Z, with fractions and offsets.
	"rfc3339": `\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?`,
	// date: 2024-05-01.
	"date": `\b\d{4}-\d{2}-\d{2}\b`,
	// ipv4: 10.0.0.1.
	"ipv4": `\b(\d{1,3}\.){3}\d{1,3}\b`,
	// hex: 16 or more hex digits (hashes, trace ids, object ids).
	"hex": `(?i)\b[0-9a-f]{16,}\b`,
	// jwt: three base64url parts starting with eyJ.
	"jwt": `\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`,
	// epoch: Unix times in seconds or milliseconds (10 or 13 digits).
	"epoch": `\b\d{10}(\d{3})?\b`,
}

func builtinNames() []string {
	names := make([]string, 0, len(BuiltinPatterns))
	for n := range BuiltinPatterns {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// bodyPath names a non-JSON body in differences and normalizer paths.
const bodyPath = "body"

// tolNumber is a number compared with a tolerance.
type tolNumber struct {
	n        json.Number
	abs, rel float64
}

func tolEqual(a, b tolNumber) bool {
	if numEqual(a.n, b.n) {
		return true
	}
	fa, errA := a.n.Float64()
	fb, errB := b.n.Float64()
	if errA != nil || errB != nil {
		return false
	}
	d := math.Abs(fa - fb)
	abs, rel := max(a.abs, b.abs), max(a.rel, b.rel)
	return d <= abs || d <= rel*math.Max(math.Abs(fa), math.Abs(fb))
}

// normalizer is a compiled Normalizer: what it does (its kind and their
// parameters) and where (a route filter, and a path in the syntax of the
// body format it reaches). Each format's file applies the normalizers
// whose path it owns: json.go the JSON paths, xml.go the XML paths,
// form.go the form paths, text.go the "body" ones, headers.go the header
// ones; a Replace without a Path reaches all of them but headers.
type normalizer struct {
	kind          NormalizerKind
	method, route string // route filter; empty for any

	// Where: at most one path is set. Path syntax is parsed in
	// pattern.go (JSON paths, in internal/jsonpath's grammar, and form
	// paths) and xmlpath.go (XML paths) alone.
	pat        *jsonpath.Pattern // a JSON path; nil otherwise
	xpat       xpattern          // an XML path; nil otherwise
	fpat       *formPattern      // a form path; nil otherwise
	header     string            // canonical header name or "*"; "" otherwise
	textBody   bool              // Path "body" or empty: text bodies
	allStrings bool              // empty Path: every string value of every format

	// What.
	re       *regexp.Regexp // replace
	repl     string         // replace
	key      []string       // sort
	abs, rel float64        // tolerance
}

func compileNormalizer(n Normalizer) (*normalizer, error) {
	c := &normalizer{kind: n.Kind, abs: n.Tolerance, rel: n.Relative}
	if n.Route != "" {
		m, r, err := parseRouteFilter(n.Route)
		if err != nil {
			return nil, err
		}
		c.method, c.route = m, r
	}
	if n.Key != "" {
		c.key = strings.Split(n.Key, ".")
	}
	if n.Kind == Replace {
		expr := n.Pattern
		c.repl = n.Replacement
		if n.Builtin != "" {
			expr = BuiltinPatterns[n.Builtin]
			if c.repl == "" {
				c.repl = "<" + n.Builtin + ">"
			}
		}
		if c.repl == "" {
			c.repl = "<replaced>"
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, err
		}
		c.re = re
		switch {
		case n.Path == "":
			c.allStrings, c.textBody = true, true
			return c, nil
		case n.Path == bodyPath:
			c.textBody = true
			return c, nil
		case isHeaderPath(n.Path):
			name := strings.TrimPrefix(n.Path, "header.")
			if name != "*" {
				name = http.CanonicalHeaderKey(name)
			}
			c.header = name
			return c, nil
		}
	}
	switch {
	case strings.HasPrefix(n.Path, "/"):
		p, err := parseXPattern(n.Path)
		if err != nil {
			return nil, err
		}
		c.xpat = p
	case isFormPath(n.Path):
		p, err := parseFormPattern(n.Path)
		if err != nil {
			return nil, err
		}
		c.fpat = &p
	default:
		p, err := parseJSONPath(n.Path)
		if err != nil {
			return nil, err
		}
		c.pat = p
	}
	return c, nil
}

// scalar is a text value of an XML or form body (element text, attribute
// or form value) as normalized: tol is the Tolerance normalizer that
// applies to it, if any.
type scalar struct {
	s   string
	tol *normalizer
}

// rewrite applies a Replace or Tolerance normalizer to a value it
// matched; other kinds do not rewrite values.
func (n *normalizer) rewrite(v scalar, matched bool) scalar {
	if !matched {
		return v
	}
	switch n.kind {
	case Replace:
		v.s = n.re.ReplaceAllString(v.s, n.repl)
	case Tolerance:
		v.tol = n
	}
	return v
}

// scalarEqual compares two values as text, or as numbers within a
// tolerance when a Tolerance normalizer applies to either and both are
// numbers.
func scalarEqual(a, b scalar) bool {
	if a.s == b.s {
		return true
	}
	if a.tol == nil && b.tol == nil {
		return false
	}
	x, y := strings.TrimSpace(a.s), strings.TrimSpace(b.s)
	if _, ok := parseDecimal(x); !ok {
		return false
	}
	if _, ok := parseDecimal(y); !ok {
		return false
	}
	tx, ty := tolNumber{n: json.Number(x)}, tolNumber{n: json.Number(y)}
	for _, t := range []*normalizer{a.tol, b.tol} {
		if t != nil {
			tx.abs, tx.rel = max(tx.abs, t.abs), max(tx.rel, t.rel)
		}
	}
	return tolEqual(tx, ty)
}

// appliesTo reports whether the route filter admits an endpoint.
func (n *normalizer) appliesTo(ep Endpoint) bool {
	return (n.route == "" || n.route == ep.Route) && (n.method == "" || n.method == ep.Method)
}

// compileNormalizers compiles the configured normalizers in order.
func compileNormalizers(ns []Normalizer) ([]*normalizer, error) {
	out := make([]*normalizer, 0, len(ns))
	for i, n := range ns {
		c, err := compileNormalizer(n)
		if err != nil {
			return nil, fmt.Errorf("normalizers[%d]: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}
