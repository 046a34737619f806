package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/internal/testio"
)

// binaries caches what the built commands' --help says.
var binaries struct {
	mu   sync.Mutex
	help map[string]*helpText // by "shadow run", "synth", ...
}

// execTimeout bounds every run of a built binary; none of them serves, so
// hitting it means a command started for real and the test must fail.
const execTimeout = time.Minute

// binary returns the path of the built binary name ("shadow" or "synth").
func binary(t *testing.T, name string) string { return testio.Binary(t, name) }

// run runs a built binary with args and env (added to a copy of this
// process's environment without any SHADOW_* or SYNTH_* variable), and
// returns its exit code, stdout and stderr.
func run(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	path := binary(t, bin) // built before the clock starts: a cold build may take minutes
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SHADOW_") && !strings.HasPrefix(kv, "SYNTH_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: still running after %s: it must only have printed help or a config error", bin, strings.Join(args, " "), execTimeout)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
	}
	return code, stdout.String(), stderr.String()
}

// helpText is what `<binary> [sub] --help` says: its subcommands and flags.
type helpText struct {
	Commands map[string]bool
	Flags    map[string]flagSpec
}

// flagSpec is one flag as --help lists it.
type flagSpec struct {
	Name       string
	TakesValue bool   // false for bool flags
	Default    string // "" when none is shown
}

// help returns the parsed --help of bin and sub ("" for the root), or nil
// when bin has no such subcommand.
func help(t *testing.T, bin, sub string) *helpText {
	t.Helper()
	key := strings.TrimSpace(bin + " " + sub)
	binaries.mu.Lock()
	h, ok := binaries.help[key]
	binaries.mu.Unlock()
	if ok {
		return h
	}
	if sub != "" && !help(t, bin, "").Commands[sub] {
		h = nil
	} else {
		args := []string{"--help"}
		if sub != "" {
			args = []string{sub, "--help"}
		}
		code, out, errOut := run(t, bin, nil, args...)
		if code != 0 {
			t.Fatalf("%s --help: exit %d\n%s%s", key, code, out, errOut)
		}
		h = parseHelp(out)
		if sub != "" && len(h.Flags) == 0 {
			t.Fatalf("%s --help lists no flags:\n%s", key, out)
		}
	}
	binaries.mu.Lock()
	defer binaries.mu.Unlock()
	if binaries.help == nil {
		binaries.help = map[string]*helpText{}
	}
	binaries.help[key] = h
	return h
}

var (
	// flagLine matches a cobra/pflag flag line: "  -h, --help   help",
	// "      --listen string   address (default "127.0.0.1:8080")".
	flagLine    = regexp.MustCompile(`^\s+(?:-[[:alnum:]], )?--([[:alnum:]][[:alnum:]-]*)(?: ([[:alnum:]]+))?(?:\s{2,}(.*))?$`)
	flagDefault = regexp.MustCompile(`\(default (.*)\)\s*$`)
)

// parseHelp reads the "Available Commands:" and "Flags:" sections of a
// cobra help text.
func parseHelp(text string) *helpText {
	h := &helpText{Commands: map[string]bool{}, Flags: map[string]flagSpec{}}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			section = ""
			continue
		case !strings.HasPrefix(line, " ") && strings.HasSuffix(line, ":"):
			section = line
			continue
		}
		switch section {
		case "Available Commands:", "Additional Commands:":
			if f := strings.Fields(line); len(f) > 0 {
				h.Commands[f[0]] = true
			}
		case "Flags:", "Global Flags:":
			m := flagLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			f := flagSpec{Name: m[1], TakesValue: m[2] != ""}
			if d := flagDefault.FindStringSubmatch(m[3]); d != nil {
				f.Default = d[1]
				if s, err := strconv.Unquote(d[1]); err == nil {
					f.Default = s
				}
			}
			h.Flags[f.Name] = f
		}
	}
	return h
}

// invocation is a container's args read against its binary's flags.
type invocation struct {
	Sub        string
	Flags      map[string]string // the last value of each flag given
	Positional []string
}

// parseArgs reads args (subcommand first) with flags, the subcommand's.
func parseArgs(args []string, flags map[string]flagSpec) (invocation, error) {
	inv := invocation{Flags: map[string]string{}}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return inv, fmt.Errorf("want a subcommand first, got %q", args)
	}
	inv.Sub = args[0]
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			inv.Positional = append(inv.Positional, args[i+1:]...)
			return inv, nil
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			spec, ok := flags[name]
			if !ok {
				return inv, fmt.Errorf("unknown flag --%s", name)
			}
			switch {
			case hasValue:
			case spec.TakesValue && i+1 < len(args):
				i++
				value = args[i]
			case spec.TakesValue:
				return inv, fmt.Errorf("flag --%s needs a value", name)
			default:
				value = "true"
			}
			inv.Flags[name] = value
		case strings.HasPrefix(a, "-") && a != "-":
			return inv, fmt.Errorf("short flag %q: spell flags out in manifests", a)
		default:
			inv.Positional = append(inv.Positional, a)
		}
	}
	return inv, nil
}

// positionals is how many arguments each subcommand the manifests use
// takes besides flags: `synth run SCENARIO.yaml`.
var positionals = map[string]int{"shadow run": 0, "synth run": 1, "synth schedule": 0}

// Every understudy container runs a binary the image has, a subcommand it
// knows, flags its --help lists with values where they need one, and the
// right number of arguments.
func TestContainerCommands(t *testing.T) {
	t.Parallel()
	m := load(t)
	dests := dockerfileBinaries(t)
	m.ourContainers(func(w *workload, c *container) {
		t.Run(w.Obj.Metadata.Name+"/"+c.Name, func(t *testing.T) {
			t.Parallel()
			bin := c.binary()
			if len(c.Command) != 1 || dests[c.Command[0]] == "" {
				t.Fatalf("command %q: want exactly one of the image's binaries %v (the image has no ENTRYPOINT)", c.Command, sortedKeys(dests))
			}
			if len(c.Args) == 0 {
				t.Fatal("no args: want a subcommand")
			}
			sub := c.Args[0]
			h := help(t, bin, sub)
			if h == nil {
				t.Fatalf("%s has no subcommand %q", bin, sub)
			}
			inv, err := parseArgs(c.Args, h.Flags)
			if err != nil {
				t.Fatalf("%s %q: %v", bin, c.Args, err)
			}
			want, ok := positionals[bin+" "+sub]
			if !ok {
				t.Fatalf("%s %s: the test does not know how many arguments it takes; add it to positionals", bin, sub)
			}
			if got := len(inv.Positional); got != want {
				t.Errorf("%s %s: got %d arguments %q, want %d", bin, sub, got, inv.Positional, want)
			}
		})
	})
}

// TestParseHelp proves the help parser on the shapes cobra prints.
func TestParseHelp(t *testing.T) {
	t.Parallel()
	text := `Usage:
  shadow run [flags]

Available Commands:
  demo        Run the demo
  run         Run the proxy

Flags:
      --admin string                admin endpoint; "" turns it off (default "127.0.0.1:9090")
  -h, --help                        help for run
      --no-tui                      print plain lines
      --shutdown-timeout duration   how long (default 10s)
      --rate float                  journeys per second

Global Flags:
      --verbose   more
`
	got := parseHelp(text)
	want := map[string]flagSpec{
		"admin":            {Name: "admin", TakesValue: true, Default: "127.0.0.1:9090"},
		"help":             {Name: "help"},
		"no-tui":           {Name: "no-tui"},
		"shutdown-timeout": {Name: "shutdown-timeout", TakesValue: true, Default: "10s"},
		"rate":             {Name: "rate", TakesValue: true},
		"verbose":          {Name: "verbose"},
	}
	if fmt.Sprint(got.Flags) != fmt.Sprint(want) {
		t.Errorf("flags:\ngot  %v\nwant %v", got.Flags, want)
	}
	if !got.Commands["demo"] || !got.Commands["run"] || len(got.Commands) != 2 {
		t.Errorf("commands: got %v, want demo and run", got.Commands)
	}
}

// TestParseArgs proves the args reader, including the mistakes it catches.
func TestParseArgs(t *testing.T) {
	t.Parallel()
	flags := map[string]flagSpec{
		"config": {Name: "config", TakesValue: true},
		"no-tui": {Name: "no-tui"},
	}
	tests := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{args: []string{"run", "--config=/a.yaml", "--no-tui", "x.yaml"}, want: "run map[config:/a.yaml no-tui:true] [x.yaml]"},
		{args: []string{"run", "--config", "/a.yaml", "--config", "/b.yaml"}, want: "run map[config:/b.yaml] []"},
		{args: []string{"run", "--no-tui=false", "--", "--x"}, want: "run map[no-tui:false] [--x]"},
		{args: []string{"run", "--confgi=/a.yaml"}, wantErr: "unknown flag --confgi"},
		{args: []string{"run", "--config"}, wantErr: "needs a value"},
		{args: []string{"run", "-c", "x"}, wantErr: "short flag"},
		{args: []string{"--config=/a.yaml"}, wantErr: "want a subcommand"},
	}
	for _, tt := range tests {
		inv, err := parseArgs(tt.args, flags)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseArgs(%q): got error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tt.args, err)
			continue
		}
		if got := fmt.Sprint(inv.Sub, " ", inv.Flags, " ", inv.Positional); got != tt.want {
			t.Errorf("parseArgs(%q):\ngot  %s\nwant %s", tt.args, got, tt.want)
		}
	}
}
