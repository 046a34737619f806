package deploy_test

import (
	"fmt"
	"net"
	"net/netip"
	"path"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// setup is an understudy container read in full: the invocation its args
// make, its env, and the config file --config names (for `run`).
type setup struct {
	W   *workload
	C   *container
	Bin string // "shadow" or "synth"
	Sub string
	// Help is the subcommand's --help; nil when the binary does not have
	// the subcommand yet (synth schedule), and then Inv was read without
	// knowing which flags take values.
	Help *helpText
	Inv  invocation
	Env  map[string]envVar
	// ConfigPath and Config are the --config file of `run` and its
	// decoded YAML; Config is nil without one.
	ConfigPath string
	Config     map[string]any
}

// setups reads every understudy container; problems fail t.
func setups(t *testing.T) []*setup {
	t.Helper()
	m := load(t)
	var out []*setup
	m.ourContainers(func(w *workload, c *container) {
		s, err := newSetup(t, m, w, c)
		if err != nil {
			t.Errorf("%s: container %q: %v", w.Obj, c.Name, err)
			return
		}
		out = append(out, s)
	})
	return out
}

func newSetup(t *testing.T, m *manifests, w *workload, c *container) (*setup, error) {
	t.Helper()
	s := &setup{W: w, C: c, Bin: c.binary(), Env: map[string]envVar{}}
	if s.Bin != "shadow" && s.Bin != "synth" {
		return nil, fmt.Errorf("command %q runs neither shadow nor synth", c.Command)
	}
	if len(c.Args) == 0 {
		return nil, fmt.Errorf("no args: want a subcommand")
	}
	s.Sub = c.Args[0]
	s.Help = help(t, s.Bin, s.Sub)
	var err error
	if s.Help != nil {
		s.Inv, err = parseArgs(c.Args, s.Help.Flags)
	} else {
		s.Inv, err = parseArgsLoosely(c.Args)
	}
	if err != nil {
		return nil, fmt.Errorf("args %q: %w", c.Args, err)
	}
	for _, e := range c.Env {
		if _, dup := s.Env[e.Name]; dup {
			return nil, fmt.Errorf("env %s set twice", e.Name)
		}
		s.Env[e.Name] = e
	}
	if p, ok := s.Inv.Flags["config"]; ok && s.Sub == "run" {
		data, err := s.file(m, p)
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		s.ConfigPath = p
		if err := yaml.Unmarshal([]byte(data), &s.Config); err != nil {
			return nil, fmt.Errorf("--config %s: %w", p, err)
		}
		if s.Config == nil {
			s.Config = map[string]any{}
		}
	}
	return s, nil
}

// parseArgsLoosely reads args of a subcommand whose flags are not known:
// "--name=value" and bare "--name" (as true), as the manifests spell them.
func parseArgsLoosely(args []string) (invocation, error) {
	flags := map[string]flagSpec{}
	for _, a := range args[1:] {
		if name, _, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); strings.HasPrefix(a, "--") {
			flags[name] = flagSpec{Name: name, TakesValue: ok}
		}
	}
	return parseArgs(args, flags)
}

// prefix is the env var prefix of the binary's config: SHADOW or SYNTH.
func (s *setup) prefix() string { return strings.ToUpper(s.Bin) }

// source says where a setting came from.
type source string

const (
	fromFlag    source = "flag"
	fromEnv     source = "env"
	fromSecret  source = "secret"
	fromConfig  source = "config file"
	fromDefault source = "default"
	unset       source = ""
)

// flagFor names the flag of a config key whose flag is not the key with
// '-' for '_'.
var flagFor = map[string]string{"capture.dir": "capture"}

// get returns the effective value of the config key (such as
// "admin_token" or "capture.dir"), in the binaries' order of precedence:
// flag, env var, config file, the flag's default. A value from a Secret or
// the downward API is returned as a placeholder.
func (s *setup) get(key string) (string, source) {
	flag, ok := flagFor[key]
	if !ok {
		flag = strings.ReplaceAll(key, "_", "-")
	}
	if v, ok := s.Inv.Flags[flag]; ok {
		return v, fromFlag
	}
	if e, ok := s.Env[s.prefix()+"_"+strings.ToUpper(strings.ReplaceAll(key, ".", "_"))]; ok {
		v := envValue(e)
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return v, fromSecret
		}
		return v, fromEnv
	}
	var v any = s.Config
	for _, k := range strings.Split(key, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	if v != nil {
		return fmt.Sprint(v), fromConfig
	}
	if s.Help != nil {
		if f, ok := s.Help.Flags[flag]; ok && f.Default != "" {
			return f.Default, fromDefault
		}
	}
	return "", unset
}

// envValue is e's value, or for one that Kubernetes fills in, a stand-in
// the binaries accept.
func envValue(e envVar) string {
	switch {
	case e.ValueFrom == nil:
		return e.Value
	case e.ValueFrom.SecretKeyRef != nil:
		return "0123456789abcdef0123456789abcdef"
	case e.ValueFrom.ResourceFieldRef != nil:
		return "268435456"
	case e.ValueFrom.FieldRef != nil:
		return "0"
	}
	return "x"
}

// varRef matches a Kubernetes $(VAR) reference in command, args and env.
var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand replaces $(VAR) references with the stand-in values of s's env
// and returns the names it could not resolve.
func (s *setup) expand(v string) (string, []string) {
	var missing []string
	out := varRef.ReplaceAllStringFunc(v, func(ref string) string {
		name := varRef.FindStringSubmatch(ref)[1]
		e, ok := s.Env[name]
		if !ok {
			missing = append(missing, name)
			return ref
		}
		return envValue(e)
	})
	return out, missing
}

// backing is what a path inside a container is stored on.
type backing struct {
	Vol      *volume
	Mount    volumeMount
	Rel      string // the path below the mount point ("" for the mount itself)
	Key      string // for ConfigMap volumes: the key the file shows
	Writable bool
}

// resolve finds the volume under path in container c of pod p; false when
// the path is on the image's (read-only) root file system.
func (p *podSpec) resolve(c *container, file string) (backing, bool) {
	file = path.Clean(file)
	var best backing
	found := false
	for _, mnt := range c.VolumeMounts {
		mp := path.Clean(mnt.MountPath)
		var rel string
		switch {
		case file == mp:
		case strings.HasPrefix(file, mp+"/") && mnt.SubPath == "":
			rel = strings.TrimPrefix(file, mp+"/")
		case mp == "/":
			rel = strings.TrimPrefix(file, "/")
		default:
			continue
		}
		if found && len(mp) <= len(path.Clean(best.Mount.MountPath)) {
			continue
		}
		v := p.volume(mnt.Name)
		if v == nil {
			continue
		}
		b := backing{Vol: v, Mount: mnt, Rel: rel}
		if mnt.SubPath != "" {
			b.Rel = path.Join(mnt.SubPath, rel)
		}
		switch {
		case v.ConfigMap != nil:
			b.Key = b.Rel
			for _, it := range v.ConfigMap.Items {
				if it.Path == b.Rel {
					b.Key = it.Key
				}
			}
		case v.EmptyDir != nil:
			b.Writable = !mnt.ReadOnly
		case v.PersistentVolumeClaim != nil:
			b.Writable = !mnt.ReadOnly && !v.PersistentVolumeClaim.ReadOnly
		}
		best, found = b, true
	}
	return best, found
}

// file returns the content of the ConfigMap key that file is in s's pod.
func (s *setup) file(m *manifests, file string) (string, error) {
	return configFile(m, &s.W.Template.Spec, s.C, file)
}

func configFile(m *manifests, p *podSpec, c *container, file string) (string, error) {
	b, ok := p.resolve(c, file)
	if !ok || b.Vol.ConfigMap == nil {
		return "", fmt.Errorf("%s is not on a ConfigMap volume of the container", file)
	}
	cm := m.find("ConfigMap", b.Vol.ConfigMap.Name)
	if cm == nil {
		return "", fmt.Errorf("%s: no ConfigMap %q", file, b.Vol.ConfigMap.Name)
	}
	data, ok := cm.Data[b.Key]
	if !ok {
		return "", fmt.Errorf("%s: ConfigMap %q has no key %q", file, cm.Metadata.Name, b.Key)
	}
	return data, nil
}

// hostPort splits a listen address; an empty host means every interface.
func hostPort(addr string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	if _, err := fmt.Sscan(p, &port); err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("address %q: bad port %q", addr, p)
	}
	return h, port, nil
}

// isLoopback reports whether host only reaches the pod itself, as the
// admin server decides it: "localhost" or a loopback IP.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
