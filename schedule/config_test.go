package schedule

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := Entry{Name: "ok", Scenario: "s.yaml", Cron: "*/5 * * * *"}
	with := func(f func(*Entry)) Config {
		e := ok
		f(&e)
		return Config{Entries: []Entry{e}}
	}
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none means valid
	}{
		{"minimal", Config{Entries: []Entry{ok}}, nil},
		{"seconds field", with(func(e *Entry) { e.Cron = "30 */5 * * * *" }), nil},
		{"descriptor", with(func(e *Entry) { e.Cron = "@every 90s" }), nil},
		{"cron tz prefix", with(func(e *Entry) { e.Cron = "CRON_TZ=Asia/Tokyo 0 9 * * mon-fri" }), nil},
		{"tz prefix agrees", with(func(e *Entry) { e.Cron = "TZ=UTC @hourly"; e.Timezone = "UTC" }), nil},
		{"blackouts", with(func(e *Entry) {
			e.Blackouts = []Blackout{{Days: []string{"Sat", "sunday"}}, {From: "22:00", To: "02:00", Timezone: "Europe/Berlin"}, {From: "18:00", To: "24:00"}}
		}), nil},
		{"no entries", Config{}, []string{"entries: at least one entry is required"}},
		{"bad config fields", Config{Entries: []Entry{ok}, Timezone: "Mars/Olympus", HistorySize: -1},
			[]string{"timezone: unknown time zone \"Mars/Olympus\"", "history_size: -1 is out of range"}},
		{"name", with(func(e *Entry) { e.Name = "" }), []string{"entries[0].name: required"}},
		{"name chars", with(func(e *Entry) { e.Name = "a/b" }), []string{"entries[0].name: \"a/b\""}},
		{"duplicate names", Config{Entries: []Entry{ok, ok}}, []string{"entries[1].name: \"ok\" is also the name of entries[0]"}},
		{"scenario", with(func(e *Entry) { e.Scenario = "" }), []string{"entries[0].scenario: required"}},
		{"cron missing", with(func(e *Entry) { e.Cron = " " }), []string{"entries[0].cron: required"}},
		{"cron fields", with(func(e *Entry) { e.Cron = "* * *" }), []string{"entries[0].cron: \"* * *\""}},
		{"cron range", with(func(e *Entry) { e.Cron = "61 * * * *" }), []string{"entries[0].cron:"}},
		{"cron tz alone", with(func(e *Entry) { e.Cron = "CRON_TZ=UTC" }), []string{"a schedule must follow the time zone"}},
		{"cron tz unknown", with(func(e *Entry) { e.Cron = "CRON_TZ=Nowhere 0 * * * *" }), []string{"unknown time zone \"Nowhere\""}},
		{"cron tz disagrees", with(func(e *Entry) { e.Cron = "CRON_TZ=UTC 0 * * * *"; e.Timezone = "Europe/Berlin" }),
			[]string{"disagrees with timezone Europe/Berlin"}},
		{"local refused", with(func(e *Entry) { e.Timezone = "Local" }), []string{"entries[0].timezone: \"Local\""}},
		{"rate", with(func(e *Entry) { e.Rate = -1 }), []string{"entries[0].rate: -1"}},
		{"duration", with(func(e *Entry) { e.Duration = -time.Second }), []string{"entries[0].duration: -1s is negative"}},
		{"retry", with(func(e *Entry) { e.Retry = 9 }), []string{"entries[0].retry: 9 is above 5"}},
		{"retry delay", with(func(e *Entry) { e.RetryDelay = -1 }), []string{"entries[0].retry_delay:"}},
		{"blackout empty", with(func(e *Entry) { e.Blackouts = []Blackout{{}} }),
			[]string{"entries[0].blackouts[0].days: a blackout needs days, or from and to"}},
		{"blackout fields", with(func(e *Entry) {
			e.Blackouts = []Blackout{{Days: []string{"funday"}, From: "25:00", To: "9am", Timezone: "X/Y"}, {From: "10:00"}, {To: "10:00"}, {From: "10:00", To: "10:00"}}
		}), []string{
			"entries[0].blackouts[0].days[0]: \"funday\" is not a weekday",
			"entries[0].blackouts[0].from: \"25:00\"",
			"entries[0].blackouts[0].to: \"9am\": want a time of day as HH:MM",
			"entries[0].blackouts[0].timezone: unknown time zone",
			"entries[0].blackouts[1].to: required with from",
			"entries[0].blackouts[2].from: required with to",
			"entries[0].blackouts[3].to: \"10:00\" equals from",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "schedule.yaml")
	data := `timezone: Europe/Berlin
history_file: state/history.json
history_size: 10
result_dir: /tmp/results
entries:
  - name: nightly
    scenario: scenarios/rush.yaml
    cron: "0 3 * * *"
    rate: 150
    duration: 20m
    retry: 2
    retry_delay: 1m
    enabled: false
    blackouts:
      - {days: [sat, sun]}
      - {from: "11:30", to: "14:00", timezone: Europe/London}
`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	e := c.Entries[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"history_file", c.HistoryFile, filepath.Join(dir, "state/history.json")},
		{"result_dir", c.ResultDir, "/tmp/results"},
		{"scenario", e.Scenario, filepath.Join(dir, "scenarios/rush.yaml")},
		{"duration", e.Duration, 20 * time.Minute},
		{"retry_delay", e.RetryDelay, time.Minute},
		{"rate", e.Rate, 150.0},
		{"enabled", e.IsEnabled(), false},
		{"blackout tz", e.Blackouts[1].Timezone, "Europe/London"},
		{"days", strings.Join(e.Blackouts[0].Days, ","), "sat,sun"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, data, want string }{
		{"unknown field", "entries: []\nhistroy_size: 3\n", "field histroy_size not found"},
		{"wrong type", "history_size: many\n", "cannot unmarshal"},
		{"two documents", "entries: []\n---\nentries: []\n", "want one YAML document"},
		{"invalid", "entries: []\n", "entries: at least one entry is required"},
		{"empty", "", "entries: at least one entry is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfig("s.yaml", []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"s.yaml"`) {
				t.Errorf("error %v; want one naming the file and containing %q", err, tt.want)
			}
		})
	}
}

// FuzzParseConfig feeds arbitrary YAML to the config decoder and cron
// parser: never a panic, and a config that parses must build a scheduler.
func FuzzParseConfig(f *testing.F) {
	f.Add("entries:\n  - {name: a, scenario: s.yaml, cron: \"@every 1s\"}\n")
	f.Add("entries:\n  - {name: a, scenario: s.yaml, cron: \"CRON_TZ=UTC 0 9 * * 1-5\", blackouts: [{from: \"22:00\", to: \"02:00\"}]}\n")
	f.Add("entries:\n  - {name: a, scenario: s.yaml, cron: \"TZ=\"}\n")
	f.Add("entries:\n  - {name: a, scenario: s.yaml, cron: \"*/0 * * * *\"}\n")
	f.Add("entries:\n  - {name: a, scenario: s.yaml, cron: \"@every -1s\"}\n")
	f.Add("timezone: UTC\nentries: [{name: b, scenario: x, cron: \"0 0 31 2 *\", days: [mon]}]\n")
	f.Fuzz(func(t *testing.T, data string) {
		c, err := ParseConfig("fuzz.yaml", []byte(data))
		if err != nil {
			return
		}
		c.ResultDir, c.HistoryFile = "", "" // no files from fuzz input
		if _, err := New(*c, Options{Launcher: newFakeLauncher(nil)}); err != nil {
			t.Fatalf("a valid config does not build a scheduler: %v", err)
		}
	})
}
