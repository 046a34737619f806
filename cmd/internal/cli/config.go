package cli

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// Loader loads a command's configuration into a struct whose fields carry
// `mapstructure` tags — the commands' own sections and the domain
// packages' Config structs alike: defaults, then the YAML file named by
// the --config flag, then PREFIX_* env vars (nested keys joined with "_":
// SHADOW_MIRROR_QUEUE_SIZE for mirror.queue_size), then flags.
//
// Every key is checked the same way, so a tagged field added to any of
// those structs is a key with no further code: an unknown key in the file
// is an error naming it, its line and the nearest known key; a value of
// the wrong type names its key and where it came from (file:line, env
// var, flag); a duration needs a unit ("5s"), a bare number other than 0
// is refused instead of read as nanoseconds.
type Loader struct {
	// Prefix is the env var prefix, like "SHADOW".
	Prefix string
	// Flags maps a flag name to the config key it overrides.
	Flags map[string]string
	// Moved maps a key the user writes to the struct key that holds it,
	// for a domain struct's field that the file sets elsewhere than in
	// that struct's section: "primary" -> "mirror.primary" (the top-level
	// primary: sets mirror.Config.Primary). The struct key is then not a
	// key of the file, its env var or the printed config; the user's is.
	Moved map[string]string
}

// Load fills out (a pointer to a struct) for cmd and returns where each
// value came from, for errors found later (Origins.Explain). Its own
// errors (unknown keys, wrong types, unreadable file) are explained
// already, one per line.
func (l Loader) Load(cmd *cobra.Command, out any) (*Origins, error) {
	o := &Origins{prefix: l.Prefix, flags: map[string]string{}, env: map[string]string{}, moved: map[string]string{}}
	o.user = newSchema(reflect.TypeOf(out).Elem())
	for user, key := range l.Moved {
		o.user.move(key, user)
		o.moved[key] = user
	}
	v := viper.New()
	v.SetEnvPrefix(l.Prefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	// viper looks up env only for keys it knows: register every scalar,
	// with its zero value as the default unless a flag gives one.
	o.user.scalars("", func(key string) {
		o.env[key] = envName(l.Prefix, key)
		if !slices.Contains(mapsValues(l.Flags), key) {
			v.SetDefault(key, nil)
		}
	})
	if f := cmd.Flags().Lookup("config"); f != nil && f.Value.String() != "" {
		file, values, err := readConfigFile(f.Value.String())
		if err != nil {
			return nil, err
		}
		o.file = file
		if err := file.unknownKeys(o.user); err != nil {
			return nil, err
		}
		if err := v.MergeConfigMap(values); err != nil {
			return nil, fmt.Errorf("read config %q: %w", file.path, err)
		}
	}
	for name, key := range l.Flags {
		f := cmd.Flags().Lookup(name)
		if f == nil {
			continue
		}
		if err := v.BindPFlag(key, f); err != nil {
			return nil, fmt.Errorf("bind flag --%s: %w", name, err)
		}
		if f.Changed {
			o.flags[key] = "--" + name
		}
	}
	settings := v.AllSettings()
	for user, key := range l.Moved {
		if val, ok := take(settings, user); ok {
			put(settings, key, val)
		}
	}
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           out,
		WeaklyTypedInput: true, // env vars and flags arrive as strings
		ErrorUnused:      true,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			durationHook, mapstructure.StringToSliceHookFunc(","), mapstructure.TextUnmarshallerHookFunc(),
		),
	})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := dec.Decode(settings); err != nil {
		return nil, o.Explain(decodeErrors(err))
	}
	return o, nil
}

// envName is the env var that sets key.
func envName(prefix, key string) string {
	return strings.ToUpper(prefix + "_" + strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

func mapsValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// take removes the dotted key from the nested settings and returns its
// value.
func take(settings map[string]any, key string) (any, bool) {
	dir, name := splitLast(key)
	m := settings
	if dir != "" {
		sub, ok := lookupMap(settings, dir)
		if !ok {
			return nil, false
		}
		m = sub
	}
	v, ok := m[name]
	delete(m, name)
	return v, ok && v != nil
}

// put sets the dotted key in the nested settings, creating sections.
func put(settings map[string]any, key string, v any) {
	m := settings
	for _, name := range strings.Split(key, ".")[:strings.Count(key, ".")] {
		sub, ok := m[name].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[name] = sub
		}
		m = sub
	}
	_, name := splitLast(key)
	m[name] = v
}

func lookupMap(m map[string]any, key string) (map[string]any, bool) {
	for _, name := range strings.Split(key, ".") {
		sub, ok := m[name].(map[string]any)
		if !ok {
			return nil, false
		}
		m = sub
	}
	return m, true
}

func splitLast(key string) (dir, name string) {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

// durationHook reads time.Duration values: strings as time.ParseDuration
// does ("5s", "1m30s"), and refuses numbers other than 0, which would
// otherwise be nanoseconds: candidate_timeout: 5 is a mistake, not 5ns.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType || from == durationType {
		return data, nil
	}
	switch from.Kind() {
	case reflect.String:
		d, err := time.ParseDuration(strings.TrimSpace(data.(string)))
		if err != nil {
			return nil, fmt.Errorf("want a duration with a unit, like 5s or 250ms; got %q", data)
		}
		return d, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if reflect.ValueOf(data).IsZero() {
			return time.Duration(0), nil
		}
		return nil, fmt.Errorf("want a duration with a unit, like %vs or %vms; got the bare number %v", data, data, data)
	}
	return data, nil
}

// decodeErrors turns mapstructure's errors into one "key: message" error
// each, the message saying what was expected.
func decodeErrors(err error) error {
	var out []error
	var walk func(err error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var de *mapstructure.DecodeError
		if !errors.As(err, &de) {
			if u := errors.Unwrap(err); u != nil && strings.HasPrefix(err.Error(), "decoding failed") {
				walk(u)
				return
			}
			out = append(out, err)
			return
		}
		inner := de.Unwrap()
		if j, ok := inner.(interface{ Unwrap() []error }); ok {
			walk(j.(error))
			return
		}
		var nested *mapstructure.DecodeError
		if errors.As(inner, &nested) {
			walk(inner)
			return
		}
		out = append(out, fmt.Errorf("%s: %s", strings.TrimPrefix(de.Name(), "."), describeDecode(inner)))
	}
	walk(err)
	return errors.Join(out...)
}

// describeDecode says what a value should have been.
func describeDecode(err error) string {
	var ute *mapstructure.UnconvertibleTypeError
	if errors.As(err, &ute) {
		return fmt.Sprintf("want %s, got %s", typeWord(ute.Expected.Type()), valueWord(ute.Value))
	}
	var pe *mapstructure.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("want %s, got %s", typeWord(pe.Expected.Type()), valueWord(pe.Value))
	}
	if kind, ok := strings.CutPrefix(err.Error(), "expected a map or struct, got "); ok {
		switch kind = strings.Trim(kind, `"`); kind {
		case "slice", "array":
			kind = "a list"
		default:
			kind = "a single value"
		}
		return "want a mapping of keys, got " + kind
	}
	return err.Error()
}

func typeWord(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration like 5s"
	case t == bytesType:
		return "a string"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping of keys"
	}
	return t.String()
}

func valueWord(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprint(v)
}
