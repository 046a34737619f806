package cli

import (
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// Masked stands in for a secret in printed configuration: the value is
// set, and not shown.
const Masked = "<masked>"

// secretWords are the parts of a key, or of a name in a map (a header's,
// a variable's), that mark its value as a secret. A key named just "key"
// is a secret under "redact" only (the keyed hash of redaction; elsewhere
// it is a sort key); one named just "webhook" is one everywhere (a
// webhook's URL holds its token, Slack's in the path).
var secretWords = []string{"token", "secret", "password", "passwd", "api_key", "api-key", "apikey", "authorization", "cookie", "credential"}

// AddPrintConfigFlag declares --print-config on cmd.
func AddPrintConfigFlag(cmd *cobra.Command) {
	cmd.Flags().Bool("print-config", false, "print the effective configuration (defaults < file < env < flags) as YAML, secrets masked, and exit")
}

// PrintConfig writes cfg to cmd's standard output as YAML and reports true
// when cmd's --print-config flag is set; otherwise it does nothing and
// reports false. cfg is a struct whose fields carry `mapstructure` tags,
// as a Loader fills it; the output uses the same keys, so it is a valid
// config file once masked secrets are put back.
func PrintConfig(cmd *cobra.Command, cfg any) (bool, error) { return Loader{}.PrintConfig(cmd, cfg) }

// PrintConfig is the package's PrintConfig for a configuration loaded by
// l: keys l moves (Loader.Moved) are printed where the user writes them.
func (l Loader) PrintConfig(cmd *cobra.Command, cfg any) (bool, error) {
	if on, _ := cmd.Flags().GetBool("print-config"); !on {
		return false, nil
	}
	return true, l.WriteConfig(cmd.OutOrStdout(), cfg)
}

// WriteConfig writes cfg (see PrintConfig) as YAML to w, with the value of
// every key that names a secret (admin_token, capture.redact.key, a
// Cookie header...) replaced by Masked when it is set.
func WriteConfig(w io.Writer, cfg any) error { return Loader{}.WriteConfig(w, cfg) }

// WriteConfig is the package's WriteConfig for a configuration loaded by l.
func (l Loader) WriteConfig(w io.Writer, cfg any) error {
	n, err := configNode(reflect.ValueOf(cfg), "", false)
	if err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	// Each moved key goes first in its section, in the order of the struct
	// that holds them.
	users := slices.Sorted(maps.Keys(l.Moved))
	slices.SortStableFunc(users, func(a, b string) int { return nodeIndex(n, l.Moved[b]) - nodeIndex(n, l.Moved[a]) })
	for _, user := range users {
		if k, v := takeNode(n, l.Moved[user]); v != nil {
			dir, name := splitLast(user)
			if parent := mappingAt(n, dir); parent != nil {
				k.Value = name
				parent.Content = append([]*yaml.Node{k, v}, parent.Content...)
			}
		}
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	return enc.Close()
}

// configNode converts v, the value under key ("" at the top), to a YAML
// node; secret says it sits under a key that names a secret.
func configNode(v reflect.Value, key string, secret bool) (*yaml.Node, error) {
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
		}
		return configNode(v.Elem(), key, secret)
	}
	switch {
	case v.Type() == durationType:
		return scalar(time.Duration(v.Int()).String())
	case v.Type() == bytesType:
		if secret && v.Len() > 0 {
			return scalar(Masked)
		}
		return scalar(string(v.Bytes()))
	case v.Kind() == reflect.Struct:
		m := &yaml.Node{Kind: yaml.MappingNode}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			tag, ok := f.Tag.Lookup("mapstructure")
			if !ok {
				tag = f.Tag.Get("yaml") // a struct only printed, like a scenario's
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && (strings.Contains(opts, "squash") || strings.Contains(opts, "inline")) {
				sub, err := configNode(v.Field(i), key, secret)
				if err != nil {
					return nil, err
				}
				m.Content = append(m.Content, sub.Content...)
				continue
			}
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			val, err := configNode(v.Field(i), name, secret || isSecret(name) || name == "webhook" || name == "key" && key == "redact")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name}, val)
		}
		return m, nil
	case v.Kind() == reflect.Map:
		m := &yaml.Node{Kind: yaml.MappingNode}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			name := fmt.Sprint(k)
			val, err := configNode(v.MapIndex(k), name, secret || isSecret(name))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name}, val)
		}
		return m, nil
	case v.Kind() == reflect.Slice || v.Kind() == reflect.Array:
		s := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for i := range v.Len() {
			e, err := configNode(v.Index(i), key, secret)
			if err != nil {
				return nil, err
			}
			if e.Kind != yaml.ScalarNode {
				s.Style = 0
			}
			s.Content = append(s.Content, e)
		}
		return s, nil
	case secret && v.Kind() == reflect.String && v.Len() > 0:
		return scalar(Masked)
	case v.Kind() == reflect.String:
		return scalar(maskUserinfo(v.String()))
	}
	n := &yaml.Node{}
	if err := n.Encode(v.Interface()); err != nil {
		return nil, err
	}
	return n, nil
}

// takeNode removes the dotted key from the mapping n and returns its key
// and value nodes (nil when n has no such key).
func takeNode(n *yaml.Node, key string) (k, v *yaml.Node) {
	dir, name := splitLast(key)
	m := mappingAt(n, dir)
	if m == nil {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			k, v = m.Content[i], m.Content[i+1]
			m.Content = slices.Delete(m.Content, i, i+2)
			return k, v
		}
	}
	return nil, nil
}

// nodeIndex is the position of the dotted key in its mapping below n.
func nodeIndex(n *yaml.Node, key string) int {
	dir, name := splitLast(key)
	if m := mappingAt(n, dir); m != nil {
		for i := 0; i < len(m.Content); i += 2 {
			if m.Content[i].Value == name {
				return i
			}
		}
	}
	return -1
}

// mappingAt returns the mapping at the dotted key below n ("" is n).
func mappingAt(n *yaml.Node, key string) *yaml.Node {
	if key != "" {
		for _, name := range strings.Split(key, ".") {
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == name {
					next = n.Content[i+1]
				}
			}
			if next == nil {
				return nil
			}
			n = next
		}
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	return n
}

func scalar(s string) (*yaml.Node, error) {
	n := &yaml.Node{}
	return n, n.Encode(s)
}

// maskUserinfo masks the userinfo of a URL ("https://user:pass@host" is
// "https://<masked>@host"): a credential whatever its key.
func maskUserinfo(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || strings.ContainsAny(scheme, "/?#@ ") {
		return s
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return s
	}
	return scheme + "://" + Masked + rest[at:]
}

// isSecret reports whether a key or header name names a secret.
func isSecret(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}
