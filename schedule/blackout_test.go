package schedule

import (
	"testing"
	"time"
)

func TestBlackoutActive(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// 2025-06-06 is a Friday; Berlin is UTC+2 in June.
	fri := func(h, m int) time.Time { return time.Date(2025, 6, 6, h, m, 0, 0, time.UTC) }
	sat := func(h, m int) time.Time { return time.Date(2025, 6, 7, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name string
		b    Blackout
		at   time.Time
		want bool
	}{
		{"weekend on saturday", Blackout{Days: []string{"sat", "sun"}}, sat(12, 0), true},
		{"weekend on friday", Blackout{Days: []string{"sat", "sun"}}, fri(23, 59), false},
		{"weekend in Berlin: friday 22:30 UTC is saturday there", Blackout{Days: []string{"SAT"}, Timezone: "Europe/Berlin"}, fri(22, 30), true},
		{"daily window inside", Blackout{From: "11:30", To: "14:00"}, fri(13, 59), true},
		{"daily window from inclusive", Blackout{From: "11:30", To: "14:00"}, fri(11, 30), true},
		{"daily window to exclusive", Blackout{From: "11:30", To: "14:00"}, fri(14, 0), false},
		{"daily window before", Blackout{From: "11:30", To: "14:00"}, fri(11, 29), false},
		{"window in Berlin", Blackout{From: "11:30", To: "14:00", Timezone: "Europe/Berlin"}, fri(10, 0), true},
		{"window in Berlin, UTC noon is 14:00 there", Blackout{From: "11:30", To: "14:00", Timezone: "Europe/Berlin"}, fri(12, 0), false},
		{"to midnight", Blackout{From: "18:00", To: "24:00"}, fri(23, 59), true},
		{"overnight, evening part", Blackout{From: "22:00", To: "02:00"}, fri(23, 0), true},
		{"overnight, morning part", Blackout{From: "22:00", To: "02:00"}, sat(1, 59), true},
		{"overnight, after", Blackout{From: "22:00", To: "02:00"}, sat(2, 0), false},
		{"overnight friday only, saturday morning", Blackout{Days: []string{"fri"}, From: "22:00", To: "02:00"}, sat(1, 0), true},
		{"overnight friday only, friday morning", Blackout{Days: []string{"fri"}, From: "22:00", To: "02:00"}, fri(1, 0), false},
		{"days and window, other day", Blackout{Days: []string{"mon"}, From: "00:00", To: "24:00"}, fri(12, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, errs := compileBlackout(tt.b, nil)
			if len(errs) > 0 {
				t.Fatalf("compile: %v", errs)
			}
			if tt.b.Timezone == "" {
				b.loc = time.UTC // the test's clock; the default is local time
			}
			if got := b.active(tt.at); got != tt.want {
				t.Errorf("active(%v) = %v, want %v", tt.at.In(berlin), got, tt.want)
			}
		})
	}
}

// TestBlackoutEntryZone checks that a blackout without a time zone takes
// its entry's.
func TestBlackoutEntryZone(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Timezone: "UTC", Entries: []Entry{{
		Name: "e", Scenario: "s.yaml", Cron: never, Timezone: "Asia/Tokyo",
		Blackouts: []Blackout{{From: "09:00", To: "10:00"}},
	}}}, Options{Launcher: newFakeLauncher(nil)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 6, 6, 0, 30, 0, 0, time.UTC) // 09:30 in Tokyo
	if !s.entries[0].blackedOut(at) {
		t.Errorf("00:30 UTC (09:30 Tokyo) not blacked out")
	}
	if s.entries[0].blackedOut(at.Add(9 * time.Hour)) {
		t.Errorf("09:30 UTC blacked out; the window is in Tokyo time")
	}
}
