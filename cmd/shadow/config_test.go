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
		{"candidate (env over file)", cfg.Mirror.Candidate, "http://env-candidate"},
		{"primary (file)", cfg.Mirror.Primary, "http://file-primary"},
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
	m := cfg.Mirror
	if m.Workers != 7 || m.MaxQueueWait != 250*time.Millisecond || m.Routes[0].Path != "/orders" || !m.Routes[0].Unsafe {
		t.Errorf("mirror = %+v, want workers 7, max queue wait 250ms and the /orders route", m)
	}
}

// Every config error names the key as the user wrote it and where its
// value came from: the file's line, the env var or the flag; keys without
// a value (a default) are named alone.
func TestConfigErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		args []string
		want string
	}{
		{
			name: "unknown key, with the nearest known one",
			file: "primary: http://a\ncandidate: http://b\nmirror:\n  queue_sise: 3\n",
			want: "shadow.yaml:4: mirror.queue_sise: unknown key; did you mean mirror.queue_size?",
		},
		{
			name: "a key in the wrong section",
			file: "primary: http://a\ncandidate: http://b\nworkers: 4\n",
			want: "shadow.yaml:3: workers: unknown key; did you mean mirror.workers?",
		},
		{
			name: "missing candidate and bad listen",
			args: []string{"--primary", "http://a", "--listen", "nowhere"},
			want: "flag --listen: listen: address nowhere: missing port in address\ncandidate: required (or candidates, for several)",
		},
		{
			name: "a duration without a unit is not nanoseconds",
			file: "primary: http://a\ncandidate: http://b\nmirror:\n  candidate_timeout: 5\n",
			want: "shadow.yaml:4: mirror.candidate_timeout: want a duration with a unit, like 5s or 5ms; got the bare number 5",
		},
		{
			name: "bad duration",
			file: "primary: http://a\ncandidate: http://b\nmirror:\n  candidate_timeout: soon\n",
			want: `shadow.yaml:4: mirror.candidate_timeout: want a duration with a unit, like 5s or 250ms; got "soon"`,
		},
		{
			name: "a moved key, where the user wrote it",
			file: "primary: http://a\ncandidate: http://a\nserver:\n  body_read_timeout: 3\n",
			want: "shadow.yaml:4: server.body_read_timeout: want a duration with a unit, like 3s or 3ms; got the bare number 3",
		},
		{
			name: "the primary as the candidate",
			file: "primary: http://a\ncandidate: http://a\n",
			want: `shadow.yaml:2: candidate: "http://a" is the primary; mirroring to it would duplicate live traffic`,
		},
		{
			name: "a compare normalizer without its path",
			file: "primary: http://a\ncandidate: http://b\ncompare:\n  normalizers:\n    - {kind: ignore, path: $.a}\n    - kind: ignore\n",
			want: `shadow.yaml:6: compare.normalizers[1].path: required for kind "ignore"`,
		},
		{
			name: "a mirror route and env",
			file: "primary: http://a\ncandidate: http://b\nmirror:\n  routes:\n    - path: orders\n",
			env:  map[string]string{"SHADOW_MIRROR_WORKERS": "-2"},
			want: "env SHADOW_MIRROR_WORKERS: mirror.workers: -2 is negative; want 0 (64) or more\n" +
				`shadow.yaml:5: mirror.routes[0].path: "orders" does not start with /`,
		},
		{
			name: "an unknown key of a verdict route override",
			file: "primary: http://a\ncandidate: http://b\ncompare:\n  verdict:\n    routes:\n      - route: GET /search\n        max_dif_rate: 0.05\n",
			want: "shadow.yaml:7: compare.verdict.routes[0].max_dif_rate: unknown key; did you mean compare.verdict.routes[0].max_diff_rate?",
		},
		{
			name: "a bad latency gate and route",
			file: "primary: http://a\ncandidate: http://b\ncompare:\n  verdict:\n    max_latency_regression: {p99: 0.5}\n    routes: [{route: search}]\n",
			want: "shadow.yaml:5: compare.verdict.max_latency_regression.p99: must be a ratio ≥ 1 (candidate over primary), or 0 to turn it off, got 0.5",
		},
		{
			name: "capture settings",
			file: "primary: http://a\ncandidate: http://b\ncapture:\n  queue_size: -1\n  redact: {field_paths: [card]}\n",
			want: "shadow.yaml:4: capture.queue_size: must not be negative, got -1\n" +
				`shadow.yaml:5: capture.redact.field_paths[0]: "card": must start with $ at offset 0`,
		},
		{
			name: "a secret from env",
			file: "primary: http://a\ncandidate: http://b\n",
			env:  map[string]string{"SHADOW_CAPTURE_REDACT_KEY": "short"},
			want: "env SHADOW_CAPTURE_REDACT_KEY: capture.redact.key: has 5 bytes, want at least 16",
		},
		{
			name: "bad log settings, every one named",
			file: "primary: http://a\ncandidate: http://b\nlog:\n  format: xml\n",
			args: []string{"--log-level", "loud"},
			want: "shadow.yaml:4: log.format: \"xml\" is not text or json\nflag --log-level: log.level: \"loud\" is not debug, info, warn or error",
		},
		{
			name: "broken yaml",
			file: "primary: [\n",
			want: "shadow.yaml:1: did not find expected node content",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := tt.args
			var path string
			if tt.file != "" {
				path = writeFile(t, "shadow.yaml", tt.file)
				args = append(args, "--config", path)
			}
			_, err := loadRunConfig(t, args...)
			if err == nil {
				t.Fatal("loadConfig succeeded, want an error")
			}
			got := strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), "")
			if got != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, tt.want)
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
		// Defaults resolved, as the proxy and the engine run with them.
		"  candidate_timeout: 5s\n", "  queue_size: 1024\n", "  max_queue_wait: 1s\n", "  marker_header: X-Shadow-Request\n",
		"  body_read_timeout: 30s\n", "    min_pairs: 20\n", "  exemplars: 5\n", "  format: text\n",
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

// What --print-config prints loads back as a config file, and prints the
// same.
func TestPrintedConfigLoadsBack(t *testing.T) {
	path := writeFile(t, "shadow.yaml", "primary: http://a\ncandidate: http://b\nmirror:\n  routes: [{path: /orders, unsafe: true, methods: [POST]}]\n"+
		"compare:\n  normalizers: [{kind: ignore, path: $.id}]\n")
	print := func(args ...string) string {
		var out syncBuffer
		if code := execute(t.Context(), append([]string{"run", "--print-config"}, args...), &out, &out); code != 0 {
			t.Fatalf("exit %d:\n%s", code, out.String())
		}
		return out.String()
	}
	first := print("--config", path)
	again := print("--config", writeFile(t, "printed.yaml", first))
	if again != first {
		t.Errorf("printed config reloads differently:\n%s\nfirst:\n%s", again, first)
	}
}
