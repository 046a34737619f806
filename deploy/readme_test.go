package deploy_test

import (
	"os"
	"strings"
	"testing"
)

// README.md explains running in Kubernetes and scaling out, before its
// safety notes, and names every manifest in this directory.
func TestREADMEDeploySections(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	order := []string{"\n## Running in Kubernetes\n", "\n## Scaling out\n", "\n## Safety notes\n"}
	last := -1
	for _, h := range order {
		i := strings.Index(text, h)
		if i < 0 {
			t.Fatalf("README.md has no %q heading", strings.TrimSpace(h))
		}
		if i < last {
			t.Errorf("README.md: %q comes too early: want the order %q", strings.TrimSpace(h), order)
		}
		last = i
	}
	section := readmeSection(t, "## Running in Kubernetes")
	for _, f := range append(load(t).Files, "kustomization.yaml") {
		if !strings.Contains(section, f) {
			t.Errorf(`README.md's "Running in Kubernetes" does not mention deploy/%s`, f)
		}
	}
}
