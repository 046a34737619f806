package deploy_test

import (
	"strings"
	"testing"
)

// FuzzParseHelp feeds the help parser arbitrary text: it must not panic,
// and every flag it finds has a name that could be typed on a command line.
func FuzzParseHelp(f *testing.F) {
	f.Add("Flags:\n      --admin string   admin (default \"127.0.0.1:9090\")\n  -h, --help   help\n")
	f.Add("Available Commands:\n  run  Run\n\nFlags:\n      --x\n")
	f.Add("Flags:\n      --d duration   (default \"\\\"q\\\"\")\n")
	f.Fuzz(func(t *testing.T, text string) {
		h := parseHelp(text)
		for name, spec := range h.Flags {
			if name == "" || name != spec.Name || strings.ContainsAny(name, " \t=") {
				t.Errorf("flag %q parsed as %+v", name, spec)
			}
		}
	})
}

// FuzzParseArgs feeds the args reader arbitrary args: it must not panic,
// and what it accepts only uses known flags.
func FuzzParseArgs(f *testing.F) {
	f.Add("run\x00--config=/a\x00--no-tui\x00x.yaml")
	f.Add("run\x00--config\x00--")
	f.Add("\x00-")
	flags := map[string]flagSpec{"config": {Name: "config", TakesValue: true}, "no-tui": {Name: "no-tui"}}
	f.Fuzz(func(t *testing.T, joined string) {
		inv, err := parseArgs(strings.Split(joined, "\x00"), flags)
		if err != nil {
			return
		}
		for name := range inv.Flags {
			if _, ok := flags[name]; !ok {
				t.Errorf("accepted unknown flag %q", name)
			}
		}
	})
}

// FuzzDockerignore feeds the .dockerignore compiler arbitrary patterns and
// paths: it must not panic, and a pattern always excludes the path it
// names literally (when it has no wildcard or escape).
func FuzzDockerignore(f *testing.F) {
	f.Add("**/testdata\n!keep", "a/testdata/b")
	f.Add("/shadow", "shadow")
	f.Add("[a-", "a")
	f.Add("docs", "docs/x.md")
	f.Fuzz(func(t *testing.T, patterns, file string) {
		rules, err := parseDockerignore(patterns)
		if err != nil {
			return
		}
		ignored(rules, file)
		p := strings.TrimSpace(file)
		if p == "" || strings.ContainsAny(p, "*?[]\\!#\n\r") || strings.Contains(p, "//") || strings.HasPrefix(p, "/") ||
			strings.HasSuffix(p, "/") || strings.Contains("/"+p+"/", "/./") || strings.Contains("/"+p+"/", "/../") || p != file {
			return
		}
		if rules, err := parseDockerignore(p); err == nil && !ignored(rules, p) {
			t.Errorf("pattern %q does not exclude %q", p, p)
		}
	})
}
