package main

import (
	"testing"
	"time"

	"github.com/understudy-dev/understudy/capture"
)

// FuzzMerge feeds the merger labels and records as a damaged or hostile
// file could hold them: it must not panic, and every request must be
// counted once, as an answer or as an error.
func FuzzMerge(f *testing.F) {
	f.Add(`[{"journey":"j","step":"s","cleanup":true}]`, "0.9", "j", "s", "r1", "status: status 500, want 200", "", 500, int64(1e6), false)
	f.Add(`not json`, "NaN", "", "", "", "no colon", "timeout", 0, int64(-5), true)
	f.Add(`[{"journey":1}]`, "", "j/x", "s: y", "", ": ", "", -1, int64(1)<<62, true)
	f.Fuzz(func(t *testing.T, steps, minRate, journey, step, runID, failure, errKind string, status int, latency int64, passed bool) {
		m := newMerger()
		m.header(capture.Header{Labels: map[string]string{labelSteps: steps, labelMinSuccessRate: minRate, labelRunID: runID}})
		r := &capture.SynthRecord{RunID: runID, Journey: journey, Step: step, Status: status, ErrorKind: errKind,
			Latency: time.Duration(latency), Intended: time.Unix(0, latency), Passed: passed, Failures: []string{failure}}
		m.add(r)
		m.add(r)
		res := m.result()
		var requests, answered int64
		for _, st := range res.Steps {
			requests += st.Requests
			for _, n := range st.Status {
				answered += n
			}
			for _, n := range st.Errors {
				answered += n
			}
		}
		if requests != 2 || answered != 2 {
			t.Errorf("requests %d, answers and errors %d; want 2 each", requests, answered)
		}
		_ = res.Passed()
	})
}
