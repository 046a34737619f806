package schedule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/understudy-dev/understudy/scenarios"
)

// HistorySchema identifies the JSON layout of a history file. It changes
// only when a field changes meaning or disappears; new fields may be added.
const HistorySchema = "understudy.schedule.history/v1"

// History is what the history file holds: the last runs, oldest first.
type History struct {
	// Schema is HistorySchema.
	Schema string `json:"schema"`
	// Updated is when the file was last written.
	Updated time.Time `json:"updated"`
	// Runs are the most recent runs, oldest first, at most
	// Config.HistorySize of them.
	Runs []RunRecord `json:"runs"`
}

// RunRecord is one scheduled run: its attempts (more than one when it was
// retried) and how it ended.
type RunRecord struct {
	// Entry is the schedule entry's name; Scenario its scenario file.
	Entry    string `json:"entry"`
	Scenario string `json:"scenario"`
	// Started is when the run was due and began; Ended when its last
	// attempt ended.
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Result is how the run counts: ResultPassed, ResultFailed,
	// ResultAborted, ResultStopped or ResultError.
	Result Result `json:"result"`
	// Note says why the scheduler stopped the run or cut its retries
	// short, when it did.
	Note string `json:"note,omitempty"`
	// Attempts are the attempts in order; the last one decided Result.
	Attempts []Attempt `json:"attempts"`
}

// Attempt is one try at a scheduled run, summarised.
type Attempt struct {
	// RunID tags the attempt's requests and names its result file.
	RunID string `json:"run_id"`
	// Started and Ended bound the attempt.
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Outcome and Reason are the runner's (empty when it never started).
	Outcome scenarios.Outcome `json:"outcome,omitempty"`
	Reason  string            `json:"reason,omitempty"`
	// Passed reports whether the run met its thresholds
	// (scenarios.Snapshot.Passed).
	Passed bool `json:"passed"`
	// Journeys counts journeys; SuccessRate is the share of finished ones
	// that succeeded.
	Journeys    scenarios.JourneyCounts `json:"journeys"`
	SuccessRate float64                 `json:"success_rate"`
	// Requests and Failures sum every step.
	Requests int64 `json:"requests"`
	Failures int64 `json:"failures"`
	// ResultFile is the attempt's result (JSON), when one was written.
	ResultFile string `json:"result_file,omitempty"`
	// Error says why the attempt could not run, or its result could not be
	// written.
	Error string `json:"error,omitempty"`
}

// summarise fills the attempt's figures from a finished run.
func (a *Attempt) summarise(s *scenarios.Snapshot) {
	a.Outcome, a.Reason, a.Passed = s.Outcome, s.Reason, s.Passed()
	a.Journeys, a.SuccessRate = s.Journeys, s.SuccessRate()
	for _, st := range s.Steps {
		a.Requests += st.Requests
		a.Failures += st.Failures
	}
}

// ReadHistory reads a history file written by a Scheduler. A missing file
// is an error that wraps fs.ErrNotExist.
func ReadHistory(path string) (*History, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	h, err := decodeHistory(data)
	if err != nil {
		return nil, fmt.Errorf("read history %q: %w", path, err)
	}
	return h, nil
}

// decodeHistory decodes and checks a history file's content.
func decodeHistory(data []byte) (*History, error) {
	var h History
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("not a history file: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("not a history file: data after the JSON object")
	}
	if h.Schema != HistorySchema {
		return nil, fmt.Errorf("schema %q: want %q", h.Schema, HistorySchema)
	}
	return &h, nil
}

// writeHistory writes h to path atomically: a temporary file in the same
// directory, mode 0600, synced, then renamed into place, so a reader (or a
// crash) never sees half a file.
func writeHistory(path string, h *History) error {
	data, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return fmt.Errorf("write history %q: %w", path, err)
	}
	data = append(data, '\n')
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write history %q: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly after the rename
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("write history %q: %w", path, err)
	}
	return nil
}
