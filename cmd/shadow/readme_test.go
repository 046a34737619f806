package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The configuration reference in README.md must stay true: the example
// file it shows loads and validates.
func TestREADMEConfigExampleLoads(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "## shadow configuration")
	if !ok {
		t.Fatal(`README.md has no "## shadow configuration" section`)
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the shadow configuration section has no yaml block")
	}
	cfg, err := loadRunConfig(t, "--config", writeFile(t, "readme.yaml", block))
	if err != nil {
		t.Fatalf("README's example config does not load: %v\n%s", err, block)
	}
	if cfg.Mirror.CandidateTimeout != 5*time.Second || len(cfg.Mirror.Routes) != 3 || len(cfg.Compare.Normalizers) != 4 {
		t.Errorf("README's example config loaded as %+v", cfg)
	}
}
