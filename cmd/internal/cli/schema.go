package cli

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// schema is the tree of keys a configuration struct accepts, as its
// `mapstructure` tags name them: what the Loader registers for env vars,
// checks a file against, and finds a key's line by.
type schema struct {
	kind   schemaKind
	fields []schemaField // kind == structKey, in declaration order
	elem   *schema       // kind == listKey or mapKey: every element's
}

type schemaKind int

const (
	scalarKey schemaKind = iota // a value: string, number, bool, duration, []byte
	structKey                   // a mapping of known keys
	listKey                     // a sequence
	mapKey                      // a mapping of any keys (headers, variables)
	anyKey                      // anything (an interface field)
)

type schemaField struct {
	name string
	s    *schema
}

var (
	durationType        = reflect.TypeOf(time.Duration(0))
	bytesType           = reflect.TypeOf([]byte(nil))
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// newSchema returns the keys of t. Only tagged fields are keys (a field
// tagged "-" or untagged is not configuration); an embedded struct tagged
// ",squash" lends its keys to its parent.
func newSchema(t reflect.Type) *schema {
	for t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		t = t.Elem()
	}
	switch {
	case t == durationType || t == bytesType || reflect.PointerTo(t).Implements(textUnmarshalerType):
		return &schema{kind: scalarKey}
	case t.Kind() == reflect.Struct:
		s := &schema{kind: structKey}
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if f.Anonymous && strings.Contains(opts, "squash") {
				s.fields = append(s.fields, newSchema(f.Type).fields...)
				continue
			}
			if name == "" {
				continue
			}
			s.fields = append(s.fields, schemaField{name: name, s: newSchema(f.Type)})
		}
		for i, f := range s.fields {
			for _, g := range s.fields[:i] {
				if strings.EqualFold(f.name, g.name) {
					panic(fmt.Sprintf("cli: %s declares the key %q twice", t, f.name))
				}
			}
		}
		return s
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return &schema{kind: listKey, elem: newSchema(t.Elem())}
	case t.Kind() == reflect.Map:
		return &schema{kind: mapKey, elem: newSchema(t.Elem())}
	case t.Kind() == reflect.Interface:
		return &schema{kind: anyKey}
	}
	return &schema{kind: scalarKey}
}

// field returns the key name of s, matched as viper and mapstructure
// match keys: regardless of case.
func (s *schema) field(name string) (schemaField, bool) {
	for _, f := range s.fields {
		if strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return schemaField{}, false
}

// lookup returns the schema of the key path ("mirror.routes[0].path"),
// or nil when s has no such key.
func (s *schema) lookup(key string) *schema {
	for _, seg := range splitKey(key) {
		switch {
		case s == nil:
			return nil
		case s.kind == structKey && !seg.index:
			f, ok := s.field(seg.name)
			if !ok {
				return nil
			}
			s = f.s
		case s.kind == listKey && seg.index, s.kind == mapKey:
			s = s.elem
		case s.kind == anyKey:
			return s
		default:
			return nil
		}
	}
	return s
}

// move takes the key at path from out of s and puts it at to instead (see
// Loader.Moved); intermediate sections of to must exist.
func (s *schema) move(from, to string) {
	parent, name := s.parentOf(from)
	if parent == nil {
		return
	}
	i := slices.IndexFunc(parent.fields, func(f schemaField) bool { return f.name == name })
	if i < 0 {
		return
	}
	f := parent.fields[i]
	parent.fields = slices.Delete(parent.fields, i, i+1)
	dst, dstName := s.parentOf(to)
	if dst == nil {
		return
	}
	dst.fields = append([]schemaField{{name: dstName, s: f.s}}, dst.fields...)
}

// parentOf returns the struct section holding the dotted key and the
// key's last name.
func (s *schema) parentOf(key string) (*schema, string) {
	dir, name := "", key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		dir, name = key[:i], key[i+1:]
	}
	p := s
	if dir != "" {
		p = s.lookup(dir)
	}
	if p == nil || p.kind != structKey {
		return nil, ""
	}
	return p, name
}

// scalars calls fn with the key of every scalar reachable through struct
// sections only: the keys an env var or a flag can set.
func (s *schema) scalars(prefix string, fn func(key string)) {
	for _, f := range s.fields {
		switch f.s.kind {
		case structKey:
			f.s.scalars(prefix+f.name+".", fn)
		case scalarKey:
			fn(prefix + f.name)
		}
	}
}

// keys returns every struct key path below s, for suggestions.
func (s *schema) keys(prefix string) []string {
	var out []string
	for _, f := range s.fields {
		out = append(out, prefix+f.name)
		switch {
		case f.s.kind == structKey:
			out = append(out, f.s.keys(prefix+f.name+".")...)
		case f.s.kind == listKey && f.s.elem.kind == structKey:
			out = append(out, f.s.elem.keys(prefix+f.name+"[].")...)
		}
	}
	return out
}

// keySegment is one step of a key path: a name, or an index or map key
// in brackets.
type keySegment struct {
	name  string
	index bool // [name]: a list index or a map key
}

// splitKey splits "mirror.routes[0].headers[X-Id]" into its segments.
func splitKey(key string) []keySegment {
	var segs []keySegment
	for key != "" {
		switch key[0] {
		case '.':
			key = key[1:]
		case '[':
			end := strings.IndexByte(key, ']')
			if end < 0 {
				return append(segs, keySegment{name: key[1:], index: true})
			}
			segs = append(segs, keySegment{name: key[1:end], index: true})
			key = key[end+1:]
		default:
			end := strings.IndexAny(key, ".[")
			if end < 0 {
				end = len(key)
			}
			segs = append(segs, keySegment{name: key[:end]})
			key = key[end:]
		}
	}
	return segs
}

// isKeyPath reports whether s reads as a key path: names of letters,
// digits, '_' and '-' joined by dots, each optionally followed by
// bracketed indexes or map keys.
func isKeyPath(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\n\"'$") || strings.Contains(s, "..") || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for _, seg := range splitKey(s) {
		if seg.index {
			continue
		}
		if seg.name == "" {
			return false
		}
		for _, r := range seg.name {
			if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// joinKey appends a name (or, with index, a bracketed index) to a key path.
func joinKey(prefix, name string, index bool) string {
	switch {
	case index:
		return prefix + "[" + name + "]"
	case prefix == "":
		return name
	}
	return prefix + "." + name
}

func indexKey(prefix string, i int) string { return joinKey(prefix, strconv.Itoa(i), true) }
