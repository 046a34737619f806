package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// WrkResult is what one wrk run reports.
type WrkResult struct {
	// Requests completed in Seconds; RPS is wrk's Requests/sec.
	Requests int64
	Seconds  float64
	RPS      float64
	// SocketErrors adds up connect, read, write and timeout errors;
	// Non2xx counts answers that were not 2xx or 3xx.
	SocketErrors int64
	Non2xx       int64
}

// ParseWrk reads wrk's text output.
func ParseWrk(data []byte) (WrkResult, error) {
	var r WrkResult
	var haveRPS, haveCount bool
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return WrkResult{}, fmt.Errorf("wrk output line %d: Requests/sec %q: %w", line, f[1], err)
			}
			r.RPS, haveRPS = v, true
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return WrkResult{}, fmt.Errorf("wrk output line %d: request count %q: %w", line, f[0], err)
			}
			d, err := parseWrkSeconds(strings.TrimSuffix(f[3], ","))
			if err != nil {
				return WrkResult{}, fmt.Errorf("wrk output line %d: %w", line, err)
			}
			r.Requests, r.Seconds, haveCount = n, d, true
		case len(f) >= 3 && f[0] == "Socket" && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 3; i < len(f); i += 2 {
				n, err := strconv.ParseInt(strings.TrimSuffix(f[i], ","), 10, 64)
				if err != nil {
					return WrkResult{}, fmt.Errorf("wrk output line %d: socket errors %q: %w", line, f[i], err)
				}
				r.SocketErrors += n
			}
		case len(f) == 5 && f[0] == "Non-2xx":
			n, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil {
				return WrkResult{}, fmt.Errorf("wrk output line %d: non-2xx count %q: %w", line, f[4], err)
			}
			r.Non2xx = n
		}
	}
	if !haveRPS || !haveCount {
		return WrkResult{}, fmt.Errorf("wrk output: no \"Requests/sec:\" or \"N requests in\" line")
	}
	return r, nil
}

// parseWrkSeconds reads wrk's durations: 10.01s, 950.00ms, 1.00m.
func parseWrkSeconds(s string) (float64, error) {
	for _, u := range []struct {
		suffix   string
		mul, div float64
	}{{"us", 1, 1e6}, {"ms", 1, 1e3}, {"s", 1, 1}, {"m", 60, 1}, {"h", 3600, 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				break
			}
			return f * u.mul / u.div, nil
		}
	}
	return 0, fmt.Errorf("duration %q: want a number with us, ms, s, m or h", s)
}

// VegetaReport is the part of `vegeta report -type=json` the harness
// reads.
type VegetaReport struct {
	// Requests sent; Rate is requests per second over the attack;
	// Throughput successful requests per second until the last answer;
	// Success the share of 2xx/3xx answers (0..1).
	Requests   int64   `json:"requests"`
	Rate       float64 `json:"rate"`
	Throughput float64 `json:"throughput"`
	Success    float64 `json:"success"`
	// Latencies in ns, from each request's actual send.
	Latencies struct {
		P50 int64 `json:"50th"`
		P99 int64 `json:"99th"`
	} `json:"latencies"`
}

// ParseVegeta reads a vegeta JSON report.
func ParseVegeta(data []byte) (VegetaReport, error) {
	var r VegetaReport
	if err := json.Unmarshal(data, &r); err != nil {
		return VegetaReport{}, fmt.Errorf("parse vegeta report: %w", err)
	}
	return r, nil
}

// SynthReport is the part of synth's JSON report the harness reads.
type SynthReport struct {
	Elapsed      int64   `json:"elapsed"` // ns
	Active       int64   `json:"active"`  // ns
	TargetRate   float64 `json:"target_rate"`
	AchievedRate float64 `json:"achieved_rate"`
	Journeys     struct {
		Started   int64 `json:"started"`
		Dropped   int64 `json:"dropped"`
		Succeeded int64 `json:"succeeded"`
		Failed    int64 `json:"failed"`
	} `json:"journeys"`
	Steps []struct {
		Latency struct {
			P50 int64 `json:"p50"` // ns
			P99 int64 `json:"p99"` // ns
			Max int64 `json:"max"` // ns
		} `json:"latency"`
	} `json:"steps"`
}

// ParseSynth reads a synth JSON report (synth run --report-out x.json).
func ParseSynth(data []byte) (SynthReport, error) {
	var r SynthReport
	if err := json.Unmarshal(data, &r); err != nil {
		return SynthReport{}, fmt.Errorf("parse synth report: %w", err)
	}
	if r.TargetRate <= 0 {
		return SynthReport{}, fmt.Errorf("parse synth report: target_rate missing or not positive")
	}
	return r, nil
}

// GoBench is one result line of `go test -bench`.
type GoBench struct {
	// Name is the benchmark's name without the -GOMAXPROCS suffix; Procs
	// is that suffix (1 when absent).
	Name  string
	Procs int
	// N is the iteration count.
	N int64
	// Metrics in the order printed: ns/op, B/op, pairs/s...
	Metrics []Metric
}

// Metric is one value and its unit.
type Metric struct {
	Value float64
	Unit  string
}

// Metric returns the value of the metric with the given unit.
func (b GoBench) Metric(unit string) (float64, bool) {
	for _, m := range b.Metrics {
		if m.Unit == unit {
			return m.Value, true
		}
	}
	return 0, false
}

// ParseGoBench reads the result lines of `go test -bench` output and
// ignores the rest (goos, PASS, ok ...).
func ParseGoBench(data []byte) ([]GoBench, error) {
	var out []GoBench
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue // a benchmark's own log line that starts with its name
		}
		b := GoBench{Name: f[0], Procs: 1, N: n}
		if i := strings.LastIndexByte(f[0], '-'); i > 0 {
			if p, err := strconv.Atoi(f[0][i+1:]); err == nil && p > 0 {
				b.Name, b.Procs = f[0][:i], p
			}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("go bench output line %d: value %q of %s: %w", line, f[i], b.Name, err)
			}
			b.Metrics = append(b.Metrics, Metric{Value: v, Unit: f[i+1]})
		}
		out = append(out, b)
	}
	return out, nil
}

// KV is one "key: value" line.
type KV struct{ Key, Value string }

// ParseKV reads "key: value" lines in order; blank lines and lines
// starting with # are skipped.
func ParseKV(data []byte) ([]KV, error) {
	var out []KV
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		k, v, ok := strings.Cut(t, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: %q is not \"key: value\"", line, t)
		}
		out = append(out, KV{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	return out, nil
}

// lookup returns the value of key in kvs, or "".
func lookup(kvs []KV, key string) string {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

// RSSSample is one memory figure of shadow at one moment of the soak:
// its VmRSS, or its Go heap in use.
type RSSSample struct {
	// Seconds since the soak's load started; KB is the figure in kB.
	Seconds float64
	KB      int64
}

// ParseRSS reads "SECONDS KB" lines.
func ParseRSS(data []byte) ([]RSSSample, error) {
	var out []RSSSample
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("rss line %d: want \"SECONDS KB\", got %q", line, sc.Text())
		}
		s, err1 := strconv.ParseFloat(f[0], 64)
		kb, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("rss line %d: want \"SECONDS KB\", got %q", line, sc.Text())
		}
		out = append(out, RSSSample{Seconds: s, KB: kb})
	}
	return out, nil
}
