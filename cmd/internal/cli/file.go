package cli

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// configFile is a YAML config file as parsed, kept to say on which line
// a key was written.
type configFile struct {
	path string
	root *yaml.Node // the top-level mapping; nil for an empty file
}

// readConfigFile parses the YAML file at path into its node tree and the
// values viper merges.
func readConfigFile(path string) (*configFile, map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config %q: %w", path, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, nil, yamlError(path, err)
	}
	f := &configFile{path: path}
	values := map[string]any{}
	if len(doc.Content) == 0 {
		return f, values, nil // empty file
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s:%d: want a mapping of config keys (like listen: ...), got a %s", path, root.Line, nodeKind(root))
	}
	f.root = root
	if err := root.Decode(&values); err != nil {
		return nil, nil, yamlError(path, err)
	}
	return f, values, nil
}

// yamlLine matches the "line N: " yaml.v3 puts in its messages.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// yamlError rewrites a yaml.v3 error ("yaml: line 3: did not find
// expected key") as path:line: message, one per line of a TypeError.
func yamlError(path string, err error) error {
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var errs []error
	for _, m := range msgs {
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
			errs = append(errs, fmt.Errorf("%s:%s: %s", path, sub[1], m[len(sub[0]):]))
			continue
		}
		errs = append(errs, fmt.Errorf("read config %q: %s", path, m))
	}
	return errors.Join(errs...)
}

// resolve follows YAML aliases (*anchor) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return fmt.Sprintf("value %q", n.Value)
}

// mappingPairs returns the key and value nodes of mapping m, with YAML
// merge keys (<<: *base) expanded in place.
func mappingPairs(m *yaml.Node) [][2]*yaml.Node {
	var pairs [][2]*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], resolve(m.Content[i+1])
		if k.Value == "<<" && k.Tag == "!!merge" {
			switch v.Kind {
			case yaml.MappingNode:
				pairs = append(pairs, mappingPairs(v)...)
			case yaml.SequenceNode:
				for _, e := range v.Content {
					if e = resolve(e); e.Kind == yaml.MappingNode {
						pairs = append(pairs, mappingPairs(e)...)
					}
				}
			}
			continue
		}
		pairs = append(pairs, [2]*yaml.Node{k, v})
	}
	return pairs
}

// unknownKeys reports every key of the file that s does not have, with
// its line and the nearest known key.
func (f *configFile) unknownKeys(s *schema) error {
	if f.root == nil {
		return nil
	}
	var errs []error
	all := s.keys("")
	var walk func(n *yaml.Node, s *schema, key string)
	walk = func(n *yaml.Node, s *schema, key string) {
		n = resolve(n)
		switch {
		case s.kind == structKey && n.Kind == yaml.MappingNode:
			for _, kv := range mappingPairs(n) {
				k := kv[0].Value
				field, ok := s.field(k)
				if !ok {
					errs = append(errs, fmt.Errorf("%s:%d: %s: unknown key%s", f.path, kv[0].Line, joinKey(key, k, false), suggest(k, key, s, all)))
					continue
				}
				walk(kv[1], field.s, joinKey(key, field.name, false))
			}
		case s.kind == mapKey && n.Kind == yaml.MappingNode:
			for _, kv := range mappingPairs(n) {
				walk(kv[1], s.elem, joinKey(key, kv[0].Value, true))
			}
		case s.kind == listKey && n.Kind == yaml.SequenceNode:
			for i, e := range n.Content {
				walk(e, s.elem, indexKey(key, i))
			}
		}
		// Anything else is a value of the wrong shape, which decoding
		// reports with the expected type.
	}
	walk(f.root, s, "")
	return errors.Join(errs...)
}

// line returns the line of the deepest node of the file on the key path
// ("compare.normalizers[0].path": that key's line, or normalizers[0]'s
// when the item has no path), and how much of the path it found.
func (f *configFile) line(key string) (line, found int) {
	if f == nil || f.root == nil {
		return 0, 0
	}
	n := f.root
	for _, seg := range splitKey(key) {
		var next, at *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for _, kv := range mappingPairs(n) {
				if strings.EqualFold(kv[0].Value, seg.name) {
					next, at = kv[1], kv[0]
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(seg.name); err == nil && seg.index && i >= 0 && i < len(n.Content) {
				next = resolve(n.Content[i])
				at = next
			}
		}
		if next == nil {
			break
		}
		n, line = next, at.Line
		found++
	}
	return line, found
}
