package cli

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// Loader loads a command's configuration into a struct whose fields carry
// `mapstructure` tags: defaults, then the YAML file named by the --config
// flag, then PREFIX_* env vars (nested keys joined with "_":
// SHADOW_MIRROR_QUEUE_SIZE for mirror.queue_size), then flags.
type Loader struct {
	// Prefix is the env var prefix, like "SHADOW".
	Prefix string
	// Flags maps a flag name to the config key it overrides.
	Flags map[string]string
}

// Load fills out (a pointer to a struct) for cmd. Unknown keys in the file
// are errors, as are values of the wrong type; both name the key.
func (l Loader) Load(cmd *cobra.Command, out any) error {
	v := viper.New()
	v.SetEnvPrefix(l.Prefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	l.registerKeys(v, reflect.TypeOf(out).Elem(), "")
	if f := cmd.Flags().Lookup("config"); f != nil && f.Value.String() != "" {
		path := f.Value.String()
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return fmt.Errorf("read config %q: %w", path, err)
		}
	}
	for name, key := range l.Flags {
		if f := cmd.Flags().Lookup(name); f != nil {
			if err := v.BindPFlag(key, f); err != nil {
				return fmt.Errorf("bind flag --%s: %w", name, err)
			}
		}
	}
	if err := v.UnmarshalExact(out); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// registerKeys tells v about every scalar key of the struct type t, so
// that env vars reach nested keys too: viper only looks up env for keys it
// knows. Keys with a flag take the flag's default instead.
func (l Loader) registerKeys(v *viper.Viper, t reflect.Type, prefix string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		key := prefix + tag
		switch {
		case f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)):
			l.registerKeys(v, f.Type, key+".")
		case f.Type.Kind() == reflect.Slice, f.Type.Kind() == reflect.Map, f.Type.Kind() == reflect.Pointer:
			// Lists, maps and optional structs come from the file only.
		case !l.hasFlag(key):
			v.SetDefault(key, reflect.Zero(f.Type).Interface())
		}
	}
}

func (l Loader) hasFlag(key string) bool {
	for _, k := range l.Flags {
		if k == key {
			return true
		}
	}
	return false
}
