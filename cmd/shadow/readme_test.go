package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/understudy-dev/understudy/internal/testio"
	"github.com/understudy-dev/understudy/scenarios"
	"github.com/understudy-dev/understudy/schedule"
)

// readmeBlock is one fenced code block of README.md.
type readmeBlock struct {
	lang, text string
	line       int // of the block's first line
}

var fence = regexp.MustCompile("(?ms)^ *```(\\w*)\\n(.*?)^ *```")

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	for _, m := range fence.FindAllSubmatchIndex(data, -1) {
		blocks = append(blocks, readmeBlock{
			lang: string(data[m[2]:m[3]]), text: string(data[m[4]:m[5]]),
			line: strings.Count(string(data[:m[4]]), "\n") + 1,
		})
	}
	return blocks
}

// The configuration reference in README.md must stay true: the example
// file it shows loads and validates.
func TestREADMEConfigExampleLoads(t *testing.T) {
	block := readmeShadowConfig(t)
	cfg, err := loadRunConfig(t, "--config", writeFile(t, "readme.yaml", block))
	if err != nil {
		t.Fatalf("README's example config does not load: %v\n%s", err, block)
	}
	if cfg.Mirror.CandidateTimeout != 5*time.Second || len(cfg.Mirror.Routes) != 5 || len(cfg.Compare.Normalizers) != 4 {
		t.Errorf("README's example config loaded as %+v", cfg)
	}
}

// readmeShadowConfig is the example file of README's "shadow
// configuration".
func readmeShadowConfig(t *testing.T) string {
	t.Helper()
	for _, b := range readmeBlocks(t) {
		if b.lang == "yaml" && strings.HasPrefix(b.text, "listen:") {
			return b.text
		}
	}
	t.Fatal(`README.md has no shadow config example (a yaml block starting "listen:")`)
	return ""
}

// Every YAML block of README.md loads through the loader of what it
// shows: a scenario (or a part of one, put into the full scenario shown
// first), a
// schedule, or a shadow config file.
func TestREADMEYAMLBlocksLoad(t *testing.T) {
	dir := readmeWorkdir(t)
	var example map[string]any // the full scenario, that parts are put into
	for _, b := range readmeBlocks(t) {
		if b.lang != "yaml" {
			continue
		}
		var top map[string]any
		if err := yaml.Unmarshal([]byte(b.text), &top); err != nil {
			t.Errorf("README.md:%d: not YAML: %v", b.line, err)
			continue
		}
		name := filepath.Join(dir, "readme-"+strconv.Itoa(b.line)+".yaml")
		var err error
		switch {
		case top["listen"] != nil:
			_, err = loadRunConfig(t, "--config", writeFile(t, "readme.yaml", b.text))
		case top["entries"] != nil:
			_, err = schedule.ParseConfig(name, []byte(b.text))
		case top["journeys"] != nil && top["name"] != nil:
			example = top
			_, err = scenarios.Parse(name, []byte(b.text))
		case example != nil && scenarioKeys(top):
			// The part goes into the example without its ceiling: a part's
			// rates may well go above the example's.
			merged := map[string]any{}
			for k, v := range example {
				if k != "ceiling" {
					merged[k] = v
				}
			}
			for k, v := range top {
				merged[k] = v
			}
			data, merr := yaml.Marshal(merged)
			if merr != nil {
				t.Fatal(merr)
			}
			_, err = scenarios.Parse(name, data)
		default:
			t.Errorf("README.md:%d: a YAML block this test does not know how to load; teach it:\n%s", b.line, b.text)
			continue
		}
		if err != nil {
			t.Errorf("README.md:%d: does not load: %v\n%s", b.line, err, b.text)
		}
	}
	if example == nil {
		t.Error("README.md shows no full scenario (name: and journeys:)")
	}
}

// scenarioKeys reports whether every key of top is a scenario's.
func scenarioKeys(top map[string]any) bool {
	for k := range top {
		switch k {
		case "name", "target", "rate", "stages", "duration", "max_in_flight", "ceiling", "timeout", "seed",
			"prometheus", "guardrails", "data", "notify", "thresholds", "journeys", "tls", "protocol", "grpc":
		default:
			return false
		}
	}
	return true
}

// Every shadow and synth command README.md prints works as printed, in a
// checkout: the ones that would send traffic or serve (run, demo, attack,
// schedule) print their configuration instead (--print-config: flags,
// files and settings checked, nothing started), synth validate and synth
// schedule --check run as they are, and the rest (report, replay, tui,
// history), which need captures, results or a running instance, show
// their help: the subcommand and every flag exist.
func TestREADMECommandsWork(t *testing.T) {
	dir := readmeWorkdir(t)
	checked := 0
	for _, b := range readmeBlocks(t) {
		if b.lang != "sh" {
			continue
		}
		for _, c := range shellCommands(b) {
			bin, args, ok := understudyCommand(c.words)
			if !ok {
				continue
			}
			checked++
			args = readmeInvocation(t, dir, args)
			t.Run(strconv.Itoa(c.line)+"/"+bin+"/"+args[0], func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, testio.Binary(t, bin), args...)
				cmd.Dir = dir
				for _, kv := range os.Environ() {
					if !strings.HasPrefix(kv, "SHADOW_") && !strings.HasPrefix(kv, "SYNTH_") {
						cmd.Env = append(cmd.Env, kv)
					}
				}
				cmd.Env = append(cmd.Env, c.env...)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Errorf("README.md:%d: %s\nran %s %q: %v\n%s", c.line, c.text, bin, args, err, out)
				}
			})
		}
	}
	if checked < 10 {
		t.Errorf("checked %d commands; README.md shows more: the extraction is broken", checked)
	}
}

// readmeInvocation is how TestREADMECommandsWork runs a command's
// arguments (see there), globs expanded in dir.
func readmeInvocation(t *testing.T, dir string, args []string) []string {
	t.Helper()
	var out []string
	for _, a := range args {
		if strings.Contains(a, "*") {
			matches, err := filepath.Glob(filepath.Join(dir, a))
			if err != nil || len(matches) == 0 {
				t.Fatalf("%q matches nothing in a checkout", a)
			}
			for _, m := range matches {
				rel, _ := filepath.Rel(dir, m)
				out = append(out, rel)
			}
			continue
		}
		out = append(out, a)
	}
	switch sub := out[0]; {
	case sub == "validate" || sub == "schedule" && contains(out, "--check"):
	case sub == "run" || sub == "demo" || sub == "attack" || sub == "schedule":
		out = append(out, "--print-config")
	default:
		out = append(out, "--help")
	}
	return out
}

func contains(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// readmeWorkdir is a checkout as the README's commands expect it: the
// repository's testdata, the scenarios (also as scenarios/ and
// order-journey.yaml, as the examples name them), the README's shadow
// config as shadow.yaml (and stricter.yaml) and its schedule as
// schedule.yaml, a request body, and empty captures/results directories.
func readmeWorkdir(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	links := map[string]string{
		"testdata":           "testdata",
		"scenarios":          "testdata/scenarios",
		"order-journey.yaml": "testdata/scenarios/order-journey.yaml",
		"users.csv":          "testdata/scenarios/users.csv",
	}
	for name, target := range links {
		if err := os.Symlink(filepath.Join(root, target), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"shadow.yaml": readmeShadowConfig(t), "stricter.yaml": readmeShadowConfig(t), "order.json": `{"items": []}`,
	}
	for _, b := range readmeBlocks(t) {
		if b.lang == "yaml" && strings.Contains(b.text, "\nentries:") {
			files["schedule.yaml"] = b.text
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"captures", "results", "other-runner"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// shellCommand is one simple command of a README shell block.
type shellCommand struct {
	line  int
	text  string   // as printed, continuation lines joined
	env   []string // leading NAME=value assignments
	words []string // the command and its arguments, quotes removed
}

// shellCommands splits a shell block into its simple commands: lines
// joined at a trailing backslash, comments dropped, commands split at
// ; && || | &, words split as the shell does for quotes. A $(...)
// substitution stands as one word.
func shellCommands(b readmeBlock) []shellCommand {
	var cmds []shellCommand
	lines := strings.Split(b.text, "\n")
	for i := 0; i < len(lines); i++ {
		start, text := i, lines[i]
		for strings.HasSuffix(text, "\\") && i+1 < len(lines) {
			i++
			text = strings.TrimSuffix(text, "\\") + " " + lines[i]
		}
		for _, words := range shellWords(text) {
			c := shellCommand{line: b.line + start, text: strings.TrimSpace(text)}
			for len(words) > 0 && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(words[0]) {
				c.env, words = append(c.env, words[0]), words[1:]
			}
			if len(words) > 1 && words[0] == "timeout" {
				words = words[2:]
			}
			if len(words) > 0 {
				c.words = words
				cmds = append(cmds, c)
			}
		}
	}
	return cmds
}

// shellWords splits one command line into the words of each command.
func shellWords(line string) [][]string {
	var cmds [][]string
	var words []string
	var word strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			words = append(words, word.String())
		}
		word.Reset()
		inWord = false
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
		words = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				end = len(line) - i - 1
			}
			word.WriteString(line[i+1 : i+1+end])
			inWord, i = true, i+1+end
		case c == '"':
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '$' && j+1 < len(line) && line[j+1] == '(' {
					depth := 0
					for ; j < len(line); j++ {
						if line[j] == '(' {
							depth++
						} else if line[j] == ')' {
							if depth--; depth == 0 {
								break
							}
						}
					}
					word.WriteString("SUBSTITUTED")
					continue
				}
				word.WriteByte(line[j])
			}
			inWord, i = true, j
		case c == '#' && !inWord:
			endCmd()
			return cmds
		case c == ' ' || c == '\t':
			endWord()
		case c == ';' || c == '|' || c == '&':
			endCmd()
			if i+1 < len(line) && line[i+1] == c {
				i++
			}
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds
}

// understudyCommand recognises shadow and synth however the README calls
// them (shadow, ./shadow, bin/synth, go run ./cmd/shadow) and returns the
// binary and its arguments.
func understudyCommand(words []string) (bin string, args []string, ok bool) {
	if len(words) >= 3 && words[0] == "go" && words[1] == "run" {
		words = append([]string{filepath.Base(words[2])}, words[3:]...)
	}
	switch bin = filepath.Base(words[0]); bin {
	case "shadow", "synth":
		if len(words) < 2 {
			return "", nil, false
		}
		return bin, words[1:], true
	}
	return "", nil, false
}

func TestShellCommands(t *testing.T) {
	b := readmeBlock{line: 10, text: "A=1 shadow run --x 'a b' \\\n  --y \"$(kubectl get x | base64 -d)\"   # comment\n" +
		"timeout 1h synth run f.yaml; test $? -ne 1\nkubectl port-forward x 9090 &\ngo run ./cmd/shadow demo && echo ok\n"}
	var got []string
	for _, c := range shellCommands(b) {
		got = append(got, strconv.Itoa(c.line)+":"+strings.Join(c.env, ",")+":"+strings.Join(c.words, "|"))
	}
	want := []string{
		"10:A=1:shadow|run|--x|a b|--y|SUBSTITUTED", "12::synth|run|f.yaml", "12::test|$?|-ne|1",
		"13::kubectl|port-forward|x|9090", "14::go|run|./cmd/shadow|demo", "14::echo|ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, _, ok := understudyCommand([]string{"kubectl", "apply"}); ok {
		t.Error("kubectl taken for an understudy command")
	}
	if bin, args, _ := understudyCommand([]string{"go", "run", "./cmd/shadow", "demo"}); bin != "shadow" || args[0] != "demo" {
		t.Errorf("go run ./cmd/shadow demo: %s %q", bin, args)
	}
}
