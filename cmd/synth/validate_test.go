package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/cmd/internal/cli"
)

func TestValidateCommand(t *testing.T) {
	t.Parallel()
	examples, _ := filepath.Glob("../../testdata/scenarios/*.yaml")
	if len(examples) == 0 {
		t.Fatal("no example scenarios")
	}
	code, out, errOut := run(t, nil, append([]string{"validate"}, examples...)...)
	if code != cli.ExitOK || strings.Count(out, ": ok: scenario") != len(examples) {
		t.Errorf("examples: exit %d, stdout:\n%s\nstderr:\n%s\nwant 0 and one ok line each", code, out, errOut)
	}
	bad := filepath.Join(t.TempDir(), "order.yaml")
	src := "name: x\ntarget: http://h\nrate: {rate: 600}\nceiling: 500\nduration: 1m\njourneys:\n  - name: j\n    steps:\n      - {name: s, path: '/o/{{ .Vars.id }}'}\n"
	if err := os.WriteFile(bad, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, nil, "validate", examples[0], bad)
	for _, want := range []string{
		bad + ":3: rate.rate: 600/s is above the ceiling 500/s",
		bad + `:9: journeys[0].steps[0].path: variable "id" is not captured by an earlier step`,
		"1 of 2 scenario files have problems",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if code != cli.ExitConfig {
		t.Errorf("exit %d, want 3", code)
	}
}

// TestValidateBoundsTemplates: a template that would render gigabytes is
// refused at once, by file, line and key, in validate and in run.
func TestValidateBoundsTemplates(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "huge.yaml")
	src := `name: huge
target: http://127.0.0.1:1
rate: {rate: 1}
duration: 1s
journeys:
  - name: j
    steps:
      - name: upload
        method: POST
        path: /images
        headers: {X-Pad: '{{ range 1000 }}{{ fake.DigitN 1000 }}{{ end }}'}
        body: '{{ fake.ImagePng 12000 12000 }}'
`
	if err := os.WriteFile(bad, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"validate", bad}, {"run", "--no-tui", bad}} {
		code, _, errOut := run(t, nil, cmd...)
		for _, want := range []string{
			bad + ":11: journeys[0].steps[0].headers.X-Pad: renders too much: more than 16 KiB",
			bad + ":12: journeys[0].steps[0].body: fake.ImagePng is not available",
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", cmd[0], want, errOut)
			}
		}
		if code != cli.ExitConfig {
			t.Errorf("%s: exit %d, want 3", cmd[0], code)
		}
	}
}
