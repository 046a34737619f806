package schedule

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadHistoryErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct{ name, data, want string }{
		{"not json", "runs: []", "not a history file"},
		{"wrong schema", `{"schema":"other/v9","runs":[]}`, `schema "other/v9"`},
		{"trailing data", `{"schema":"` + HistorySchema + `","runs":[]} {}`, "data after the JSON object"},
		{"wrong type", `{"schema":"` + HistorySchema + `","runs":{}}`, "not a history file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ReadHistory(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v; want one naming %s and containing %q", err, path, tt.want)
			}
			// A scheduler refuses to start over a history it cannot read,
			// rather than overwrite it.
			_, err = New(Config{HistoryFile: path, Entries: []Entry{{Name: "e", Scenario: "s", Cron: never}}}, Options{})
			if err == nil {
				t.Error("New accepted an unreadable history file")
			}
		})
	}
	_, err := ReadHistory(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v; want fs.ErrNotExist", err)
	}
}

// FuzzDecodeHistory feeds arbitrary bytes to the history decoder: an
// error or a history, never a panic, and what decodes survives a rewrite.
func FuzzDecodeHistory(f *testing.F) {
	f.Add([]byte(`{"schema":"` + HistorySchema + `","runs":[{"entry":"e","result":"passed","attempts":[{"run_id":"e-1"}]}]}`))
	f.Add([]byte(`{"schema":"` + HistorySchema + `","runs":null}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := decodeHistory(data)
		if err != nil {
			return
		}
		path := filepath.Join(t.TempDir(), "h.json")
		if err := writeHistory(path, h); err != nil {
			t.Fatal(err)
		}
		h2, err := ReadHistory(path)
		if err != nil {
			t.Fatalf("a written history does not read back: %v", err)
		}
		if len(h2.Runs) != len(h.Runs) {
			t.Fatalf("runs %d, read back %d", len(h.Runs), len(h2.Runs))
		}
	})
}
