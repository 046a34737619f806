package compare

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
)

// ComparatorKind names a way of comparing two bodies.
type ComparatorKind string

// The comparators. Automatic choice looks at each body's Content-Type
// and, for JSON and XML, at its first bytes.
const (
	// AutoComparator picks per body: JSON for application/json, text/json
	// and anything+json, or a body that starts with "{" or "["; XML for
	// application/xml, text/xml and anything+xml, or a body that starts
	// with "<?xml"; form for application/x-www-form-urlencoded; text for
	// other UTF-8 bodies; binary for the rest. The empty kind means auto.
	AutoComparator ComparatorKind = "auto"
	// JSONComparator diffs bodies as JSON trees, field by field
	// ("$.items[2].price").
	JSONComparator ComparatorKind = "json"
	// XMLComparator diffs bodies as XML element trees: element paths
	// ("/order/items/item[2]/price"), attributes ("/order/@id") and text.
	XMLComparator ComparatorKind = "xml"
	// FormComparator diffs application/x-www-form-urlencoded bodies key by
	// key ("form.qty"); a repeated key is a list ("form.tag[1]").
	FormComparator ComparatorKind = "form"
	// TextComparator compares bodies as text, with a short line diff.
	TextComparator ComparatorKind = "text"
	// BinaryComparator compares bodies byte for byte, reporting sizes and
	// the first differing offset.
	BinaryComparator ComparatorKind = "binary"
)

const comparatorList = "json, xml, form, text, binary or auto"

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
			return fmt.Errorf("Route: %w", err)
		}
	}
	switch r.Kind {
	case "", AutoComparator, JSONComparator, XMLComparator, FormComparator, TextComparator, BinaryComparator:
		return nil
	}
	return fmt.Errorf("Kind: unknown comparator %q (want %s)", r.Kind, comparatorList)
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

// claims reports whether a body is to be compared with comparator k: it
// was forced to k, or, with automatic choice, its Content-Type or first
// bytes say so. Whether it also parses is the comparator's business.
func (b *bodyView) claims(k ComparatorKind) bool {
	if b.kind != AutoComparator {
		return b.kind == k
	}
	switch k {
	case JSONComparator:
		return isJSONType(b.resp.Header.Get("Content-Type")) || looksJSON(b.body)
	case XMLComparator:
		return isXMLType(b.resp.Header.Get("Content-Type")) || looksXML(b.body)
	case FormComparator:
		return mediaType(b.resp.Header.Get("Content-Type")) == "application/x-www-form-urlencoded"
	}
	return false
}

// mediaType returns the lower-case media type of a Content-Type, even a
// malformed one.
func mediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	return mt
}

// isXMLType reports whether a Content-Type names XML (application/xml,
// text/xml, anything+xml).
func isXMLType(ct string) bool {
	mt := mediaType(ct)
	return mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
}

// looksXML reports whether a body starts with an XML declaration
// (after a byte order mark and white space).
func looksXML(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	return bytes.HasPrefix(b, []byte("<?xml"))
}
