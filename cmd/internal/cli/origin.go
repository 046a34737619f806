package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Origins says where each key of a loaded configuration got its value —
// a flag, an env var, or a line of the config file — so that an error
// about a key can point there. A Loader returns it; the nil *Origins
// knows nothing and points nowhere.
type Origins struct {
	file   *configFile
	user   *schema           // the keys as the user writes them
	flags  map[string]string // key -> "--flag", for flags set on the command line
	env    map[string]string // key -> env var name, for every key env can set
	moved  map[string]string // struct key -> the key the user writes (Loader.Moved)
	prefix string
}

// Of describes where the value of key (as the user writes it:
// "mirror.workers", "compare.normalizers[0].path") came from: "flag
// --listen", "env SHADOW_MIRROR_WORKERS", "shadow.yaml:12", or "" for a
// default. For a key the file does not have but whose section it has
// (an item's missing field), it is the section's line.
func (o *Origins) Of(key string) string {
	if o == nil {
		return ""
	}
	if f, ok := o.flags[key]; ok {
		return "flag " + f
	}
	if name, ok := o.env[key]; ok && os.Getenv(name) != "" {
		return "env " + name
	}
	if line, found := o.file.line(key); found > 0 {
		return fmt.Sprintf("%s:%d", o.file.path, line)
	}
	return ""
}

// File is the path of the config file the values were read from; "" when
// there was none.
func (o *Origins) File() string {
	if o == nil || o.file == nil {
		return ""
	}
	return o.file.path
}

// Explain rewrites each error joined in err whose message starts with a
// key path ("mirror.workers: -1 is negative") to start with where the
// key's value came from ("shadow.yaml:7: mirror.workers: -1 is
// negative"), keys of Loader.Moved named as the user writes them.
// Other errors are kept as they are. The result joins one error per line;
// each still wraps its original.
func (o *Origins) Explain(err error) error {
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range leaves(err) {
		out = append(out, o.explain(e))
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

func (o *Origins) explain(err error) error {
	var ke *keyError
	if errors.As(err, &ke) && ke.where != "" {
		return err // explained already
	}
	key, msg, ok := strings.Cut(err.Error(), ": ")
	if !ok || !isKeyPath(key) {
		return err
	}
	key = o.userKey(key)
	if o != nil && o.user.lookup(splitKey(key)[0].name) == nil {
		return err // not one of ours ("verdict fail: ...")
	}
	return &keyError{where: o.Of(key), key: key, msg: msg, err: err}
}

// userKey names a struct key as the user writes it (see Loader.Moved).
func (o *Origins) userKey(key string) string {
	if o == nil {
		return key
	}
	for from, to := range o.moved {
		if key == from || strings.HasPrefix(key, from) && strings.ContainsRune(".[", rune(key[len(from)])) {
			return to + key[len(from):]
		}
	}
	return key
}

// keyError is an error about one key, with where its value came from.
type keyError struct {
	where, key, msg string
	err             error
}

func (e *keyError) Error() string {
	if e.where == "" {
		return e.key + ": " + e.msg
	}
	return e.where + ": " + e.key + ": " + e.msg
}

func (e *keyError) Unwrap() error { return e.err }

// Under puts each error joined in err under the config section prefix:
// "workers: -1 is negative" from mirror.Config.Validate becomes
// "mirror.workers: -1 is negative"; an error that names no key gets
// "mirror: " in front. Domain packages name their own keys; the command
// knows where their section sits.
func Under(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range leaves(err) {
		out = append(out, &underError{prefix: prefix, err: e})
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

type underError struct {
	prefix string
	err    error
}

func (e *underError) Error() string {
	msg := e.err.Error()
	if key, _, ok := strings.Cut(msg, ": "); ok && isKeyPath(key) {
		if strings.HasPrefix(key, "[") {
			return e.prefix + msg
		}
		return e.prefix + "." + msg
	}
	return e.prefix + ": " + msg
}

func (e *underError) Unwrap() error { return e.err }

// leaves flattens the errors joined in err (errors.Join, at any depth).
func leaves(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		if e != nil {
			out = append(out, leaves(e)...)
		}
	}
	return out
}
