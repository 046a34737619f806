package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Skip is a variant the harness did not measure, and why (skipped.txt:
// "section: what: why" lines).
type Skip struct{ Section, What, Why string }

// StageRun is the stage section's profile and the load it was taken
// under.
type StageRun struct {
	Meta    []KV
	Samples []Sample
	// Load is the record of the load during the profile, with the CPU
	// time per request; nil when missing.
	Load *LatencyRecord
}

// SynthCostRun is one tool's run at the fixed rate of the synth CPU
// comparison.
type SynthCostRun struct {
	// Tool is "synth" or "vegeta"; Round counts from 1.
	Tool  string
	Round int
	Usage Usage
	// Requests answered (synth: journeys succeeded and failed, one
	// request each; vegeta: requests), Achieved the sending rate reached,
	// Success the share of good answers.
	Requests          int64
	Achieved, Success float64
}

// CPUPerRequest is the tool's CPU time per request in µs; NaN without
// requests.
func (s SynthCostRun) CPUPerRequest() float64 {
	if s.Requests <= 0 {
		return math.NaN()
	}
	return s.Usage.CPUus() / float64(s.Requests)
}

// growthTables are the growth section's tables, in the order shown.
var growthTables = []string{"bytes", "fields", "endpoints", "rate"}

var synthCostName = regexp.MustCompile(`^(synth|vegeta)_r(\d+)\.json$`)

// loadCost reads what the cost, stage, growth, uploads, wide and stream
// sections wrote (see Load).
func loadCost(dir string, r *Run) error {
	for _, f := range []struct {
		name string
		dst  *[]LatencyRecord
	}{{"cost.jsonl", &r.Cost}, {"wide.jsonl", &r.Wide}, {"stream.jsonl", &r.Stream}, {"tls.jsonl", &r.TLS}} {
		recs, err := readRecords(filepath.Join(dir, f.name))
		if err != nil {
			return err
		}
		*f.dst = recs
	}
	for _, name := range growthTables {
		recs, err := readRecords(filepath.Join(dir, "growth", name+".jsonl"))
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			if r.Growth == nil {
				r.Growth = map[string][]LatencyRecord{}
			}
			r.Growth[name] = recs
		}
	}
	b, err := readOptional(filepath.Join(dir, "skipped.txt"))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if parts := strings.SplitN(line, ": ", 3); len(parts) == 3 {
			r.Skipped = append(r.Skipped, Skip{parts[0], parts[1], parts[2]})
		}
	}
	if r.Stages, err = loadStages(filepath.Join(dir, "stages")); err != nil {
		return err
	}
	if r.Uploads, err = loadUploads(filepath.Join(dir, "uploads.jsonl")); err != nil {
		return err
	}
	r.SynthCost, err = loadSynthCost(filepath.Join(dir, "synthcost"))
	return err
}

// readRecords reads LatencyRecord lines from a file that may be missing.
func readRecords(path string) ([]LatencyRecord, error) {
	b, err := readOptional(path)
	if err != nil || b == nil {
		return nil, err
	}
	recs, err := ParseLatency(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return recs, nil
}

func loadStages(dir string) (*StageRun, error) {
	traces, err := readOptional(filepath.Join(dir, "traces.txt"))
	if err != nil || traces == nil {
		return nil, err
	}
	s := &StageRun{}
	if s.Samples, err = ParseTraces(traces); err != nil {
		return nil, fmt.Errorf("stages/traces.txt: %w", err)
	}
	meta, err := readOptional(filepath.Join(dir, "meta.txt"))
	if err != nil {
		return nil, err
	}
	if s.Meta, err = ParseKV(meta); err != nil {
		return nil, fmt.Errorf("stages/meta.txt: %w", err)
	}
	recs, err := readRecords(filepath.Join(dir, "load.jsonl"))
	if err != nil {
		return nil, err
	}
	if len(recs) > 0 {
		s.Load = &recs[len(recs)-1]
	}
	return s, nil
}

func loadUploads(path string) ([]UploadRecord, error) {
	b, err := readOptional(path)
	if err != nil || b == nil {
		return nil, err
	}
	ups, err := parseJSONLines[UploadRecord](b)
	if err != nil {
		return nil, fmt.Errorf("uploads.jsonl: %w", err)
	}
	return ups, nil
}

func loadSynthCost(dir string) ([]SynthCostRun, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []SynthCostRun
	for _, e := range entries {
		m := synthCostName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		round, _ := strconv.Atoi(m[2])
		run := SynthCostRun{Tool: m[1], Round: round}
		rep, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		use, err := readOptional(filepath.Join(dir, strings.TrimSuffix(e.Name(), ".json")+".usage.json"))
		if err != nil {
			return nil, err
		}
		if use == nil {
			continue // the tool did not end: no usage, nothing to divide
		}
		if err := json.Unmarshal(use, &run.Usage); err != nil {
			return nil, fmt.Errorf("synthcost/%s usage: %w", e.Name(), err)
		}
		if run.Tool == "synth" {
			sr, err := ParseSynth(rep)
			if err != nil {
				return nil, fmt.Errorf("synthcost/%s: %w", e.Name(), err)
			}
			run.Requests = sr.Journeys.Succeeded + sr.Journeys.Failed
			run.Achieved = sr.AchievedRate
			if n := sr.Journeys.Started + sr.Journeys.Dropped; n > 0 {
				run.Success = float64(sr.Journeys.Succeeded) / float64(n)
			}
		} else {
			vr, err := ParseVegeta(rep)
			if err != nil {
				return nil, fmt.Errorf("synthcost/%s: %w", e.Name(), err)
			}
			run.Requests, run.Achieved, run.Success = vr.Requests, vr.Rate, vr.Success
		}
		out = append(out, run)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Round != out[j].Round {
			return out[i].Round < out[j].Round
		}
		return out[i].Tool < out[j].Tool
	})
	return out, nil
}
