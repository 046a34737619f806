package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

type printRedact struct {
	Key    string   `mapstructure:"key"`
	Fields []string `mapstructure:"fields"`
}

type printSort struct {
	Path string `mapstructure:"path"`
	Key  string `mapstructure:"key"`
}

type printConfig struct {
	Listen     string            `mapstructure:"listen"`
	AdminToken string            `mapstructure:"admin_token"`
	Timeout    time.Duration     `mapstructure:"timeout"`
	Rate       float64           `mapstructure:"rate"`
	NoTUI      bool              `mapstructure:"no_tui"`
	Headers    map[string]string `mapstructure:"set_headers"`
	Redact     printRedact       `mapstructure:"redact"`
	Sorts      []printSort       `mapstructure:"sorts"`
	Log        Log               `mapstructure:"log"`
	Internal   string
}

func TestWriteConfigMasksSecrets(t *testing.T) {
	cfg := printConfig{
		Listen: ":8080", AdminToken: "s3cret-token", Timeout: 1500 * time.Millisecond, Rate: 2.5,
		Headers: map[string]string{"Authorization": "Bearer abc", "X-Shadow": "1", "X-Api-Key": "k-123"},
		Redact:  printRedact{Key: "hash-key-0123", Fields: []string{"password"}},
		Sorts:   []printSort{{Path: "$.items", Key: "sku"}},
		Log:     Log{Format: "json"},
	}
	var out bytes.Buffer
	if err := WriteConfig(&out, cfg); err != nil {
		t.Fatal(err)
	}
	want := `listen: :8080
admin_token: <masked>
timeout: 1.5s
rate: 2.5
no_tui: false
set_headers:
  Authorization: <masked>
  X-Api-Key: <masked>
  X-Shadow: "1"
redact:
  key: <masked>
  fields: [password]
sorts:
  - path: $.items
    key: sku
log:
  format: json
  level: ""
`
	if got := out.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	for _, secret := range []string{"s3cret", "Bearer", "k-123", "hash-key"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("output shows %q", secret)
		}
	}
}

// TestPrintedConfigLoads: what --print-config prints is a config file
// that loads back to the same configuration (secrets aside).
func TestPrintedConfigLoads(t *testing.T) {
	cfg := printConfig{
		Listen: "127.0.0.1:9", Timeout: 90 * time.Second, Rate: 10, NoTUI: true,
		// viper lower-cases map keys (header names are case-insensitive).
		Headers: map[string]string{"x-shadow": "1"}, Redact: printRedact{Fields: []string{"card"}},
		Sorts: []printSort{{Path: "$.a", Key: "id"}}, Log: Log{Level: "debug"},
	}
	var out bytes.Buffer
	if err := WriteConfig(&out, cfg); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "printed.yaml")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
	cmd.Flags().String("config", "", "")
	if err := cmd.Flags().Set("config", path); err != nil {
		t.Fatal(err)
	}
	var got printConfig
	if _, err := (Loader{Prefix: "CLI_PRINT_TEST"}).Load(cmd, &got); err != nil {
		t.Fatalf("load printed config: %v\n%s", err, out.String())
	}
	var again bytes.Buffer
	if err := WriteConfig(&again, got); err != nil {
		t.Fatal(err)
	}
	if again.String() != out.String() {
		t.Errorf("reloaded config prints differently:\n%s\nfirst:\n%s", again.String(), out.String())
	}
}

func TestPrintConfigOnlyWithFlag(t *testing.T) {
	for _, on := range []bool{false, true} {
		cmd := &cobra.Command{Use: "x"}
		AddPrintConfigFlag(cmd)
		var out bytes.Buffer
		cmd.SetOut(&out)
		if on {
			if err := cmd.Flags().Set("print-config", "true"); err != nil {
				t.Fatal(err)
			}
		}
		printed, err := PrintConfig(cmd, printConfig{Listen: ":1"})
		if err != nil {
			t.Fatal(err)
		}
		if printed != on || (out.Len() > 0) != on {
			t.Errorf("--print-config=%v: printed %v, wrote %q", on, printed, out.String())
		}
	}
}

// A URL's password is a credential whatever its key; structs printed only
// (a scenario's settings) may carry yaml tags instead.
func TestWriteConfigMasksURLsAndReadsYAMLTags(t *testing.T) {
	type rate struct {
		Type string        `yaml:"type"`
		Over time.Duration `yaml:"over,omitempty"`
	}
	cfg := struct {
		Primary string `mapstructure:"primary"`
		Plain   string `mapstructure:"plain"`
		Rate    rate   `mapstructure:"rate"`
	}{"https://user:pa55@orders.internal:8443/v1?x=1", "http://orders@not-a-secret", rate{"ramp", time.Minute}}
	var out bytes.Buffer
	if err := WriteConfig(&out, cfg); err != nil {
		t.Fatal(err)
	}
	want := "primary: https://<masked>@orders.internal:8443/v1?x=1\nplain: http://<masked>@not-a-secret\nrate:\n  type: ramp\n  over: 1m0s\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

// A key declared twice (a squashed struct's and its parent's) is a
// programming error found by any test that loads the config.
func TestDuplicateKeyPanics(t *testing.T) {
	type Inner struct {
		Rate int `mapstructure:"rate"`
	}
	type outer struct {
		Inner `mapstructure:",squash"`
		Rate  int `mapstructure:"rate"`
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `the key "rate" twice`) {
			t.Errorf("recovered %v, want a panic naming the key", r)
		}
	}()
	newSchema(reflect.TypeOf(outer{}))
}
