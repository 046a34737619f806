package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds how many YAML nodes one file may expand to, aliases
// included, so a small file cannot make the decoder walk forever.
const maxNodes = 100_000

// Load reads a scenario file and parses it (see Parse).
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario %q: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes a scenario from YAML and validates it. Decoding is strict:
// unknown fields, values of the wrong type and bad durations are errors.
// All problems found are returned together as a *ValidationError whose
// entries name the file (name), the line and the field.
func Parse(name string, data []byte) (*Scenario, error) {
	sc := &Scenario{file: name, lines: map[string]int{}}
	d := &decoder{file: name, lines: sc.lines, bad: map[string]bool{}, budget: maxNodes}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		d.problem("", 0, "the file is empty: want a scenario")
		return nil, d.err()
	case err != nil:
		d.yamlError(err)
		return nil, d.err()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			line = 0
		}
		d.problem("", line, "more than one YAML document: want exactly one scenario")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		d.problem("", root.Line, "want a mapping of scenario fields, got "+kindName(root))
		return nil, d.err()
	}
	d.decode(root, reflect.ValueOf(sc).Elem(), "")
	for _, p := range sc.check() {
		if !d.isBad(p.Field) {
			d.probs = append(d.probs, p)
		}
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return sc, nil
}

// decoder turns a yaml.Node tree into Go values, recording every problem
// (with its field path and line) instead of stopping at the first.
type decoder struct {
	file   string
	lines  map[string]int
	bad    map[string]bool // fields that failed to decode
	probs  []Problem
	budget int
}

func (d *decoder) problem(field string, line int, msg string) {
	d.probs = append(d.probs, Problem{File: d.file, Line: line, Field: field, Msg: msg})
	if field != "" {
		d.bad[field] = true
	}
}

func (d *decoder) err() error {
	if len(d.probs) == 0 {
		return nil
	}
	return newValidationError(d.probs)
}

// isBad reports whether field or one of its parents failed to decode, so
// validation does not pile a second complaint onto the first.
func (d *decoder) isBad(field string) bool {
	for f := field; f != ""; f = parentField(f) {
		if d.bad[f] {
			return true
		}
	}
	return false
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (d *decoder) yamlError(err error) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.problem("", line, "bad YAML: "+m[2])
		return
	}
	d.problem("", 0, "bad YAML: "+strings.TrimPrefix(msg, "yaml: "))
}

var (
	durationType   = reflect.TypeFor[time.Duration]()
	capturesType   = reflect.TypeFor[Captures]()
	jsonAssertTyp  = reflect.TypeFor[JSONAssertions]()
	thinkType      = reflect.TypeFor[Think]()
	guardrailsType = reflect.TypeFor[Guardrails]()
	statusesType   = reflect.TypeFor[Statuses]()
)

// decode stores n into v, whose path in the scenario is field.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, field string) {
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.problem(field, n.Line, fmt.Sprintf("the document expands to more than %d nodes", maxNodes))
		}
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // leave the zero value
	}
	switch {
	case v.Type() == durationType:
		d.duration(n, v, field)
		return
	case v.Type() == capturesType:
		d.captures(n, v, field)
		return
	case v.Type() == jsonAssertTyp:
		d.jsonAssertions(n, v, field)
		return
	case v.Type() == thinkType && n.Kind == yaml.ScalarNode:
		d.duration(n, v.Field(0), field) // think: 500ms is {min: 500ms}
		return
	case v.Type() == guardrailsType:
		d.guardrails(n, v.Addr().Interface().(*Guardrails), field)
		return
	case v.Type() == statusesType:
		v.Set(reflect.ValueOf(d.statuses(n, field)))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), field)
	case reflect.Struct:
		d.structure(n, v, field)
	case reflect.Slice:
		d.sequence(n, v, field)
	case reflect.Map:
		d.mapping(n, v, field)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.problem(field, n.Line, "bad value: "+strings.TrimPrefix(err.Error(), "yaml: "))
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		d.scalar(n, v, field)
	}
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind != yaml.MappingNode {
		d.problem(field, n.Line, "want a mapping, got "+kindName(n))
		return
	}
	fields := yamlFields(v.Type())
	d.entries(n, field, func(key string, keyNode, val *yaml.Node, path string) {
		i, ok := fields[key]
		if !ok {
			d.problem(path, keyNode.Line, fmt.Sprintf("unknown field %q (want one of %s)", key, fieldList(v.Type())))
			return
		}
		d.decode(val, v.Field(i), path)
	})
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind != yaml.MappingNode {
		d.problem(field, n.Line, "want a mapping, got "+kindName(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	d.entries(n, field, func(key string, _, val *yaml.Node, path string) {
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, path)
		v.SetMapIndex(reflect.ValueOf(key), elem)
	})
}

// guardrails decodes a mapping of window limits (with queries: for query
// guardrails) or a list whose items are query guardrails (items with a
// query) or, at most once, the window limits.
func (d *decoder) guardrails(n *yaml.Node, g *Guardrails, field string) {
	if n.Kind != yaml.SequenceNode {
		d.structure(n, reflect.ValueOf(g).Elem(), field)
		for i := range g.Queries {
			g.Queries[i].field = fmt.Sprintf("%s.queries[%d]", field, i)
		}
		return
	}
	limits := ""
	for i, item := range n.Content {
		path := fmt.Sprintf("%s[%d]", field, i)
		d.lines[path] = item.Line
		if item.Kind != yaml.MappingNode && item.Kind != yaml.AliasNode {
			d.problem(path, item.Line, "want a mapping (a query guardrail, or the window limits), got "+kindName(item))
			continue
		}
		if hasKey(item, "query") {
			q := QueryGuardrail{field: path}
			d.decode(item, reflect.ValueOf(&q).Elem(), path)
			g.Queries = append(g.Queries, q)
			continue
		}
		if limits != "" {
			d.problem(path, item.Line, fmt.Sprintf("the window limits (max_error_rate, max_p99, window, min_samples) are already set by %s: want one such item; a query guardrail needs a query", limits))
			continue
		}
		limits = path
		queries := g.Queries
		g.Queries = nil
		d.decode(item, reflect.ValueOf(g).Elem(), path)
		g.Queries = append(queries, g.Queries...)
	}
}

// hasKey reports whether n is a mapping with the key.
func hasKey(n *yaml.Node, key string) bool {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

func (d *decoder) captures(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind != yaml.MappingNode {
		d.problem(field, n.Line, "want a mapping of variable: JSON path, got "+kindName(n))
		return
	}
	var cs Captures
	d.entries(n, field, func(key string, _, val *yaml.Node, path string) {
		var p string
		d.decode(val, reflect.ValueOf(&p).Elem(), path)
		cs = append(cs, Capture{Name: key, Path: p})
	})
	v.Set(reflect.ValueOf(cs))
}

func (d *decoder) jsonAssertions(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind != yaml.MappingNode {
		d.problem(field, n.Line, "want a mapping of JSON path: value, got "+kindName(n))
		return
	}
	var js JSONAssertions
	d.entries(n, field, func(key string, _, val *yaml.Node, path string) {
		var want any
		d.decode(val, reflect.ValueOf(&want).Elem(), path)
		js = append(js, JSONAssertion{Path: key, Want: want})
	})
	v.Set(reflect.ValueOf(js))
}

// entries walks a mapping's key/value pairs, checking that keys are
// unique strings, and records each entry's line.
func (d *decoder) entries(n *yaml.Node, field string, fn func(key string, keyNode, val *yaml.Node, path string)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.problem(field, k.Line, "want string keys, got "+kindName(k))
			continue
		}
		path := joinField(field, k.Value)
		if k.Value == "<<" {
			d.problem(path, k.Line, "merge keys (<<) are not supported")
			continue
		}
		if seen[k.Value] {
			d.problem(path, k.Line, fmt.Sprintf("%q appears twice", k.Value))
			continue
		}
		seen[k.Value] = true
		d.lines[path] = k.Line
		fn(k.Value, k, val, path)
	}
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind != yaml.SequenceNode {
		d.problem(field, n.Line, "want a list, got "+kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		path := fmt.Sprintf("%s[%d]", field, i)
		d.lines[path] = item.Line
		d.decode(item, s.Index(i), path)
	}
	v.Set(s)
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind != yaml.ScalarNode {
		d.problem(field, n.Line, "want a duration like 500ms, 10s or 2m, got "+kindName(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.problem(field, n.Line, fmt.Sprintf("bad duration %q: want a number with a unit, like 500ms, 10s or 2m", n.Value))
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, field string) {
	want := map[reflect.Kind]string{
		reflect.String: "a string", reflect.Bool: "true or false",
		reflect.Int: "an integer", reflect.Int64: "an integer", reflect.Uint64: "a whole number",
		reflect.Float64: "a number",
	}[v.Kind()]
	if want == "" {
		d.problem(field, n.Line, "unsupported field type "+v.Type().String())
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.problem(field, n.Line, fmt.Sprintf("want %s, got %s", want, kindName(n)))
		return
	}
	if v.Kind() == reflect.String {
		v.SetString(n.Value)
		return
	}
	p := reflect.New(v.Type())
	if err := n.Decode(p.Interface()); err != nil {
		d.problem(field, n.Line, fmt.Sprintf("want %s, got %q", want, n.Value))
		return
	}
	v.Set(p.Elem())
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

var fieldCache sync.Map // reflect.Type -> map[string]int

// yamlFields maps a struct's yaml field names to field indexes.
func yamlFields(t reflect.Type) map[string]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name != "" && name != "-" {
			m[name] = i
		}
	}
	fieldCache.Store(t, m)
	return m
}

// fieldList names a struct's yaml fields in declaration order.
func fieldList(t reflect.Type) string {
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if t.Field(i).IsExported() && name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// parentField returns the path of the field that holds field:
// "a.b[2]" -> "a.b", "a.b" -> "a", "a" -> "".
func parentField(field string) string {
	if i := strings.LastIndexAny(field, ".["); i >= 0 {
		return field[:i]
	}
	return ""
}
