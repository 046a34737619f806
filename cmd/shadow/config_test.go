package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func loadRunConfig(t *testing.T, args ...string) (config, error) {
	t.Helper()
	cmd := newRunCmd()
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parse flags %v: %v", args, err)
	}
	return loadConfig(cmd)
}

// Flags override env, env overrides the file, the file overrides defaults.
func TestConfigPrecedence(t *testing.T) {
	path := writeFile(t, "shadow.yaml", `
listen: 127.0.0.1:7000
primary: http://file-primary
candidate: http://file-candidate
summary_interval: 2s
mirror:
  queue_size: 10
  workers: 3
  candidate_timeout: 1s
  max_queue_wait: 250ms
  routes:
    - {name: orders, methods: [POST], path: /orders, unsafe: true}
`)
	t.Setenv("SHADOW_CANDIDATE", "http://env-candidate")
	t.Setenv("SHADOW_MIRROR_WORKERS", "7")
	t.Setenv("SHADOW_LISTEN", "127.0.0.1:7001")

	cfg, err := loadRunConfig(t, "--config", path, "--listen", "127.0.0.1:7002")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		field string
		got   any
		want  any
	}{
		{"listen (flag over env)", cfg.Listen, "127.0.0.1:7002"},
		{"candidate (env over file)", cfg.Candidate, "http://env-candidate"},
		{"primary (file)", cfg.Primary, "http://file-primary"},
		{"summary_interval (file)", cfg.SummaryInterval, 2 * time.Second},
		{"shutdown_timeout (default)", cfg.ShutdownTimeout, 10 * time.Second},
		{"mirror.queue_size (file)", cfg.Mirror.QueueSize, 10},
		{"mirror.workers (env over file)", cfg.Mirror.Workers, 7},
		{"mirror.candidate_timeout (file)", cfg.Mirror.CandidateTimeout, time.Second},
		{"mirror.routes[0].unsafe (file)", len(cfg.Mirror.Routes) == 1 && cfg.Mirror.Routes[0].Unsafe, true},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.field, tt.got, tt.want)
		}
	}
	m := cfg.mirrorConfig()
	if m.Workers != 7 || m.MaxQueueWait != 250*time.Millisecond || m.Routes[0].Path != "/orders" || !m.Routes[0].Unsafe {
		t.Errorf("mirrorConfig() = %+v, want workers 7, max queue wait 250ms and the /orders route", m)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name string
		file string
		args []string
		want []string
	}{
		{
			name: "unknown key",
			file: "primary: http://a\ncandidate: http://b\nmirror:\n  queue_sise: 3\n",
			want: []string{"queue_sise"},
		},
		{
			name: "missing candidate and bad listen",
			args: []string{"--primary", "http://a", "--listen", "nowhere"},
			want: []string{"listen:", "candidate"},
		},
		{
			name: "bad duration",
			file: "primary: http://a\ncandidate: http://b\nmirror:\n  candidate_timeout: soon\n",
			want: []string{"candidate_timeout"},
		},
		{
			name: "bad log settings, every one named",
			file: "primary: http://a\ncandidate: http://b\nlog:\n  format: xml\n",
			args: []string{"--log-level", "loud"},
			want: []string{"log.format", "log.level"},
		},
		{
			name: "broken yaml",
			file: "primary: [\n",
			want: []string{"read config", "shadow.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, "shadow.yaml", tt.file))
			}
			_, err := loadRunConfig(t, args...)
			if err == nil {
				t.Fatal("loadConfig succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMissingConfigFile(t *testing.T) {
	_, err := loadRunConfig(t, "--config", filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v, want one naming the missing file", err)
	}
}

// --print-config prints the effective configuration, file, env and flags
// merged, with secrets masked, and exits 0 without starting anything.
func TestPrintConfig(t *testing.T) {
	path := writeFile(t, "shadow.yaml", `
primary: http://file-primary
candidate: http://file-candidate
mirror:
  candidate_target:
    set_headers: {Authorization: "Bearer candidate-secret", X-Shadow: "1"}
capture:
  redact:
    key: hash-key-secret-0123456789
`)
	t.Setenv("SHADOW_ADMIN_TOKEN", "env-token-secret-0123456789abcdef")
	t.Setenv("SHADOW_MIRROR_WORKERS", "7")
	var out syncBuffer
	code := execute(t.Context(), []string{"run", "--config", path, "--log-level", "debug", "--listen", "127.0.0.1:1", "--print-config"}, &out, &out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"primary: http://file-primary\n", "listen: 127.0.0.1:1\n", "  workers: 7\n", "admin_token: <masked>\n",
		"      authorization: <masked>\n", `      x-shadow: "1"` + "\n", "    key: <masked>\n", "  level: debug\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("printed config lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"secret"} {
		if strings.Contains(got, secret) {
			t.Errorf("printed config shows %q:\n%s", secret, got)
		}
	}
	if strings.Contains(got, "listening") {
		t.Errorf("--print-config started the proxy:\n%s", got)
	}
}
