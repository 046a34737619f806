package deploy_test

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// readmeSection returns README.md from heading up to the next heading of
// the same level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no %q section", heading)
	}
	// The section ends at the next heading of its level or above; a line
	// in a code block (a YAML comment) is no heading.
	level := strings.Index(heading, " ")
	rest := text[i+1+len(heading):]
	fenced := false
	for j := 0; j < len(rest); {
		line, _, _ := strings.Cut(rest[j:], "\n")
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if n := len(line) - len(strings.TrimLeft(line, "#")); !fenced && n > 0 && n <= level && strings.HasPrefix(line[n:], " ") {
			return rest[:j]
		}
		j += len(line) + 1
	}
	return rest
}

// shadowReference is the YAML block of README.md's "shadow configuration",
// the reference every shadow config key must be in.
func shadowReference(t *testing.T) map[string]any {
	t.Helper()
	section := readmeSection(t, "### shadow configuration")
	_, block, ok := strings.Cut(section, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal(`README.md's "shadow configuration" has no yaml block`)
	}
	var ref map[string]any
	if err := yaml.Unmarshal([]byte(block), &ref); err != nil {
		t.Fatalf("README.md's shadow configuration block: %v", err)
	}
	return ref
}

// synthReference is the list of keys README.md's "synth configuration"
// gives: `rate`, `duration`, ...
func synthReference(t *testing.T) map[string]bool {
	t.Helper()
	section := readmeSection(t, "### synth configuration")
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile("`([a-z][a-z0-9_]*)`").FindAllStringSubmatch(section, -1) {
		keys[m[1]] = true
	}
	if len(keys) == 0 {
		t.Fatal(`README.md's "synth configuration" lists no keys`)
	}
	return keys
}

// envKeys returns the env var names (PREFIX_MIRROR_QUEUE_SIZE) of the
// scalar keys of a reference config: lists and maps come from files only.
func envKeys(prefix string, ref map[string]any) map[string]string {
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if freeform(v) {
				return
			}
			for k, x := range v {
				walk(strings.TrimPrefix(path+"."+k, "."), x)
			}
		case []any:
		default:
			out[prefix+"_"+strings.ToUpper(strings.ReplaceAll(path, ".", "_"))] = path
		}
	}
	walk("", ref)
	return out
}

// configKey matches the keys the reference defines; a mapping with other
// keys (header names) or none is free-form: its keys are the user's.
var configKey = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func freeform(m map[string]any) bool {
	if len(m) == 0 {
		return true
	}
	for k := range m {
		if !configKey.MatchString(k) {
			return true
		}
	}
	return false
}

// checkKeys reports every key path of got that ref does not have, and
// every value whose shape (mapping, list, scalar) differs from ref's.
func checkKeys(path string, ref, got any) []string {
	var errs []string
	where := path
	if where == "" {
		where = "the top level"
	}
	switch g := got.(type) {
	case map[string]any:
		r, ok := ref.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got a mapping, the reference has %s", where, shape(ref))}
		}
		if freeform(r) {
			return nil
		}
		for _, k := range sortedKeys(g) {
			sub := strings.TrimPrefix(path+"."+k, ".")
			rv, ok := r[k]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: not a key of the reference (want one of %s)", sub, strings.Join(sortedKeys(r), ", ")))
				continue
			}
			errs = append(errs, checkKeys(sub, rv, g[k])...)
		}
	case []any:
		r, ok := ref.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got a list, the reference has %s", where, shape(ref))}
		}
		if len(r) == 0 {
			return nil
		}
		elem := mergeElems(r)
		for i, x := range g {
			errs = append(errs, checkKeys(fmt.Sprintf("%s[%d]", path, i), elem, x)...)
		}
	case nil:
	default:
		switch ref.(type) {
		case map[string]any, []any:
			return []string{fmt.Sprintf("%s: got %v, the reference has %s", where, got, shape(ref))}
		}
	}
	return errs
}

// mergeElems is the union of a reference list's elements: the keys of
// all its mappings (the README shows one route with methods, another
// disabled), or its first scalar.
func mergeElems(list []any) any {
	merged := map[string]any{}
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return x
		}
		for k, v := range m {
			merged[k] = v
		}
	}
	return merged
}

func shape(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return "a scalar"
}

// TestCheckKeys proves the key comparison on the mistakes it is for.
func TestCheckKeys(t *testing.T) {
	t.Parallel()
	var ref map[string]any
	if err := yaml.Unmarshal([]byte(`
listen: 127.0.0.1:8080
mirror:
  queue_size: 1024
  candidate_target: {host: "", set_headers: {}}
  routes:
    - {name: a, methods: [POST]}
    - {path: /admin/*, headers: {X-Tenant: beta}}
compare: {routes: ["/orders/{id}"]}
`), &ref); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		doc  string
		want []string
	}{
		{doc: `{listen: ":1", mirror: {queue_size: 1, routes: [{name: x, path: /y, headers: {X-Any: "1"}}]}}`},
		{doc: `{mirror: {candidate_target: {set_headers: {X-Anything: v}}}, compare: {routes: [/a, /b]}}`},
		{doc: `{mirror: {queue_sise: 1}}`, want: []string{"mirror.queue_sise: not a key of the reference (want one of candidate_target, queue_size, routes)"}},
		{doc: `{mirror: {routes: [{unsafe: true}]}}`, want: []string{"mirror.routes[0].unsafe: not a key of the reference (want one of headers, methods, name, path)"}},
		{doc: `{mirror: 3}`, want: []string{"mirror: got 3, the reference has a mapping"}},
		{doc: `{listen: {host: x}}`, want: []string{"listen: got a mapping, the reference has a scalar"}},
		{doc: `{compare: {routes: {a: b}}}`, want: []string{"compare.routes: got a mapping, the reference has a list"}},
	}
	for _, tt := range tests {
		var got map[string]any
		if err := yaml.Unmarshal([]byte(tt.doc), &got); err != nil {
			t.Fatal(err)
		}
		if errs := checkKeys("", ref, got); fmt.Sprint(errs) != fmt.Sprint(tt.want) {
			t.Errorf("checkKeys(%s):\ngot  %q\nwant %q", tt.doc, errs, tt.want)
		}
	}
	if got, want := fmt.Sprint(sortedKeys(envKeys("SHADOW", ref))), "[SHADOW_LISTEN SHADOW_MIRROR_CANDIDATE_TARGET_HOST SHADOW_MIRROR_QUEUE_SIZE]"; got != want {
		t.Errorf("envKeys: got %s, want %s", got, want)
	}
}

// Every SHADOW_*/SYNTH_* env var a container sets is a scalar config key
// of its own binary, as README.md documents them, and every $(VAR) its args
// use is defined in its env.
func TestEnvVarsAreConfigKeys(t *testing.T) {
	t.Parallel()
	shadowEnv := envKeys("SHADOW", shadowReference(t))
	synthEnv := map[string]string{}
	for k := range synthReference(t) {
		synthEnv["SYNTH_"+strings.ToUpper(k)] = k
	}
	known := map[string]map[string]string{"shadow": shadowEnv, "synth": synthEnv}
	for _, s := range setups(t) {
		for _, name := range sortedKeys(s.Env) {
			switch {
			case strings.HasPrefix(name, s.prefix()+"_"):
				if _, ok := known[s.Bin][name]; !ok {
					t.Errorf("%s: container %q: env %s is not a %s config key in README.md (want one of %s)",
						s.W.Obj, s.C.Name, name, s.Bin, strings.Join(sortedKeys(known[s.Bin]), ", "))
				}
			case strings.HasPrefix(name, "SHADOW_"), strings.HasPrefix(name, "SYNTH_"):
				t.Errorf("%s: container %q runs %s but sets %s, which only the other binary reads", s.W.Obj, s.C.Name, s.Bin, name)
			}
		}
		for _, a := range append(append([]string{}, s.C.Command...), s.C.Args...) {
			if _, missing := s.expand(a); len(missing) > 0 {
				t.Errorf("%s: container %q: %q uses $(%s), which its env does not define", s.W.Obj, s.C.Name, a, strings.Join(missing, "), $("))
			}
		}
	}
}

// Every key of every shadow config file is in README.md's reference, with
// the same shape.
func TestShadowConfigKeys(t *testing.T) {
	t.Parallel()
	ref := shadowReference(t)
	n := 0
	for _, s := range setups(t) {
		if s.Bin != "shadow" || s.Config == nil {
			continue
		}
		n++
		for _, e := range checkKeys("", ref, s.Config) {
			t.Errorf("%s: %s: %s", s.W.Obj, s.ConfigPath, e)
		}
		if _, ok := s.Config["admin_token"]; ok {
			t.Errorf("%s: %s sets admin_token: a ConfigMap is no place for a secret; use env %s_ADMIN_TOKEN from a Secret", s.W.Obj, s.ConfigPath, s.prefix())
		}
	}
	if n == 0 {
		t.Error("no shadow container reads a config file: the ConfigMap example is missing")
	}
}

// The binaries themselves load each container's configuration (flags, env
// and config file) without complaint. Nothing starts: an invalid setting
// added last (a listen address without a port for shadow, a negative
// progress interval and a missing scenario for synth) must be the only
// error reported, which proves everything else decoded and validated.
func TestConfigLoadsInBinary(t *testing.T) {
	t.Parallel()
	m := load(t)
	for _, s := range setups(t) {
		if s.Sub != "run" {
			continue
		}
		t.Run(s.W.Obj.Metadata.Name+"/"+s.C.Name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := []string{s.Sub}
			for _, name := range sortedKeys(s.Inv.Flags) {
				args = append(args, "--"+name+"="+localPath(t, m, s, dir, s.Inv.Flags[name]))
			}
			var env []string
			for _, name := range sortedKeys(s.Env) {
				if strings.HasPrefix(name, s.prefix()+"_") {
					env = append(env, name+"="+envValue(s.Env[name]))
				}
			}
			var wantErr string
			switch s.Bin {
			case "shadow":
				args = append(args, "--listen=nope")
				wantErr = "shadow: flag --listen: listen: "
			case "synth":
				args = append(args, "--progress-interval=-1s", filepath.Join(dir, "missing.yaml"))
				wantErr = "synth: flag --progress-interval: progress_interval: "
			}
			code, stdout, stderr := run(t, s.Bin, env, args...)
			lines := nonEmptyLines(stderr)
			if code != 3 || len(lines) != 1 || !strings.HasPrefix(lines[0], wantErr) {
				t.Errorf("%s %q with env %q:\nexit %d, stderr:\n%s\nwant exit 3 and only the error %q...; stdout:\n%s",
					s.Bin, args, env, code, stderr, wantErr, stdout)
			}
		})
	}
}

// localPath maps a path in the container to one in dir: a ConfigMap file
// is written there, a writable volume becomes a directory; other values
// are returned with $(VAR) references expanded.
func localPath(t *testing.T, m *manifests, s *setup, dir, value string) string {
	t.Helper()
	value, _ = s.expand(value)
	if !strings.HasPrefix(value, "/") {
		return value
	}
	b, ok := s.W.Template.Spec.resolve(s.C, value)
	if !ok {
		return value
	}
	local := filepath.Join(dir, b.Vol.Name, filepath.FromSlash(b.Rel))
	if err := os.MkdirAll(filepath.Dir(local), 0o700); err != nil {
		t.Fatal(err)
	}
	switch {
	case b.Vol.ConfigMap != nil:
		data, err := s.file(m, value)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(local, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	case strings.HasSuffix(value, "/"):
		local += string(filepath.Separator) // a directory, as the value says
	}
	return local
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// scenarioRef is a scenario file a container runs, by its path in the
// container.
type scenarioRef struct {
	S    *setup
	Path string
	// Rate is the rate the container runs it at (0 = the scenario's).
	Rate float64
	// Runners is how many runners share it (--runners; 1 = alone).
	Runners int
	// Entry is the schedule entry that runs it; "" for `synth run`.
	Entry string
}

// scheduleConfig is the part of a `synth schedule` file the tests read.
type scheduleConfig struct {
	HistoryFile string `yaml:"history_file"`
	ResultDir   string `yaml:"result_dir"`
	Entries     []struct {
		Name     string  `yaml:"name"`
		Scenario string  `yaml:"scenario"`
		Rate     float64 `yaml:"rate"`
	} `yaml:"entries"`
}

// schedule returns the decoded --config file of a `synth schedule` setup.
func (s *setup) schedule(t *testing.T, m *manifests) *scheduleConfig {
	t.Helper()
	p, ok := s.Inv.Flags["config"]
	if !ok {
		t.Errorf("%s: container %q: synth schedule without --config", s.W.Obj, s.C.Name)
		return nil
	}
	data, err := s.file(m, p)
	if err != nil {
		t.Errorf("%s: container %q: --config: %v", s.W.Obj, s.C.Name, err)
		return nil
	}
	var c scheduleConfig
	if err := yaml.Unmarshal([]byte(data), &c); err != nil {
		t.Errorf("%s: %s: %v", s.W.Obj, p, err)
		return nil
	}
	if len(c.Entries) == 0 {
		t.Errorf("%s: %s: no entries", s.W.Obj, p)
	}
	return &c
}

// scenarios lists every scenario a container runs.
func scenarios(t *testing.T, m *manifests) []scenarioRef {
	t.Helper()
	var refs []scenarioRef
	for _, s := range setups(t) {
		switch s.Bin + " " + s.Sub {
		case "synth run":
			var rate float64
			if r, _ := s.get("rate"); r != "" {
				fmt.Sscan(r, &rate)
			}
			runners := 1
			if n, _ := s.get("runners"); n != "" {
				fmt.Sscan(n, &runners)
			}
			for _, p := range s.Inv.Positional {
				refs = append(refs, scenarioRef{S: s, Path: p, Rate: rate, Runners: runners})
			}
		case "synth schedule":
			if c := s.schedule(t, m); c != nil {
				for _, e := range c.Entries {
					refs = append(refs, scenarioRef{S: s, Path: e.Scenario, Rate: e.Rate, Entry: e.Name})
				}
			}
		}
	}
	return refs
}

// Every scenario a container runs is on a ConfigMap volume and passes
// `synth validate`; every ConfigMap key is a file something reads.
func TestScenariosValidate(t *testing.T) {
	t.Parallel()
	m := load(t)
	dir := t.TempDir()
	files := map[string]bool{}
	used := map[string]bool{} // "configmap/key"
	for _, s := range setups(t) {
		if p, ok := s.Inv.Flags["config"]; ok {
			if b, ok := s.W.Template.Spec.resolve(s.C, p); ok && b.Vol.ConfigMap != nil {
				used[b.Vol.ConfigMap.Name+"/"+b.Key] = true
			}
		}
	}
	for _, r := range scenarios(t, m) {
		data, err := r.S.file(m, r.Path)
		if err != nil {
			t.Errorf("%s: container %q: scenario: %v", r.S.W.Obj, r.S.C.Name, err)
			continue
		}
		b, _ := r.S.W.Template.Spec.resolve(r.S.C, r.Path)
		used[b.Vol.ConfigMap.Name+"/"+b.Key] = true
		local := filepath.Join(dir, b.Vol.ConfigMap.Name, b.Key)
		if err := os.MkdirAll(filepath.Dir(local), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(local, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		files[local] = true
		// The feeders' files, beside it as the container sees them.
		var sc struct {
			Data map[string]struct {
				File string `yaml:"file"`
			} `yaml:"data"`
		}
		_ = yaml.Unmarshal([]byte(data), &sc) // synth validate says what is wrong with it
		for name, d := range sc.Data {
			p := d.File
			if !path.IsAbs(p) {
				p = path.Join(path.Dir(r.Path), p)
			}
			feed, err := r.S.file(m, p)
			if err != nil {
				t.Errorf("%s: container %q: %s: feeder %s: %v", r.S.W.Obj, r.S.C.Name, r.Path, name, err)
				continue
			}
			fb, _ := r.S.W.Template.Spec.resolve(r.S.C, p)
			used[fb.Vol.ConfigMap.Name+"/"+fb.Key] = true
			if err := os.WriteFile(filepath.Join(dir, fb.Vol.ConfigMap.Name, fb.Key), []byte(feed), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(files) == 0 {
		t.Fatal("no container runs a scenario")
	}
	args := append([]string{"validate"}, sortedKeys(files)...)
	if code, stdout, stderr := run(t, "synth", nil, args...); code != 0 {
		t.Errorf("synth validate: exit %d\n%s%s", code, stdout, stderr)
	}
	var unused []string
	for _, o := range m.Objects {
		if o.Kind != "ConfigMap" {
			continue
		}
		for k := range o.Data {
			if !used[o.Metadata.Name+"/"+k] {
				unused = append(unused, fmt.Sprintf("%s key %q", o, k))
			}
		}
	}
	sort.Strings(unused)
	for _, u := range unused {
		t.Errorf("%s: no container reads it", u)
	}
}
