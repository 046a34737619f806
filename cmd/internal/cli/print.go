package cli

import (
	"fmt"
	"io"
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
// it is a sort key).
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
func PrintConfig(cmd *cobra.Command, cfg any) (bool, error) {
	if on, _ := cmd.Flags().GetBool("print-config"); !on {
		return false, nil
	}
	return true, WriteConfig(cmd.OutOrStdout(), cfg)
}

// WriteConfig writes cfg (see PrintConfig) as YAML to w, with the value of
// every key that names a secret (admin_token, capture.redact.key, a
// Cookie header...) replaced by Masked when it is set.
func WriteConfig(w io.Writer, cfg any) error {
	n, err := configNode(reflect.ValueOf(cfg), "", false)
	if err != nil {
		return fmt.Errorf("print config: %w", err)
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
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		return scalar(time.Duration(v.Int()).String())
	case v.Kind() == reflect.Struct:
		m := &yaml.Node{Kind: yaml.MappingNode}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			val, err := configNode(v.Field(i), name, secret || isSecret(name) || name == "key" && key == "redact")
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
	}
	n := &yaml.Node{}
	if err := n.Encode(v.Interface()); err != nil {
		return nil, err
	}
	return n, nil
}

func scalar(s string) (*yaml.Node, error) {
	n := &yaml.Node{}
	return n, n.Encode(s)
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
