package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// The shapes the commands load: a section of the command's own, a domain
// struct with a list of items and a map, and a field the file sets
// elsewhere (Moved).
type testUpstream struct {
	URL     string        `mapstructure:"url"`
	Workers int           `mapstructure:"workers"`
	Timeout time.Duration `mapstructure:"candidate_timeout"`
	Routes  []testRoute   `mapstructure:"routes"`
	Headers map[string]string
	Secret  []byte `mapstructure:"token"`
	Hidden  func() `mapstructure:"-"`
}

type testRoute struct {
	Path   string `mapstructure:"path"`
	Unsafe bool   `mapstructure:"unsafe"`
}

type testServer struct {
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
}

type testConfig struct {
	Listen string       `mapstructure:"listen"`
	Server testServer   `mapstructure:"server"`
	Mirror testUpstream `mapstructure:"mirror"`
	Log    Log          `mapstructure:"log"`
}

var testLoader = Loader{
	Prefix: "CLI_TEST",
	Flags:  map[string]string{"listen": "listen", "workers": "mirror.workers"},
	Moved:  map[string]string{"primary": "mirror.url"},
}

// load runs testLoader over file (if any) and args.
func load(t *testing.T, file string, args ...string) (testConfig, *Origins, error) {
	t.Helper()
	cmd := &cobra.Command{Use: "x"}
	cmd.Flags().String("config", "", "")
	cmd.Flags().String("listen", "127.0.0.1:1", "")
	cmd.Flags().Int("workers", 0, "")
	if file != "" {
		path := filepath.Join(t.TempDir(), "test.yaml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", path)
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	var cfg testConfig
	o, err := testLoader.Load(cmd, &cfg)
	if err != nil {
		// The temp dir differs per run: name the file by its base.
		err = errors.New(strings.ReplaceAll(err.Error(), filepath.Dir(cmd.Flag("config").Value.String())+string(filepath.Separator), ""))
	}
	return cfg, o, err
}

func TestLoadErrorsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		args []string
		want string
	}{
		{
			name: "unknown key: the nearest sibling",
			file: "mirror:\n  workers: 2\n  queue_sise: 3\n",
			want: "test.yaml:3: mirror.queue_sise: unknown key",
		},
		{
			name: "misspelt key",
			file: "mirror:\n  candidate_timout: 5s\n",
			want: "test.yaml:2: mirror.candidate_timout: unknown key; did you mean mirror.candidate_timeout?",
		},
		{
			name: "a key in the wrong section",
			file: "listen: :1\nworkers: 4\n",
			want: "test.yaml:2: workers: unknown key; did you mean mirror.workers?",
		},
		{
			name: "unknown key in a list item",
			file: "mirror:\n  routes:\n    - path: /a\n    - {path: /b, unsafe: true, methods: [POST]}\n",
			want: "test.yaml:4: mirror.routes[1].methods: unknown key",
		},
		{
			name: "a moved key is written where the user writes it",
			file: "mirror:\n  url: http://a\n",
			want: "test.yaml:2: mirror.url: unknown key",
		},
		{
			name: "every unknown key, one per line",
			file: "lisen: :1\nlog:\n  levle: debug\n",
			want: "test.yaml:1: lisen: unknown key; did you mean listen?\ntest.yaml:3: log.levle: unknown key; did you mean log.level?",
		},
		{
			name: "a duration without a unit",
			file: "mirror:\n  candidate_timeout: 5\n",
			want: "test.yaml:2: mirror.candidate_timeout: want a duration with a unit, like 5s or 5ms; got the bare number 5",
		},
		{
			name: "a float duration without a unit",
			file: "server:\n  idle_timeout: 1.5\n",
			want: "test.yaml:2: server.idle_timeout: want a duration with a unit, like 1.5s or 1.5ms; got the bare number 1.5",
		},
		{
			name: "a duration without a unit from env",
			env:  map[string]string{"CLI_TEST_MIRROR_CANDIDATE_TIMEOUT": "5"},
			want: `env CLI_TEST_MIRROR_CANDIDATE_TIMEOUT: mirror.candidate_timeout: want a duration with a unit, like 5s or 250ms; got "5"`,
		},
		{
			name: "a bad duration",
			file: "server:\n  idle_timeout: soon\n",
			want: `test.yaml:2: server.idle_timeout: want a duration with a unit, like 5s or 250ms; got "soon"`,
		},
		{
			name: "wrong type in the file",
			file: "mirror:\n  routes:\n    - path: /a\n      unsafe: maybe\n",
			want: `test.yaml:4: mirror.routes[0].unsafe: want true or false, got "maybe"`,
		},
		{
			name: "wrong type from env",
			env:  map[string]string{"CLI_TEST_MIRROR_WORKERS": "many"},
			want: `env CLI_TEST_MIRROR_WORKERS: mirror.workers: want a whole number, got "many"`,
		},
		{
			name: "a list where a mapping belongs",
			file: "mirror: [a, b]\n",
			want: "test.yaml:1: mirror: want a mapping of keys, got a list",
		},
		{
			name: "broken yaml",
			file: "listen: [\n",
			want: "test.yaml:1: did not find expected node content",
		},
		{
			name: "not a mapping",
			file: "- listen\n",
			want: "test.yaml:1: want a mapping of config keys (like listen: ...), got a list",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, _, err := load(t, tt.file, tt.args...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

func TestLoadPrecedenceAndMoves(t *testing.T) {
	file := "primary: http://file\nlisten: 127.0.0.1:2\nserver: {idle_timeout: 0}\nmirror:\n  workers: 3\n  candidate_timeout: 2s\n  token: file-key\n  routes: [{path: /a}]\n"
	t.Setenv("CLI_TEST_LISTEN", "127.0.0.1:3")
	t.Setenv("CLI_TEST_MIRROR_TOKEN", "env-key-0123456789")
	cfg, _, err := load(t, file, "--workers", "9")
	if err != nil {
		t.Fatal(err)
	}
	want := testConfig{
		Listen: "127.0.0.1:3",
		Mirror: testUpstream{URL: "http://file", Workers: 9, Timeout: 2 * time.Second, Routes: []testRoute{{Path: "/a"}}, Secret: []byte("env-key-0123456789")},
	}
	if fmt.Sprintf("%+v", cfg) != fmt.Sprintf("%+v", want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	t.Setenv("CLI_TEST_PRIMARY", "http://env")
	if cfg, _, err = load(t, file); err != nil || cfg.Mirror.URL != "http://env" {
		t.Errorf("env CLI_TEST_PRIMARY: url = %q (%v), want http://env", cfg.Mirror.URL, err)
	}
}

// Origins.Explain points a validation error at where its key's value
// came from, whatever the source.
func TestExplain(t *testing.T) {
	t.Setenv("CLI_TEST_SERVER_IDLE_TIMEOUT", "1m")
	_, o, err := load(t, "primary: http://a\nmirror:\n  routes:\n    - {unsafe: true}\n    - path: ''\n  workers: -1\n", "--listen", "nowhere")
	if err != nil {
		t.Fatal(err)
	}
	validate := errors.Join(
		errors.New("listen: missing port"),
		Under("mirror", errors.Join(
			errors.New("workers: -1 is negative"),
			errors.New("url: not reachable"),
			errors.New("routes[1].path: required"),
			errors.New("routes[0]: unsafe without a path"),
		)),
		errors.New("server.idle_timeout: too long"),
		errors.New("log.level: required"),
		errors.New("verdict fail: something else"),
		Under("compare", errors.New("no key here")),
	)
	want := `flag --listen: listen: missing port
test.yaml:6: mirror.workers: -1 is negative
test.yaml:1: primary: not reachable
test.yaml:5: mirror.routes[1].path: required
test.yaml:4: mirror.routes[0]: unsafe without a path
env CLI_TEST_SERVER_IDLE_TIMEOUT: server.idle_timeout: too long
log.level: required
verdict fail: something else
compare: no key here`
	got := o.Explain(validate).Error()
	got = strings.ReplaceAll(got, o.file.path, "test.yaml")
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := (*Origins)(nil).Explain(errors.New("listen: bad")).Error(); got != "listen: bad" {
		t.Errorf("nil Origins: %q", got)
	}
}

// An explained error still wraps what it explains.
func TestExplainKeepsTheChain(t *testing.T) {
	sentinel := errors.New("required")
	_, o, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	err = o.Explain(Under("mirror", fmt.Errorf("url: %w", sentinel)))
	if !errors.Is(err, sentinel) || err.Error() != "primary: required" {
		t.Errorf("err = %v (is sentinel: %v), want primary: required wrapping the sentinel", err, errors.Is(err, sentinel))
	}
}

// A moved key prints where the user writes it, and the printed config
// loads back.
func TestPrintMoved(t *testing.T) {
	cfg := testConfig{Listen: ":1", Mirror: testUpstream{URL: "http://a", Secret: []byte("k")}}
	var out bytes.Buffer
	if err := testLoader.WriteConfig(&out, cfg); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "primary: http://a\nlisten: :1\n") || strings.Contains(out.String(), "url:") {
		t.Errorf("printed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "  token: <masked>\n") {
		t.Errorf("key []byte not masked:\n%s", out.String())
	}
	got, _, err := load(t, strings.ReplaceAll(out.String(), Masked, "k"))
	if err != nil || got.Mirror.URL != "http://a" {
		t.Errorf("reload: %+v, %v", got, err)
	}
}

func TestSplitKey(t *testing.T) {
	got := fmt.Sprint(splitKey("mirror.routes[0].headers[X-Id.v2]"))
	if want := "[{mirror false} {routes false} {0 true} {headers false} {X-Id.v2 true}]"; got != want {
		t.Errorf("splitKey = %s, want %s", got, want)
	}
	for s, want := range map[string]bool{"listen": true, "mirror.routes[0].path": true, "$JOB": false, "verdict fail": false, "a..b": false} {
		if got := isKeyPath(s); got != want {
			t.Errorf("isKeyPath(%q) = %v, want %v", s, got, want)
		}
	}
}
