package schedule

import (
	"strings"
	"testing"
	"time"
)

// An entry's time zone is its own, else its spec's CRON_TZ prefix, else
// the schedule's; only an entry zone and a prefix can disagree.
func TestNextRunTimeZones(t *testing.T) {
	after := time.Date(2026, 11, 23, 12, 0, 30, 0, time.UTC)
	tests := []struct {
		name       string
		configTZ   string
		entry      Entry
		want       string // next run, in the entry's zone
		wantErrTxt string
	}{
		{"config zone", "Europe/Berlin", Entry{Cron: "0 14 * * *"}, "2026-11-23 14:00 CET", ""},
		{"prefix beats config", "Europe/Berlin", Entry{Cron: "CRON_TZ=UTC 0 14 * * *"}, "2026-11-23 14:00 UTC", ""},
		{"entry zone beats config", "UTC", Entry{Cron: "0 9 * * *", Timezone: "Asia/Tokyo"}, "2026-11-24 09:00 JST", ""},
		{"prefix agrees with entry", "", Entry{Cron: "TZ=Asia/Tokyo 0 9 * * *", Timezone: "Asia/Tokyo"}, "2026-11-24 09:00 JST", ""},
		{"every, prefixed", "Europe/Berlin", Entry{Cron: "CRON_TZ=UTC @every 15m"}, "2026-11-23 12:15 UTC", ""},
		{"prefix disagrees with entry", "", Entry{Cron: "CRON_TZ=UTC 0 9 * * *", Timezone: "Asia/Tokyo"}, "", "disagrees"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.entry.Name, tt.entry.Scenario = "e", "s.yaml"
			cfg := Config{Timezone: tt.configTZ, Entries: []Entry{tt.entry}}
			err := cfg.Validate()
			if tt.wantErrTxt != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrTxt) {
					t.Fatalf("Validate = %v, want an error saying %q", err, tt.wantErrTxt)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			next, err := cfg.NextRun(tt.entry, after)
			if err != nil {
				t.Fatal(err)
			}
			if got := next.Format("2006-01-02 15:04 MST"); got != tt.want {
				t.Errorf("NextRun = %s, want %s", got, tt.want)
			}
		})
	}
}
