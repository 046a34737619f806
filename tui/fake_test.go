package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// t0 is the fixed clock of every fixture: snapshot i is taken at t0 + i s.
var t0 = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

// fakeSource serves a script of snapshots, one per call, then repeats the
// last one forever; with err set it fails every call instead.
type fakeSource struct {
	mu     sync.Mutex
	script []Snapshot
	err    error
	calls  int
	called chan struct{} // gets a value (without blocking) on every call
	// overlay, when set, changes each snapshot served: the instance's
	// state as its controls left it.
	overlay func(Snapshot) Snapshot
}

func newFakeSource(script ...Snapshot) *fakeSource {
	return &fakeSource{script: script, called: make(chan struct{}, 1)}
}

func (f *fakeSource) Snapshot(ctx context.Context) (Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	select {
	case f.called <- struct{}{}:
	default:
	}
	if f.err != nil {
		return Snapshot{}, f.err
	}
	if len(f.script) == 0 {
		return Snapshot{}, errors.New("empty script")
	}
	i := min(f.calls-1, len(f.script)-1)
	if f.overlay != nil {
		return f.overlay(f.script[i]), nil
	}
	return f.script[i], nil
}

// served returns how many calls the source has answered.
func (f *fakeSource) served() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// fakeController records the calls the dashboard makes.
type fakeController struct {
	mu      sync.Mutex
	calls   []string
	rateErr error
	tuneErr error // returned by the tuning calls
	// applyCap, when set, caps the rate the instance applies (a runner
	// that refuses part of a request).
	applyCap float64
}

func (c *fakeController) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *fakeController) Pause() error  { c.record("pause"); return nil }
func (c *fakeController) Resume() error { c.record("resume"); return nil }
func (c *fakeController) Kill() error   { c.record("kill"); return nil }

func (c *fakeController) SetRate(r float64) (float64, error) {
	c.record(fmt.Sprintf("rate %g", r))
	if c.rateErr != nil {
		return 0, c.rateErr
	}
	if c.applyCap > 0 && r > c.applyCap {
		return c.applyCap, nil
	}
	return r, nil
}

func (c *fakeController) SetSamplePercent(p float64) error {
	c.record(fmt.Sprintf("sample %g", p))
	return c.tuneErr
}

func (c *fakeController) SetRouteDisabled(name string, disabled bool) error {
	c.record(fmt.Sprintf("route %s %s", name, onOff(!disabled)))
	return c.tuneErr
}

// onOff names a route's mirroring in the fakes' call logs.
func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func (c *fakeController) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

// fakeDemo is shadow demo's controller: its Controller methods steer the
// synthetic load, and as a MirrorController it steers the proxy's
// mirroring. Its overlay shows both pause states in the snapshots a
// fakeSource serves, as the real instance would.
type fakeDemo struct {
	fakeController
	paused, mirrorPaused bool
}

// set records call and sets *flag to v.
func (d *fakeDemo) set(call string, flag *bool, v bool) error {
	d.record(call)
	d.mu.Lock()
	defer d.mu.Unlock()
	*flag = v
	return nil
}

func (d *fakeDemo) Pause() error           { return d.set("pause", &d.paused, true) }
func (d *fakeDemo) Resume() error          { return d.set("resume", &d.paused, false) }
func (d *fakeDemo) PauseMirroring() error  { return d.set("pause mirroring", &d.mirrorPaused, true) }
func (d *fakeDemo) ResumeMirroring() error { return d.set("resume mirroring", &d.mirrorPaused, false) }
func (d *fakeDemo) StopMirroring() error   { return d.set("stop mirroring", &d.mirrorPaused, true) }

// overlay returns s with the pause states as the controls left them.
func (d *fakeDemo) overlay(s Snapshot) Snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.Shadow != nil {
		sh := *s.Shadow
		sh.Paused = d.mirrorPaused
		s.Shadow = &sh
	}
	if s.Synth != nil {
		sy := *s.Synth
		sy.Paused = d.paused
		s.Synth = &sy
	}
	return s
}

// fakeInstance is a runner seen through both the Source and the
// Controller: controls change what later snapshots say, as a real instance
// would.
type fakeInstance struct {
	mu       sync.Mutex
	paused   bool
	rate     float64
	ceiling  float64
	applyCap float64 // caps applied rates when set
	calls    []string
	served   int
}

// source returns the instance as a Source.
func (f *fakeInstance) source() Source {
	return SourceFunc(func(context.Context) (Snapshot, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.served++
		s := synthAt(0)
		s.Paused, s.TargetRate, s.Ceiling = f.paused, f.rate, f.ceiling
		return Snapshot{Time: t0.Add(time.Duration(f.served) * time.Second), Synth: s}, nil
	})
}

func (f *fakeInstance) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeInstance) Pause() error {
	f.record("pause")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paused = true
	return nil
}

func (f *fakeInstance) Resume() error {
	f.record("resume")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paused = false
	return nil
}

func (f *fakeInstance) SetRate(r float64) (float64, error) {
	f.record(fmt.Sprintf("rate %g", r))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.applyCap > 0 {
		r = min(r, f.applyCap)
	}
	f.rate = r
	return r, nil
}

func (f *fakeInstance) Kill() error { f.record("kill"); return nil }

func (f *fakeInstance) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeInstance) servedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served
}

// notTuner is a Controller that cannot tune a proxy, whatever it wraps.
type notTuner struct{ Controller }

// fakeProxy is a proxy seen through both the Source and the Controller
// (and Tuner): tuning changes what later snapshots say, as a real proxy's
// would. With gate set, every tuning call waits for a value on it first:
// a slow remote instance.
type fakeProxy struct {
	mu     sync.Mutex
	tuning Tuning
	calls  []string
	served int
	gate   chan struct{}
	err    error // returned by the tuning calls, which then change nothing
}

// source returns the proxy as a Source.
func (f *fakeProxy) source() Source {
	return SourceFunc(func(context.Context) (Snapshot, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.served++
		s := shadowAt(0)
		s.Tuning = f.tuning.clone()
		return Snapshot{Time: t0.Add(time.Duration(f.served) * time.Second), Shadow: s}, nil
	})
}

func (f *fakeProxy) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeProxy) Pause() error                     { f.record("pause"); return nil }
func (f *fakeProxy) Resume() error                    { f.record("resume"); return nil }
func (f *fakeProxy) Kill() error                      { f.record("kill"); return nil }
func (f *fakeProxy) SetRate(float64) (float64, error) { return 0, errors.New("not supported") }

func (f *fakeProxy) SetSamplePercent(p float64) error {
	if f.gate != nil {
		<-f.gate
	}
	f.record(fmt.Sprintf("sample %g", p))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.tuning.SamplePercent = p
	return nil
}

func (f *fakeProxy) SetRouteDisabled(name string, disabled bool) error {
	if f.gate != nil {
		<-f.gate
	}
	f.record(fmt.Sprintf("route %s %s", name, onOff(!disabled)))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	for i := range f.tuning.Routes {
		if f.tuning.Routes[i].Name == name {
			f.tuning.Routes[i].Disabled = disabled
		}
	}
	return nil
}

func (f *fakeProxy) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeProxy) servedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served
}

// panicController panics on every call.
type panicController struct{}

func (panicController) Pause() error                     { panic("boom") }
func (panicController) Resume() error                    { panic("boom") }
func (panicController) SetRate(float64) (float64, error) { panic("boom") }
func (panicController) Kill() error                      { panic("boom") }
func (panicController) SetSamplePercent(float64) error   { panic("boom") }
func (panicController) SetRouteDisabled(string, bool) error {
	panic("boom")
}

// shadowAt returns the proxy's state i seconds into the run: counters grow
// linearly and latencies wander deterministically.
func shadowAt(i int) *ShadowSnapshot {
	n := uint64(i)
	return &ShadowSnapshot{
		Primary:           "http://127.0.0.1:8081",
		Candidate:         "http://127.0.0.1:8082",
		Secondary:         "http://127.0.0.1:8083",
		Listen:            "127.0.0.1:8080",
		Started:           t0.Add(-58 * time.Minute),
		Verdict:           "fail",
		Reasons:           []string{"GET /orders/{id}: diff rate 12.5% over budget 1%", "POST /orders: candidate errors"},
		Received:          120000 + 240*n,
		Mirrored:          118000 + 230*n,
		Compared:          117500 + 228*n,
		Dropped:           12,
		Skipped:           2000 + 10*n,
		CandidateErrors:   7,
		CandidateTimeouts: 2,
		QueueDepth:        3,
		QueueSize:         1024,
		PrimaryP99:        time.Duration(20+i%5) * time.Millisecond,
		CandidateP99:      time.Duration(30+(i*7)%13) * time.Millisecond,
		Endpoints:         endpoints(),
	}
}

// endpoints returns a fixed set of endpoints in producer order.
func endpoints() []Endpoint {
	return []Endpoint{
		{
			Method: "GET", Route: "/orders/{id}", Pairs: 40000, Diffs: 5000, DiffRate: 0.125, NoisyFields: 2,
			PrimaryP99: 18 * time.Millisecond, CandidateP99: 41 * time.Millisecond, CandidateErrors: 0,
			Fields: []Field{
				{Path: "$.updated_at", Diffs: 40000, Noise: 39990, IsNoise: true},
				{Path: "$.total", Diffs: 4800},
				{Path: "$.items[0].price", Diffs: 4800},
				{Path: "$.coupon", Diffs: 200},
				{Path: "header:Etag", Diffs: 40000, Noise: 40000, IsNoise: true},
			},
			Exemplars: []Exemplar{orderExemplar(), {
				Method: "GET", URL: "/orders/77", PrimaryStatus: 200, CandidateStatus: 200,
				PrimaryBody: `{"id":"77","total":10}`, CandidateBody: `{"id":"77","total":10.5}`,
				Differences: []Difference{{Path: "$.total", Kind: KindChanged, Primary: "10", Candidate: "10.5"}},
			}},
		},
		{Method: "GET", Route: "/menu", Pairs: 52000, Diffs: 0, PrimaryP99: 9 * time.Millisecond, CandidateP99: 8 * time.Millisecond},
		{Method: "GET", Route: "/orders", Pairs: 12000, Diffs: 36, DiffRate: 0.003, NoisyFields: 1,
			PrimaryP99: 35 * time.Millisecond, CandidateP99: 38 * time.Millisecond},
		{Method: "POST", Route: "/orders", Pairs: 3000, Diffs: 300, DiffRate: 0.1,
			PrimaryP99: 60 * time.Millisecond, CandidateP99: 140 * time.Millisecond, CandidateErrors: 7},
		{Method: "GET", Route: "/analytics/daily", Pairs: 800, Diffs: 8, DiffRate: 0.01,
			PrimaryP99: 210 * time.Millisecond, CandidateP99: 190 * time.Millisecond},
		{Method: "DELETE", Route: "/orders/{id}/items/{item}", Pairs: 150, Diffs: 0,
			PrimaryP99: 15 * time.Millisecond, CandidateP99: 16 * time.Millisecond},
		{Method: "GET", Route: "/healthz", Pairs: 9000, Diffs: 0, PrimaryP99: 800 * time.Microsecond, CandidateP99: 900 * time.Microsecond},
	}
}

// orderExemplar differs in every kind of way, and its candidate body tries
// to clear the screen.
func orderExemplar() Exemplar {
	return Exemplar{
		Method: "GET", URL: "/orders/42?expand=items",
		RequestBody:     "",
		PrimaryStatus:   200,
		CandidateStatus: 200,
		PrimaryBody:     `{"id":"42","total":12.5,"coupon":"SPRING","items":[{"sku":"A1","price":12.5}],"updated_at":"2025-03-14T11:59:00Z"}`,
		CandidateBody:   `{"id":42,"total":13,"discount":0.5,"items":[{"sku":"A1","price":13}],"note":"` + "\x1b[2J" + `","updated_at":"2025-03-14T11:59:01Z"}`,
		Differences: []Difference{
			{Path: "$.coupon", Kind: KindRemoved, Primary: `"SPRING"`},
			{Path: "$.discount", Kind: KindAdded, Candidate: "0.5"},
			{Path: "$.id", Kind: KindTypeChanged, Primary: `"42"`, Candidate: "42"},
			{Path: "$.items[0].price", Kind: KindChanged, Primary: "12.5", Candidate: "13"},
			{Path: "$.total", Kind: KindChanged, Primary: "12.5", Candidate: "13"},
		},
	}
}

// synthAt returns the runner's state i seconds into a staged run.
func synthAt(i int) *SynthSnapshot {
	target := 20.0 + float64(min(i, 10))*3 // ramps to 50
	achieved := target - float64(i%3)
	n := uint64(i)
	return &SynthSnapshot{
		Scenario:          "checkout",
		RunID:             "run-20250314-1200",
		Target:            "https://staging.shop.example",
		Started:           t0.Add(-90 * time.Second),
		Elapsed:           90*time.Second + time.Duration(i)*time.Second,
		Duration:          5 * time.Minute,
		TargetRate:        target,
		AchievedRate:      achieved,
		Ceiling:           60,
		InFlight:          14,
		JourneysStarted:   3000 + 50*n,
		JourneysCompleted: 2980 + 50*n,
		JourneysDropped:   4,
		Stage:             "stage 2/3",
		Progress:          (90 + float64(i)) / 300,
		Steps: []Step{
			{Journey: "buy", Name: "browse menu", Count: 3000, SuccessRate: 1, P50: 12 * time.Millisecond, P90: 25 * time.Millisecond, P99: 48 * time.Millisecond},
			{Journey: "buy", Name: "create order", Count: 2990, Errors: 12, SuccessRate: 0.996, P50: 35 * time.Millisecond, P90: 80 * time.Millisecond, P99: 210 * time.Millisecond},
			{Journey: "buy", Name: "pay", Count: 2978, Errors: 160, SuccessRate: 0.946, P50: 90 * time.Millisecond, P90: 300 * time.Millisecond, P99: 1200 * time.Millisecond},
			{Journey: "buy", Name: "check order status", Count: 2818, SuccessRate: 1, P50: 8 * time.Millisecond, P90: 15 * time.Millisecond, P99: 30 * time.Millisecond},
			{Journey: "buy", Name: "cancel (cleanup)", Count: 2818, Errors: 1, SuccessRate: 0.9996, P50: 20 * time.Millisecond, P90: 40 * time.Millisecond, P99: 95 * time.Millisecond},
			{Journey: "browse", Name: "search", Count: 1500, SuccessRate: 1, P50: 22 * time.Millisecond, P90: 51 * time.Millisecond, P99: 130 * time.Millisecond},
		},
		StatusCodes: map[string]uint64{"200": 14200, "201": 2990, "409": 12, "503": 160, "error": 1},
		AssertionFailures: []AssertionFailure{
			{Step: "pay", Message: "status is 200 (got 503)", Count: 160},
			{Step: "create order", Message: "$.synthetic is true", Count: 12},
		},
		Guardrail: Guardrail{State: GuardrailArmed, Reason: "error rate < 5%, p99 < 2s over 30s"},
	}
}

// tuningFixture is a proxy sampling half its users, with one of its
// routes switched off.
func tuningFixture() *Tuning {
	return &Tuning{
		SamplePercent: 50,
		SampleBy:      "header:X-User-Id",
		Routes: []MirrorRoute{
			{Name: "create-order"},
			{Name: "cancel-order", Disabled: true},
			{Name: "/orders/{id}"},
			{Name: "*"},
		},
	}
}

// script returns n snapshots, one per second from t0, built by mk.
func script(n int, mk func(i int) Snapshot) []Snapshot {
	out := make([]Snapshot, n)
	for i := range out {
		out[i] = mk(i)
		out[i].Time = t0.Add(time.Duration(i) * time.Second)
	}
	return out
}

func shadowScript(n int) []Snapshot {
	return script(n, func(i int) Snapshot { return Snapshot{Shadow: shadowAt(i)} })
}

func synthScript(n int) []Snapshot {
	return script(n, func(i int) Snapshot { return Snapshot{Synth: synthAt(i)} })
}

// tunedScript is shadowScript with the proxy's tuning reported.
func tunedScript(n int) []Snapshot {
	return script(n, func(i int) Snapshot {
		s := shadowAt(i)
		s.Tuning = tuningFixture()
		return Snapshot{Shadow: s}
	})
}

func bothScript(n int) []Snapshot {
	return script(n, func(i int) Snapshot { return Snapshot{Shadow: shadowAt(i), Synth: synthAt(i)} })
}
