package scenarios

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brianvoe/gofakeit/v7"

	"github.com/understudy-dev/understudy/stats"
	"github.com/understudy-dev/understudy/wire"
)

// RunnerOptions adjust how a Runner runs a scenario. The zero value runs
// the scenario as written.
type RunnerOptions struct {
	// Client sends the requests. Nil means a client with its own
	// connection pool sized for the scenario's max_in_flight, which does
	// not follow redirects (a 3xx is checked as it is).
	Client *http.Client `mapstructure:"-"`
	// Target, when set, replaces the scenario's target URL.
	Target string `mapstructure:"target"`
	// Rate, when above 0, replaces the scenario's rate or stages with this
	// constant rate, clamped to the ceiling.
	Rate float64 `mapstructure:"rate"`
	// Duration, when above 0, replaces the scenario's duration.
	Duration time.Duration `mapstructure:"duration"`
	// RunID tags every request of the run. Empty means a random id.
	RunID string `mapstructure:"run_id"`
	// Tags names the tag headers; the zero value uses the defaults.
	Tags Tags `mapstructure:"-"`
	// Seed makes fake data and journey choice reproducible; zero means the
	// scenario's seed, and if that is zero too, a random one.
	Seed uint64 `mapstructure:"-"`
	// Logger receives run events (start, rate changes, abort, end). Nil
	// means no logging.
	Logger *slog.Logger `mapstructure:"-"`
	// OnResult, when set, is called with every request a step sent, once
	// its answer was checked (steps that could not be sent are not
	// requests and are not reported). It is called from the journeys'
	// goroutines, concurrently, and holds up its journey's next step, so
	// it should be quick: hand the result to a channel and return. Nil
	// means no calls and no cost.
	OnResult func(StepResult) `mapstructure:"-"`
	// Share makes this runner one of several that share the load: it
	// runs Share.Count's part of every rate (and of the ceiling and of a
	// relative rate's max) and takes only its rows of every feeder. The
	// zero value runs it all.
	Share Share `mapstructure:"-"`
	// NoPreflight skips the request that checks, before the first
	// journey, that the target answers at all.
	NoPreflight bool `mapstructure:"no_preflight"`
	// Metrics answers the scenario's production queries (its relative
	// rate, its query guardrails) in place of the Prometheus servers it
	// names. Nil means those servers, asked with client_golang's API
	// client.
	Metrics MetricSource `mapstructure:"-"`
}

// Share is one runner's part of a load shared by Count runners, such as
// the pods of a Kubernetes Indexed Job: runner Index (0 to Count-1) runs
// 1/Count of the rate and takes feeder rows Index, Index+Count, ...
type Share struct {
	Index, Count int
}

// scale returns the runner's part of a rate: 1/Count, or 1.
func (sh Share) scale() float64 {
	if sh.Count > 1 {
		return 1 / float64(sh.Count)
	}
	return 1
}

// Runner runs one scenario once: it starts journeys as its pacer says,
// watches the guardrails, and can be paused, re-rated, stopped or killed
// from other goroutines while it runs. Create one with NewRunner.
//
// Like vegeta's Attacker, one goroutine owns the run's state: while Run
// runs, its loop holds it and takes the controls (Pause, Resume, SetRate,
// Stop, Kill, a guardrail's abort) as messages; see runState.
type Runner struct {
	plan        *plan
	rec         *recorder
	guard       *guardrail
	starts      *stats.Window // journey starts, for the current rate
	client      *http.Client
	transport   *wire.Transport // ours to close; nil with RunnerOptions.Client
	log         *slog.Logger
	onResult    func(StepResult)
	tags        Tags
	tagger      *tagger
	runID       string
	target      string
	timeout     time.Duration
	ceiling     float64
	duration    time.Duration
	maxInFlight int64
	seed        uint64
	preflight   bool
	live        []*liveQuery  // production queries: the relative rate's first
	relative    *relativeRate // nil unless the rate follows a query
	feeders     []*feeder     // by name
	rpc         *grpcTarget   // the gRPC steps' connection, while Run runs

	// token holds the run's state whenever no loop owns it: before Run and
	// after it. ctl carries controls to the loop while it owns it.
	token chan *runState
	ctl   chan control
	ran   atomic.Bool

	// Journeys in flight: the loop adds, each journey subtracts itself.
	inFlight atomic.Int64
	wg       sync.WaitGroup // journey goroutines (workers)
	jobs     chan journeyJob

	// Signals from the loop to the journeys, closed by the loop alone.
	paced chan struct{} // pacing ended: idle workers end
	halt  chan struct{} // abort or kill: journeys take no further steps
	kill  chan struct{} // kill: cleanups are skipped too
}

// NewRunner validates sc and prepares a run of it.
func NewRunner(sc *Scenario, opts RunnerOptions) (*Runner, error) {
	if err := checkOptions(sc, opts); err != nil {
		return nil, err
	}
	seed := opts.Seed
	if seed == 0 {
		seed = sc.Seed
	}
	if seed == 0 {
		seed = mrand.Uint64() | 1
	}
	p, probs := sc.compile(gofakeit.New(seed))
	if len(probs) > 0 {
		return nil, newValidationError(probs)
	}
	r := &Runner{
		plan:        p,
		rec:         newRecorder(p),
		guard:       newGuardrail(sc.Guardrails),
		starts:      stats.NewWindow(5 * time.Second),
		log:         opts.Logger,
		onResult:    opts.OnResult,
		tags:        opts.Tags.withDefaults(),
		runID:       opts.RunID,
		target:      strings.TrimRight(cmpOr(opts.Target, sc.Target), "/"),
		timeout:     sc.timeout(),
		ceiling:     sc.ceiling() * opts.Share.scale(),
		preflight:   !opts.NoPreflight,
		duration:    sc.duration(),
		maxInFlight: int64(sc.maxInFlight()),
		seed:        seed,
		token:       make(chan *runState, 1),
		ctl:         make(chan control),
		jobs:        make(chan journeyJob),
		paced:       make(chan struct{}),
		halt:        make(chan struct{}),
		kill:        make(chan struct{}),
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if r.runID == "" {
		r.runID = newRunID()
	}
	r.tagger = newTagger(r.tags, r.runID)
	if opts.Duration > 0 {
		r.duration = opts.Duration
	}
	scale := opts.Share.scale()
	sched := newSchedule(sc, scale)
	if opts.Rate > 0 {
		asked := opts.Rate * scale
		rate := min(asked, r.ceiling)
		if rate < asked {
			r.log.Warn("rate clamped to the ceiling", "asked", asked, "ceiling", r.ceiling)
		}
		sched = newConstant(rate)
	}
	live, rr, status, err := newLive(sc, opts, scale, r.ceiling)
	if err != nil {
		return nil, err
	}
	r.live, r.relative = live, rr
	r.feeders = newFeeders(p, opts.Share)
	r.token <- &runState{state: StateReady, seg: segment{sched: sched}, live: status}
	r.client = opts.Client
	if r.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// Keep a connection for every journey that may run at once. The
		// default's cap of 100 idle connections in all closed the extra
		// ones after every burst, and the next burst dialled them again:
		// at high rates that fed on itself until the run fell far behind.
		tr.MaxIdleConnsPerHost = int(r.maxInFlight)
		tr.MaxIdleConns = 0
		tr.DialContext = limitDials(tr.DialContext, maxDials)
		// The scenario's TLS settings and protocol, by wire as shadow's
		// upstreams.
		scheme, _, _ := strings.Cut(r.target, "://")
		var err error
		if r.transport, err = wire.NewTransport(tr, sc.TLS, sc.Protocol.Protocols(scheme, 0)); err != nil {
			return nil, fmt.Errorf("new runner: tls: %w", err)
		}
		r.client = &http.Client{
			Transport:     r.transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return r, nil
}

func checkOptions(sc *Scenario, opts RunnerOptions) error {
	if sc == nil {
		return errors.New("new runner: no scenario")
	}
	v := &validator{s: &Scenario{}}
	if math.IsNaN(opts.Rate) || opts.Rate < 0 {
		v.add("Rate", "want a rate of 0 (the scenario's) or more, got %v", opts.Rate)
	}
	if opts.Duration < 0 {
		v.add("Duration", "must not be negative, got %v", opts.Duration)
	}
	if opts.Target != "" {
		v.target("Target", opts.Target)
		scheme, _, _ := strings.Cut(opts.Target, "://")
		if err := sc.Protocol.Validate(scheme); err != nil {
			v.add("Target", "the scenario's protocol: %v", err)
		}
		if !sc.TLS.IsZero() && scheme != "https" {
			v.add("Target", "the scenario has a tls block, but %q is not an https:// URL", opts.Target)
		}
	}
	if sh := opts.Share; sh.Count < 0 || sh.Index < 0 || (sh.Count > 0 && sh.Index >= sh.Count) || (sh.Count == 0 && sh.Index != 0) {
		v.add("Share", "want runner Index 0 to Count-1 of Count runners, got %d of %d", sh.Index, sh.Count)
	}
	if len(v.probs) > 0 {
		return fmt.Errorf("runner options: %w", newValidationError(v.probs))
	}
	return nil
}

func newRunID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// RunID returns the id every request of the run is tagged with.
func (r *Runner) RunID() string { return r.runID }
