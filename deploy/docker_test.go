package deploy_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/internal/testio"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Line int
	Cmd  string // upper case: FROM, RUN, COPY, ...
	Args string
}

// parseDockerfile splits text into instructions, skipping comments and
// joining lines that end in a backslash.
func parseDockerfile(text string) []instruction {
	var out []instruction
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		more := strings.HasSuffix(line, "\\")
		cur.WriteString(strings.TrimSuffix(line, "\\"))
		if more {
			cur.WriteString(" ")
			continue
		}
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{Line: start, Cmd: strings.ToUpper(cmd), Args: strings.Join(strings.Fields(args), " ")})
		cur.Reset()
	}
	return out
}

// stage is one FROM ... up to the next FROM.
type stage struct {
	From  instruction
	Image string
	Name  string
	Body  []instruction
}

func stages(ins []instruction) []stage {
	var out []stage
	for _, in := range ins {
		if in.Cmd == "FROM" {
			st := stage{From: in}
			for _, f := range strings.Fields(in.Args) {
				switch {
				case strings.HasPrefix(f, "--"):
				case st.Image == "":
					st.Image = f
				case strings.EqualFold(f, "AS"):
				default:
					st.Name = f
				}
			}
			out = append(out, st)
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].Body = append(out[len(out)-1].Body, in)
		}
	}
	return out
}

func readDockerfile(t *testing.T) []stage {
	t.Helper()
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	st := stages(parseDockerfile(string(data)))
	if len(st) < 2 {
		t.Fatalf("Dockerfile: got %d stages, want a build stage and a final one", len(st))
	}
	return st
}

// dockerfileBinaries maps each path the final image has a binary at
// (/usr/local/bin/shadow) to the binary's name.
func dockerfileBinaries(t *testing.T) map[string]string {
	t.Helper()
	st := readDockerfile(t)
	final := st[len(st)-1]
	bins := map[string]string{}
	for _, in := range final.Body {
		if in.Cmd != "COPY" || !strings.Contains(in.Args, "--from=") {
			continue
		}
		var files []string
		for _, f := range strings.Fields(in.Args) {
			if !strings.HasPrefix(f, "--") {
				files = append(files, f)
			}
		}
		if len(files) < 2 {
			continue
		}
		dest := files[len(files)-1]
		for _, src := range files[:len(files)-1] {
			p := dest
			if strings.HasSuffix(dest, "/") || len(files) > 2 {
				p = path.Join(dest, path.Base(src))
			}
			bins[p] = path.Base(p)
		}
	}
	return bins
}

// The Dockerfile builds both commands, static and stripped, with the Go
// version go.mod asks for, into a distroless (or scratch) image running as
// a non-root user, with no ENTRYPOINT, at the paths the manifests run.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	st := readDockerfile(t)
	build, final := st[0], st[len(st)-1]

	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(gomod))
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	if want := "golang:" + goVersion[1]; build.Image != want && !strings.HasPrefix(build.Image, want+"-") && !strings.HasPrefix(build.Image, want+".") {
		t.Errorf("Dockerfile:%d: build stage FROM %s: want %s (go.mod says go %s)", build.From.Line, build.Image, want, goVersion[1])
	}

	var goBuild *instruction
	for i, in := range build.Body {
		if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
			goBuild = &build.Body[i]
		}
	}
	if goBuild == nil {
		t.Fatal("Dockerfile: the build stage has no RUN go build")
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags="-s -w"`, "-o /out/"} {
		if !strings.Contains(goBuild.Args, want) {
			t.Errorf("Dockerfile:%d: go build without %s", goBuild.Line, want)
		}
	}
	var pkgs []string
	for _, f := range strings.Fields(goBuild.Args) {
		if strings.HasPrefix(f, "./") {
			pkgs = append(pkgs, f)
		}
	}
	if fmt.Sprint(pkgs) != "[./cmd/shadow ./cmd/synth]" {
		t.Errorf("Dockerfile:%d: go build packages %v, want [./cmd/shadow ./cmd/synth]", goBuild.Line, pkgs)
	}
	if len(pkgs) > 0 {
		cmd := exec.Command(testio.GoCommand(), append([]string{"list", "-f", "{{.Name}} {{.Dir}}"}, pkgs...)...)
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("Dockerfile:%d: go list %v: %v\n%s", goBuild.Line, pkgs, err, out)
		}
		for _, line := range nonEmptyLines(string(out)) {
			if !strings.HasPrefix(line, "main ") {
				t.Errorf("Dockerfile:%d: %s is not a main package", goBuild.Line, line)
			}
		}
	}

	switch {
	case final.Image == "gcr.io/distroless/static:nonroot", strings.HasPrefix(final.Image, "gcr.io/distroless/static-debian") && strings.HasSuffix(final.Image, ":nonroot"):
	case final.Image == "scratch":
	default:
		t.Errorf("Dockerfile:%d: final stage FROM %s: want gcr.io/distroless/static:nonroot or scratch", final.From.Line, final.Image)
	}
	user := ""
	for _, in := range final.Body {
		switch in.Cmd {
		case "USER":
			user = in.Args
		case "ENTRYPOINT", "CMD":
			t.Errorf("Dockerfile:%d: %s: the manifests pick the binary; want none", in.Line, in.Cmd)
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); !regexp.MustCompile(`^[1-9][0-9]*$`).MatchString(uid) {
		t.Errorf("Dockerfile: final USER %q: want a numeric non-root uid, so runAsNonRoot can verify it", user)
	}

	bins := dockerfileBinaries(t)
	if got := fmt.Sprint(sortedKeys(bins)); got != "[/usr/local/bin/shadow /usr/local/bin/synth]" {
		t.Errorf("Dockerfile: binaries at %s, want /usr/local/bin/shadow and /usr/local/bin/synth", got)
	}
	load(t).ourContainers(func(w *workload, c *container) {
		if len(c.Command) == 0 || bins[c.Command[0]] == "" {
			t.Errorf("%s: container %q: command %q is not a binary the image has (%v)", w.Obj, c.Name, c.Command, sortedKeys(bins))
		}
	})
}

// ignoreRule is one .dockerignore pattern.
type ignoreRule struct {
	Pattern string
	Negate  bool
	re      *regexp.Regexp
}

// parseDockerignore compiles .dockerignore patterns as Docker does
// (github.com/moby/patternmatcher): cleaned, relative to the context
// root, "*" and "?" within a path element, "**" across elements, "!"
// re-including.
func parseDockerignore(text string) ([]ignoreRule, error) {
	var rules []ignoreRule
	for _, line := range strings.Split(text, "\n") {
		p := strings.TrimSpace(line)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		r := ignoreRule{}
		if strings.HasPrefix(p, "!") {
			r.Negate, p = true, strings.TrimSpace(p[1:])
		}
		p = path.Clean(p)
		if len(p) > 1 && p[0] == '/' {
			p = p[1:]
		}
		r.Pattern = p
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch ch := p[i]; {
			case ch == '*' && i+1 < len(p) && p[i+1] == '*':
				i++
				if i+1 < len(p) && p[i+1] == '/' {
					i++
				}
				if i+1 == len(p) {
					re.WriteString(".*")
				} else {
					re.WriteString("(.*/)?")
				}
			case ch == '*':
				re.WriteString("[^/]*")
			case ch == '?':
				re.WriteString("[^/]")
			case ch == '\\' && i+1 < len(p):
				i++
				re.WriteString(regexp.QuoteMeta(string(p[i])))
			case strings.ContainsRune(".+()|{}$^", rune(ch)):
				re.WriteString(`\` + string(ch))
			default:
				re.WriteByte(ch)
			}
		}
		re.WriteString("$")
		var err error
		if r.re, err = regexp.Compile(re.String()); err != nil {
			return nil, fmt.Errorf(".dockerignore: pattern %q: %w", line, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// ignored reports whether the context-relative, slash-separated file is
// left out of the build context: the last rule matching it or one of its
// parent directories decides.
func ignored(rules []ignoreRule, file string) bool {
	out := false
	elems := strings.Split(file, "/")
	for _, r := range rules {
		for i := 1; i <= len(elems); i++ {
			if r.re.MatchString(strings.Join(elems[:i], "/")) {
				out = !r.Negate
				break
			}
		}
	}
	return out
}

// TestIgnored proves the .dockerignore matcher on Docker's documented
// cases.
func TestIgnored(t *testing.T) {
	t.Parallel()
	rules, err := parseDockerignore("# comment\n.git\n/shadow\n*.md\n**/testdata\n**/*_test.go\ndocs\n!docs/keep.md\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		want bool
	}{
		{".git/config", true}, {"shadow", true}, {"cmd/shadow/main.go", false},
		{"README.md", true}, {"capture/FORMAT.md", false},
		{"testdata/x.yaml", true}, {"demo/testdata/a/b", true}, {"demo/load.yaml", false},
		{"mirror/proxy_test.go", true}, {"mirror/proxy.go", false},
		{"docs/a.txt", true}, {"docs/keep.md", false}, {"go.mod", false},
	}
	for _, tt := range tests {
		if got := ignored(rules, tt.file); got != tt.want {
			t.Errorf("ignored(%q) = %v, want %v", tt.file, got, tt.want)
		}
	}
}

// .dockerignore keeps every file the two binaries are built from (Go
// sources, embedded files, go.mod, go.sum) in the build context, and
// keeps out the repository's history and binaries built in the checkout.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := parseDockerignore(string(data))
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testio.GoCommand(), "list", "-deps", "-f", `{{.Dir}}{{range .GoFiles}}|{{.}}{{end}}{{range .SFiles}}|{{.}}{{end}}{{range .EmbedFiles}}|{{.}}{{end}}`, "./cmd/shadow", "./cmd/synth")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	needed := []string{"go.mod", "go.sum"}
	for _, line := range nonEmptyLines(string(out)) {
		fields := strings.Split(line, "|")
		rel, err := filepath.Rel(root, fields[0])
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // the standard library or a module dependency
		}
		for _, f := range fields[1:] {
			needed = append(needed, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	if len(needed) < 10 {
		t.Fatalf("go list found only %v: want the sources of both commands", needed)
	}
	for _, f := range needed {
		if ignored(rules, f) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", f)
		}
	}
	for _, f := range []string{".git/HEAD", "shadow", "synth"} {
		if !ignored(rules, f) {
			t.Errorf(".dockerignore keeps %s in the build context", f)
		}
	}
}
