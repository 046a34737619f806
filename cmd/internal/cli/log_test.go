package cli

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestLogLogger(t *testing.T) {
	tests := []struct {
		log      Log
		def      slog.Level
		wantJSON bool
		logged   []string // of debug, info, warn
	}{
		{Log{}, slog.LevelInfo, false, []string{"info", "warn"}},
		{Log{}, slog.LevelWarn, false, []string{"warn"}},
		{Log{Level: "debug"}, slog.LevelWarn, false, []string{"debug", "info", "warn"}},
		{Log{Level: "WARN", Format: "json"}, slog.LevelInfo, true, []string{"warn"}},
		{Log{Format: "text", Level: "error"}, slog.LevelInfo, false, nil},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		l, err := tt.log.Logger(&out, tt.def)
		if err != nil {
			t.Fatalf("%+v: %v", tt.log, err)
		}
		l.Debug("debug")
		l.Info("info")
		l.Warn("warn")
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if line == "" {
				continue
			}
			if tt.wantJSON {
				var rec struct{ Msg string }
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("%+v: line %q is not JSON: %v", tt.log, line, err)
				}
				got = append(got, rec.Msg)
				continue
			}
			_, msg, ok := strings.Cut(line, "msg=")
			if !ok {
				t.Fatalf("%+v: line %q is not text", tt.log, line)
			}
			got = append(got, msg)
		}
		if strings.Join(got, ",") != strings.Join(tt.logged, ",") {
			t.Errorf("%+v, default %v: logged %v, want %v", tt.log, tt.def, got, tt.logged)
		}
	}
}

func TestLogValidate(t *testing.T) {
	for _, tt := range []struct {
		log  Log
		want string
	}{
		{Log{Format: "xml"}, `log.format: "xml" is not text or json`},
		{Log{Level: "loud"}, `log.level: "loud" is not debug, info, warn or error`},
	} {
		err := tt.log.Validate()
		if err == nil || err.Error() != tt.want {
			t.Errorf("%+v: err %v, want %q", tt.log, err, tt.want)
		}
		if _, err := tt.log.Logger(&bytes.Buffer{}, slog.LevelInfo); err == nil {
			t.Errorf("%+v: Logger accepted it", tt.log)
		}
	}
}
