package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Sample is one stack of a CPU profile and the time spent in it.
type Sample struct {
	// Us is the CPU time in µs; Frames the function names, leaf first.
	Us     float64
	Frames []string
}

// ParseTraces reads the output of `go tool pprof -traces`: blocks
// separated by dashed lines, each a value (10ms, 1.20s) before the leaf
// frame and one frame per line after it.
func ParseTraces(data []byte) ([]Sample, error) {
	var out []Sample
	var cur *Sample
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		t := sc.Text()
		switch {
		case strings.HasPrefix(t, "-----------+"):
			cur = nil
			continue
		case strings.TrimSpace(t) == "":
			continue
		}
		if cur == nil {
			if !strings.HasPrefix(t, " ") {
				continue // the header: File, Type, Duration...
			}
			f := strings.Fields(t)
			if len(f) < 2 {
				return nil, fmt.Errorf("traces line %d: want a value and a frame, got %q", line, t)
			}
			us, err := parseProfileValue(f[0])
			if err != nil {
				return nil, fmt.Errorf("traces line %d: %w", line, err)
			}
			out = append(out, Sample{Us: us})
			cur = &out[len(out)-1]
			cur.Frames = append(cur.Frames, frameName(f[1:]))
			continue
		}
		f := strings.Fields(t)
		if len(f) == 0 || strings.Contains(f[0], ":[") || strings.HasSuffix(f[0], ":") {
			continue // a pprof label line (key:[value])
		}
		cur.Frames = append(cur.Frames, frameName(f))
	}
	return out, sc.Err()
}

// frameName drops " (inline)" and the like after a function name.
func frameName(f []string) string { return f[0] }

// parseProfileValue reads a pprof duration: 10ms, 1.2s, 500us, 3ns.
func parseProfileValue(s string) (float64, error) {
	for _, u := range []struct {
		suffix string
		us     float64
	}{{"ns", 1e-3}, {"us", 1}, {"µs", 1}, {"ms", 1e3}, {"s", 1e6}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f * u.us, nil
			}
		}
	}
	return 0, fmt.Errorf("profile value %q: want a duration such as 10ms", s)
}

// Stage names a part of shadow's work per request.
type Stage struct {
	Name, What string
}

// Stages in the order shown. A sample belongs to the stage of its
// innermost frame that names one (see stageOf).
var Stages = []Stage{
	{"serve", "the client's side: reading requests, writing answers to the client, the proxy's handler itself"},
	{"primary round trip", "ReverseProxy and the primary's transport in the handler's goroutine: rewriting, sending, reading the answer"},
	{"upstream I/O loops", "http.Transport's per-connection read and write loops, which the primary (once on http.Transport) and the copies share: a stack does not say whose"},
	{"tee", "copying the primary's answer and the request body for the copies (bounded buffers)"},
	{"queue", "admitting a request for mirroring (routes, sample), making the job, queueing it, workers waiting"},
	{"candidate round trip", "the copies: requests to the candidate and secondary, reading their answers, waiting for the primary's"},
	{"redact", "redacting the exchange before it is judged and shown"},
	{"judge", "the compare engine: decoding, diffing, aggregating per endpoint"},
	{"metrics", "Prometheus metrics fed per judged exchange"},
	{"capture", "capture records: building, encoding, writing"},
	{"admin", "the admin endpoint: snapshots, pprof itself"},
	{"gc", "the garbage collector's own workers (assists are charged to the stage that allocates)"},
	{"scheduler", "the Go scheduler and netpoller between goroutines (wake-ups)"},
	{"other", "anything else"},
}

// stageRules map function-name patterns to stages. A pattern ending in
// ".", "/" or "(" matches a prefix; others match the whole name or the
// name followed by "." or ")" (a method, closure or inlined call of it).
// Weak rules name a whole package; they decide only for a stack in which
// no other rule matches (see stageOf).
var stageRules = []struct {
	stage, pattern string
	weak           bool
}{
	{stage: "tee", pattern: understudy + "mirror.appendBounded"},
	{stage: "tee", pattern: understudy + "mirror.grow"},
	{stage: "tee", pattern: understudy + "mirror.(*Proxy).readBody"},
	{stage: "tee", pattern: understudy + "mirror.replay"},
	{stage: "queue", pattern: understudy + "mirror.(*Proxy).admit"},
	{stage: "queue", pattern: understudy + "mirror.(*Proxy).sampled"},
	{stage: "queue", pattern: understudy + "mirror.(*Proxy).enqueue"},
	{stage: "queue", pattern: understudy + "mirror.(*Proxy).newJob"},
	{stage: "queue", pattern: understudy + "mirror.(*Proxy).work"},
	{stage: "queue", pattern: understudy + "mirror.(*Proxy).stale"},
	{stage: "queue", pattern: understudy + "mirror.(*Proxy).release"},
	{stage: "queue", pattern: understudy + "mirror.matchRoute"},
	{stage: "queue", pattern: understudy + "mirror.sampleKey"},
	{stage: "candidate round trip", pattern: understudy + "mirror.(*Proxy).runCopy"},
	{stage: "candidate round trip", pattern: understudy + "mirror.(*Proxy).send"},
	{stage: "candidate round trip", pattern: understudy + "mirror.(*Proxy).newCopyRequest"},
	{stage: "candidate round trip", pattern: understudy + "mirror.(*Proxy).copyHeader"},
	{stage: "candidate round trip", pattern: understudy + "mirror.(*Proxy).awaitPrimary"},
	{stage: "candidate round trip", pattern: understudy + "mirror.(*Proxy).failed"},
	{stage: "candidate round trip", pattern: understudy + "mirror.(*breaker)"},
	{stage: "primary round trip", pattern: understudy + "mirror.(*h1Transport)"},
	{stage: "primary round trip", pattern: understudy + "mirror.(*h1Conn)"},
	{stage: "primary round trip", pattern: understudy + "mirror.(*h1Body)"},
	{stage: "primary round trip", pattern: understudy + "mirror.(*Proxy).rewrite"},
	{stage: "primary round trip", pattern: understudy + "mirror.(*Proxy).modifyResponse"},
	{stage: "primary round trip", pattern: understudy + "mirror.(*Proxy).errorHandler"},
	{stage: "primary round trip", pattern: understudy + "mirror.(*Proxy).finishPrimary"},
	{stage: "primary round trip", pattern: "net/http/httputil.(*ReverseProxy)"},
	{stage: "upstream I/O loops", pattern: "net/http.(*persistConn).readLoop"},
	{stage: "upstream I/O loops", pattern: "net/http.(*persistConn).writeLoop"},
	{stage: "serve", pattern: "net/http.(*response)"},
	{stage: "serve", pattern: "net/http.(*chunkWriter)"},
	{stage: "serve", pattern: "net/http.checkConnErrorWriter"},
	{stage: "serve", pattern: "net/http.(*connReader)"},
	{stage: "serve", pattern: "net/http.(*conn)"},
	{stage: "serve", pattern: "net/http.(*Server)"},
	{stage: "serve", pattern: "net/http.(*expectContinueReader)"},
	{stage: "serve", pattern: understudy + "mirror.(*Proxy).ServeHTTP"},
	{stage: "redact", pattern: understudy + "capture.(*Redactor)"},
	{stage: "redact", pattern: understudy + "capture.(*redaction)"},
	{stage: "redact", pattern: understudy + "capture.(*redactPlan)"},
	{stage: "redact", pattern: understudy + "capture.(*jsonRedaction)"},
	{stage: "redact", pattern: understudy + "capture.(*valueMatcher)"},
	{stage: "metrics", pattern: understudy + "cmd/internal/metrics."},
	{stage: "metrics", pattern: "github.com/prometheus/", weak: true},
	{stage: "capture", pattern: understudy + "observe.(*Pipeline).loop"},
	{stage: "capture", pattern: understudy + "observe.Record"},
	{stage: "capture", pattern: understudy + "capture.(*Writer)"},
	{stage: "capture", pattern: understudy + "capture.", weak: true},
	{stage: "capture", pattern: "github.com/vmihailenco/msgpack/", weak: true},
	{stage: "judge", pattern: understudy + "observe.(*Pipeline).Observe"},
	{stage: "judge", pattern: understudy + "mirror.(*Proxy).observe"},
	{stage: "judge", pattern: understudy + "compare.", weak: true},
	{stage: "judge", pattern: understudy + "observe.", weak: true},
	{stage: "judge", pattern: "github.com/google/go-cmp/", weak: true},
	{stage: "admin", pattern: understudy + "admin."},
	{stage: "admin", pattern: understudy + "cmd/internal/dash."},
	{stage: "admin", pattern: "main.(*session).snapshot"},
	{stage: "admin", pattern: "net/http/pprof."},
	{stage: "admin", pattern: "runtime/pprof."},
	{stage: "gc", pattern: "runtime.gcBgMarkWorker"},
	{stage: "gc", pattern: "runtime.bgsweep"},
	{stage: "gc", pattern: "runtime.bgscavenge"},
	{stage: "gc", pattern: "runtime.forcegchelper"},
	{stage: "scheduler", pattern: "runtime.mcall"},
	{stage: "scheduler", pattern: "runtime.park_m"},
	{stage: "scheduler", pattern: "runtime.schedule"},
	{stage: "scheduler", pattern: "runtime.findRunnable"},
	{stage: "scheduler", pattern: "runtime.goexit0"},
	{stage: "scheduler", pattern: "runtime.sysmon"},
	{stage: "scheduler", pattern: "runtime.mstart"},
	{stage: "scheduler", pattern: "runtime.netpoll"},
	{stage: "scheduler", pattern: "runtime.goschedImpl"},
	{stage: "scheduler", pattern: "runtime.gopreempt_m"},
}

// understudy is the module path functions of this project start with.
const understudy = "github.com/understudy-dev/understudy/"

// matches reports whether function name fn matches pattern p (see
// stageRules).
func matches(fn, p string) bool {
	if strings.HasSuffix(p, ".") || strings.HasSuffix(p, "/") || strings.HasSuffix(p, "(") {
		return strings.HasPrefix(fn, p)
	}
	return fn == p || strings.HasPrefix(fn, p+".") || strings.HasPrefix(fn, p+")")
}

// stageOf is the stage of the innermost frame a rule names; a weak rule
// (a whole package) decides only when no other rule matches anywhere in
// the stack, so that a package's helpers count for the stage that called
// them (capture's JSON scanner inside redaction is redaction). "other"
// when nothing matches. The upstream I/O loops are the copies' alone when
// the primary has a transport of its own (loopsAreCopies), and then count
// as the candidate round trip.
func stageOf(frames []string, loopsAreCopies bool) string {
	weak := ""
	for _, fn := range frames {
		for _, r := range stageRules {
			if !matches(fn, r.pattern) {
				continue
			}
			if r.weak {
				if weak == "" {
					weak = r.stage
				}
				continue
			}
			if r.stage == "upstream I/O loops" && loopsAreCopies {
				return "candidate round trip"
			}
			return r.stage
		}
	}
	if weak != "" {
		return weak
	}
	return "other"
}

// StageCost is one stage's share of a profile.
type StageCost struct {
	Stage
	// Us is the stage's CPU time in the profile; Share its part of all
	// samples (0..1); Top the functions it spent most in (own time),
	// largest first, at most three.
	Us, Share float64
	Top       []string
}

// StageBreakdown folds a profile's samples into stages, in Stages order;
// loopsAreCopies is true when the profile shows the primary on a
// transport of its own (mirror's h1Transport), so that http.Transport's
// loops are the copies'.
func StageBreakdown(samples []Sample) (stages []StageCost, total float64, loopsAreCopies bool) {
	for _, s := range samples {
		for _, fn := range s.Frames {
			if strings.HasPrefix(fn, understudy+"mirror.(*h1Transport)") {
				loopsAreCopies = true
			}
		}
	}
	by := map[string]float64{}
	flat := map[string]map[string]float64{}
	for _, s := range samples {
		st := stageOf(s.Frames, loopsAreCopies)
		by[st] += s.Us
		total += s.Us
		if flat[st] == nil {
			flat[st] = map[string]float64{}
		}
		if len(s.Frames) > 0 {
			flat[st][ownFrame(s.Frames)] += s.Us
		}
	}
	for _, st := range Stages {
		c := StageCost{Stage: st, Us: by[st.Name]}
		if total > 0 {
			c.Share = c.Us / total
		}
		type fu struct {
			fn string
			us float64
		}
		var fs []fu
		for fn, us := range flat[st.Name] {
			fs = append(fs, fu{fn, us})
		}
		sort.Slice(fs, func(i, j int) bool {
			if fs[i].us != fs[j].us {
				return fs[i].us > fs[j].us
			}
			return fs[i].fn < fs[j].fn
		})
		for i := 0; i < len(fs) && i < 3; i++ {
			c.Top = append(c.Top, fmt.Sprintf("%s %.0f%%", fs[i].fn, 100*fs[i].us/max(c.Us, 1)))
		}
		stages = append(stages, c)
	}
	return stages, total, loopsAreCopies
}

// ownFrame is the function a sample's own time is shown under, without
// its module path: the leaf, or for a system call the first caller above
// the system call and network plumbing ("write ← bufio.(*Writer).Flush"),
// which says what it was for.
func ownFrame(frames []string) string {
	leaf := frames[0]
	if !strings.HasPrefix(leaf, "internal/runtime/syscall") && !strings.HasPrefix(leaf, "syscall.") {
		return shortFunc(leaf)
	}
	call := "syscall"
	for _, fn := range frames {
		switch {
		case strings.HasPrefix(fn, "syscall.") && fn != "syscall.Syscall" && !strings.HasPrefix(fn, "syscall.RawSyscall"):
			call = strings.ToLower(strings.TrimPrefix(fn, "syscall."))
		case strings.HasPrefix(fn, "internal/runtime/syscall"), strings.HasPrefix(fn, "syscall."),
			strings.HasPrefix(fn, "internal/poll."), strings.HasPrefix(fn, "net.(*netFD)"), strings.HasPrefix(fn, "net.(*conn)"):
		default:
			return call + " ← " + shortFunc(fn)
		}
	}
	return call
}

// shortFunc drops the import path before a function's package name
// (net/http.(*conn).serve: http.(*conn).serve), keeping a major version's
// package (msgpack/v5.(*Encoder).Encode).
func shortFunc(fn string) string {
	fn = strings.TrimPrefix(fn, understudy)
	i := strings.LastIndexByte(fn, '/')
	if i < 0 || strings.Contains(fn[:i], "(") {
		return fn
	}
	if j := strings.LastIndexByte(fn[:i], '/'); len(fn) > i+2 && fn[i+1] == 'v' && fn[i+2] >= '0' && fn[i+2] <= '9' {
		return fn[j+1:]
	}
	return fn[i+1:]
}
