package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Load reads the raw directory bench/run.sh fills. Every part but
// machine.txt is optional: a section that did not run is left out of the
// report. The layout:
//
//	machine.txt                key: value lines (mode, date, cpu, cores, memory,
//	                           kernel, go, nginx, wrk, vegeta, commit, uptime_before,
//	                           uptime_after, soak, notes)
//	skipped.txt                "section: what: why" lines: variants not measured
//	latency.jsonl              LatencyRecord lines (loadgen), with CPU time
//	cost.jsonl                 LatencyRecord lines of the cost section (group "cost")
//	stages/traces.txt          go tool pprof -traces of shadow's CPU profile under load;
//	                           beside it meta.txt (key: value) and load.jsonl (the load)
//	growth/NAME.jsonl          LatencyRecord lines of one growth table (bytes, fields,
//	                           endpoints, rate): the group is the x value, the targets
//	                           "shadow" and "plain"
//	uploads.jsonl              UploadRecord lines (slowclient)
//	wide.jsonl                 LatencyRecord lines of the wide section (beside loads)
//	stream.jsonl               LatencyRecord lines of the stream section
//	tls.jsonl                  LatencyRecord lines of the tls section (groups
//	                           "HTTPS/1.1" and "h2": the client's and upstreams' protocol)
//	synthcost/TOOL_rN.json     synth or vegeta report of round N at the fixed rate;
//	                           beside it TOOL_rN.usage.json (a Usage, from rusage)
//	throughput/rN_TARGET.wrk   wrk output of round N against TARGET; beside it
//	                           .counts0.json/.counts1.json (the upstream's request
//	                           counts before and after: "p0" is the primary, "fast"
//	                           the mirror), .snap0.json/.snap1.json and .poll.jsonl
//	                           (shadow's admin snapshots) when TARGET is shadow
//	pprof-top.txt              go tool pprof -top of the stage section's profile
//	synth/accuracy_RATE.json   synth's JSON report at RATE journeys/s
//	maxrate/TOOL_RATE.json     synth report or vegeta JSON report of one ladder step
//	gobench/*.txt              go test -bench output
//	soak/meta.txt              key: value (rate, duration, warmup_s, idle_rss_kb,
//	                           concurrent)
//	soak/rss.txt               "SECONDS KB" samples of shadow's VmRSS
//	soak/heap.txt              "SECONDS KB" samples of shadow's Go heap in use
//	                           (go_memstats_heap_inuse_bytes / 1024)
//	soak/load.jsonl            the soak load's LatencyRecord
func Load(dir string) (*Run, error) {
	return load(dir)
}

// Run is everything one harness run measured.
type Run struct {
	Machine    []KV
	Latency    []LatencyRecord
	Throughput []ThroughputCell
	PprofTop   string
	Accuracy   []SynthRun
	Ladder     []LadderStep
	GoBench    []GoBench
	Soak       *Soak

	// Cost, Wide and Stream are the records of those sections; Growth
	// the growth tables by name; Skipped the variants not measured.
	Cost, Wide, Stream []LatencyRecord
	// TLS holds the tls section's records: groups "HTTPS/1.1" and "h2",
	// targets as the latency section's.
	TLS       []LatencyRecord
	Growth    map[string][]LatencyRecord
	Skipped   []Skip
	Stages    *StageRun
	Uploads   []UploadRecord
	SynthCost []SynthCostRun
}

// ThroughputCell is one round of closed-loop maximum load against one
// target.
type ThroughputCell struct {
	Target string
	Round  int
	Wrk    WrkResult
	// Primary and Mirror are the requests the primary and the mirror
	// upstream answered over the cell; HaveCounts is false when the
	// counts were not recorded.
	Primary, Mirror uint64
	HaveCounts      bool
	// Shadow is the proxy's counter delta; nil for targets without an
	// admin endpoint.
	Shadow *MirrorDelta
}

// SynthRun is one synth run at a constant rate.
type SynthRun struct {
	Rate   float64
	Report SynthReport
}

// LadderStep is one step of the maximum-rate ladder for one tool.
type LadderStep struct {
	// Tool is "synth" or "vegeta".
	Tool string
	Rate float64
	// Achieved is the sending rate reached; Success the share of good
	// answers (0..1); P50us the median latency in µs; Sustained whether
	// the step counts as kept up.
	Achieved, Success, P50us float64
	Sustained                bool
}

// Soak is shadow's memory over a long run at constant load.
type Soak struct {
	Meta []KV
	// Samples are VmRSS; Heap the Go heap in use (empty when not
	// sampled), both in kB.
	Samples, Heap []RSSSample
	Load          *LatencyRecord
	Shadow        *MirrorDelta
}

var (
	wrkName     = regexp.MustCompile(`^r(\d+)_(.+)\.wrk$`)
	rateName    = regexp.MustCompile(`^(?:accuracy|synth|vegeta)_(\d+(?:\.\d+)?)\.json$`)
	errNotExist = fs.ErrNotExist
)

func load(dir string) (*Run, error) {
	r := &Run{}
	data, err := os.ReadFile(filepath.Join(dir, "machine.txt"))
	if err != nil {
		return nil, fmt.Errorf("load %q: %w", dir, err)
	}
	if r.Machine, err = ParseKV(data); err != nil {
		return nil, fmt.Errorf("load %q: machine.txt: %w", dir, err)
	}
	steps := []func(string, *Run) error{loadLatency, loadThroughput, loadSynth, loadLadder, loadGoBench, loadSoak, loadCost}
	for _, step := range steps {
		if err := step(dir, r); err != nil {
			return nil, fmt.Errorf("load %q: %w", dir, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "pprof-top.txt")); err == nil {
		r.PprofTop = string(b)
	}
	return r, nil
}

// readOptional reads a file that may be missing (nil, nil then).
func readOptional(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, errNotExist) {
		return nil, nil
	}
	return b, err
}

// ParseLatency reads LatencyRecord JSON lines.
func ParseLatency(data []byte) ([]LatencyRecord, error) {
	return parseJSONLines[LatencyRecord](data)
}

// parseJSONLines reads one JSON value per line; blank lines are skipped.
func parseJSONLines[T any](data []byte) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

func loadLatency(dir string, r *Run) error {
	b, err := readOptional(filepath.Join(dir, "latency.jsonl"))
	if err != nil || b == nil {
		return err
	}
	if r.Latency, err = ParseLatency(b); err != nil {
		return fmt.Errorf("latency.jsonl: %w", err)
	}
	return nil
}

func loadThroughput(dir string, r *Run) error {
	tdir := filepath.Join(dir, "throughput")
	entries, err := os.ReadDir(tdir)
	if errors.Is(err, errNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	for _, e := range entries {
		m := wrkName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		round, _ := strconv.Atoi(m[1])
		base := filepath.Join(tdir, strings.TrimSuffix(e.Name(), ".wrk"))
		b, err := os.ReadFile(base + ".wrk")
		if err != nil {
			return err
		}
		c := ThroughputCell{Target: m[2], Round: round}
		if c.Wrk, err = ParseWrk(b); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
		if err := loadCounts(base, &c); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
		if c.Shadow, err = loadShadowDelta(base); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
		r.Throughput = append(r.Throughput, c)
	}
	sort.SliceStable(r.Throughput, func(i, j int) bool {
		a, b := r.Throughput[i], r.Throughput[j]
		if a.Round != b.Round {
			return a.Round < b.Round
		}
		return targetRank(a.Target) < targetRank(b.Target)
	})
	return nil
}

// targetOrder is the order rows are shown in; other targets follow.
var targetOrder = []string{"direct", "plain", "shadow-fast", "shadow-slow", "shadow-dead", "nginx-fast", "nginx-slow", "nginx-dead"}

func targetRank(t string) int {
	for i, o := range targetOrder {
		if o == t {
			return i
		}
	}
	return len(targetOrder)
}

// loadCounts reads the upstream's counts before and after a cell.
func loadCounts(base string, c *ThroughputCell) error {
	b0, err := readOptional(base + ".counts0.json")
	if err != nil {
		return err
	}
	b1, err := readOptional(base + ".counts1.json")
	if err != nil || b0 == nil || b1 == nil {
		return err
	}
	var c0, c1 map[string]uint64
	if err := json.Unmarshal(b0, &c0); err != nil {
		return fmt.Errorf("counts0: %w", err)
	}
	if err := json.Unmarshal(b1, &c1); err != nil {
		return fmt.Errorf("counts1: %w", err)
	}
	c.Primary, c.Mirror, c.HaveCounts = c1["p0"]-c0["p0"], c1["fast"]-c0["fast"], true
	return nil
}

// loadShadowDelta reads base.snap0.json, base.snap1.json and the polled
// snapshots in base.poll.jsonl; nil when there are no snapshots.
func loadShadowDelta(base string) (*MirrorDelta, error) {
	b0, err := readOptional(base + ".snap0.json")
	if err != nil {
		return nil, err
	}
	b1, err := readOptional(base + ".snap1.json")
	if err != nil || b0 == nil || b1 == nil {
		return nil, err
	}
	s0, err := ParseSnapshot(b0)
	if err != nil {
		return nil, fmt.Errorf("snap0: %w", err)
	}
	s1, err := ParseSnapshot(b1)
	if err != nil {
		return nil, fmt.Errorf("snap1: %w", err)
	}
	d := s0.Delta(s1)
	poll, err := readOptional(base + ".poll.jsonl")
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(poll))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if s, err := ParseSnapshot(sc.Bytes()); err == nil && s.QueueDepth > d.MaxQueueDepth {
			d.MaxQueueDepth = s.QueueDepth // a cut-off line is skipped
		}
	}
	return &d, nil
}

// rateFiles lists dir's files named PREFIX_RATE.json, by rising rate.
func rateFiles(dir, prefix string) ([]string, []float64, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, errNotExist) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	type file struct {
		path string
		rate float64
	}
	var fs []file
	for _, e := range entries {
		m := rateName.FindStringSubmatch(e.Name())
		if m == nil || !strings.HasPrefix(e.Name(), prefix+"_") {
			continue
		}
		rate, _ := strconv.ParseFloat(m[1], 64)
		fs = append(fs, file{filepath.Join(dir, e.Name()), rate})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].rate < fs[j].rate })
	paths, rates := make([]string, len(fs)), make([]float64, len(fs))
	for i, f := range fs {
		paths[i], rates[i] = f.path, f.rate
	}
	return paths, rates, nil
}

func loadSynth(dir string, r *Run) error {
	paths, rates, err := rateFiles(filepath.Join(dir, "synth"), "accuracy")
	if err != nil {
		return err
	}
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rep, err := ParseSynth(b)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(p), err)
		}
		r.Accuracy = append(r.Accuracy, SynthRun{Rate: rates[i], Report: rep})
	}
	return nil
}

func loadLadder(dir string, r *Run) error {
	for _, tool := range []string{"synth", "vegeta"} {
		paths, rates, err := rateFiles(filepath.Join(dir, "maxrate"), tool)
		if err != nil {
			return err
		}
		for i, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			step, err := ParseStep(tool, rates[i], b)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Base(p), err)
			}
			r.Ladder = append(r.Ladder, step)
		}
	}
	return nil
}

func loadGoBench(dir string, r *Run) error {
	paths, err := filepath.Glob(filepath.Join(dir, "gobench", "*.txt"))
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		bs, err := ParseGoBench(b)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(p), err)
		}
		r.GoBench = append(r.GoBench, bs...)
	}
	return nil
}

func loadSoak(dir string, r *Run) error {
	sdir := filepath.Join(dir, "soak")
	meta, err := readOptional(filepath.Join(sdir, "meta.txt"))
	if err != nil || meta == nil {
		return err
	}
	s := &Soak{}
	if s.Meta, err = ParseKV(meta); err != nil {
		return fmt.Errorf("soak/meta.txt: %w", err)
	}
	rss, err := readOptional(filepath.Join(sdir, "rss.txt"))
	if err != nil {
		return err
	}
	if s.Samples, err = ParseRSS(rss); err != nil {
		return fmt.Errorf("soak/rss.txt: %w", err)
	}
	heap, err := readOptional(filepath.Join(sdir, "heap.txt"))
	if err != nil {
		return err
	}
	if s.Heap, err = ParseRSS(heap); err != nil {
		return fmt.Errorf("soak/heap.txt: %w", err)
	}
	load, err := readOptional(filepath.Join(sdir, "load.jsonl"))
	if err != nil {
		return err
	}
	recs, err := ParseLatency(load)
	if err != nil {
		return fmt.Errorf("soak/load.jsonl: %w", err)
	}
	if len(recs) > 0 {
		s.Load = &recs[len(recs)-1]
		s.Shadow = s.Load.Mirror
	}
	r.Soak = s
	return nil
}
