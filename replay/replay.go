package replay

import (
	"context"
	"errors"
	"iter"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// Stats counts what a replay did.
type Stats struct {
	// Read exchanges came from the source.
	Read int64
	// Skipped ones were not sent: their method is unsafe and Unsafe is
	// off, or they belong to a mirrored WebSocket connection (its upgrade
	// or a message: a connection is not replayed request by request).
	Skipped int64
	// Sent requests got an answer or an error, and were observed.
	Sent int64
	// Failed is the part of Sent that got no complete answer.
	Failed int64
	// Abandoned requests were cut short by the end of Run's context and
	// were not observed.
	Abandoned int64
	// Passes counts the passes over the records that began: 1 without
	// Config.Loop.
	Passes int64
}

// Replayer re-sends recorded requests. Create one with New; Run may be
// called more than once, not concurrently.
type Replayer struct {
	cfg       Config
	base      string
	client    *http.Client
	transport *http.Transport // ours to close; nil with Config.Client
}

// New validates cfg and prepares a replayer.
func New(cfg Config) (*Replayer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.MarkerHeader == "" {
		cfg.MarkerHeader = DefaultMarkerHeader
	}
	if cfg.MarkerValue == "" {
		cfg.MarkerValue = DefaultMarkerValue
	}
	r := &Replayer{cfg: cfg, base: strings.TrimRight(cfg.Candidate, "/"), client: cfg.Client}
	if r.client == nil {
		r.transport = http.DefaultTransport.(*http.Transport).Clone()
		r.transport.DisableCompression = true
		r.transport.MaxIdleConnsPerHost = cfg.Workers
		r.client = &http.Client{
			Transport:     newGRPCTransport(r.transport), // gRPC over HTTP/2: see grpc.go
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return r, nil
}

// Close releases the replayer's idle connections. It is safe to call
// more than once.
func (r *Replayer) Close() error {
	if r.transport != nil {
		r.client.Transport.(*grpcTransport).CloseIdleConnections() // r.transport's and its h2c clone's
	}
	return nil
}

// Run sends the request of every exchange from records to the candidate,
// paced (Rate, or Speed for the recorded timing) and at most Workers at a
// time, and calls observe with an exchange that holds the recorded
// request, route and primary answer (and the secondary with KeepSecondary)
// and the candidate's new answer. observe is called from the worker
// goroutines, concurrently; it owns the exchange. The records are not
// modified. With Loop, records is ranged over again for each pass.
//
// Run returns when every record was replayed (every pass, with Loop), when
// Duration has passed or Count requests were sent, and then the requests
// in flight finish first; or when ctx ends: then no further request
// starts, those in flight are cancelled and not observed
// (Stats.Abandoned), and the error is ctx's.
func (r *Replayer) Run(ctx context.Context, records iter.Seq[*exchange.Exchange], observe func(*exchange.Exchange)) (Stats, error) {
	var (
		st      Stats
		sent    atomic.Int64
		failed  atomic.Int64
		aborted atomic.Int64
		wg      sync.WaitGroup
	)
	jobs := make(chan *exchange.Exchange)
	for range r.cfg.Workers {
		wg.Go(func() {
			for x := range jobs {
				out, ok := r.send(ctx, x)
				if !ok {
					aborted.Add(1)
					continue
				}
				sent.Add(1)
				if !out.Candidate.OK() {
					failed.Add(1)
				}
				observe(out)
			}
		})
	}
	s := schedule{cfg: r.cfg, pacer: newPacer(r.cfg), began: time.Now(), timer: time.NewTimer(time.Hour)}
	s.timer.Stop()
	for {
		st.Passes++
		before := s.hits
		for x := range records {
			if s.done(ctx) {
				break
			}
			st.Read++
			if x.WebSocket != nil || !r.cfg.Unsafe && !safeMethod(x.Request.Method) && !unaryGRPC(&x.Request) {
				st.Skipped++
				continue
			}
			if !s.start(ctx, x.Request.Received) {
				break
			}
			select {
			case jobs <- x:
				s.hits++
			case <-ctx.Done():
			}
		}
		if !r.cfg.Loop || s.hits == before || s.done(ctx) {
			break
		}
	}
	s.timer.Stop()
	close(jobs)
	wg.Wait()
	st.Sent, st.Failed, st.Abandoned = sent.Load(), failed.Load(), aborted.Load()
	return st, ctx.Err()
}

// schedule is the state of Run's pacing loop.
type schedule struct {
	cfg   Config
	pacer pacer
	began time.Time
	timer *time.Timer
	hits  uint64 // requests handed to a worker
	ended bool   // Duration passed or the pacer stopped
}

// start waits until the request of a record received at received is due,
// and reports whether it may start: false once ctx is done, or when
// Duration passes before it is due or the pacer stops.
func (s *schedule) start(ctx context.Context, received time.Time) bool {
	s.pacer.record(received)
	elapsed := time.Since(s.began)
	wait, stop := s.pacer.Pace(elapsed, s.hits)
	if stop || s.cfg.Duration > 0 && elapsed+wait >= s.cfg.Duration {
		s.ended = true
		return false
	}
	if wait > 0 {
		s.timer.Reset(wait)
		select {
		case <-s.timer.C:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// done reports whether no further request may start.
func (s *schedule) done(ctx context.Context) bool {
	return s.ended || ctx.Err() != nil || s.cfg.Count > 0 && s.hits >= uint64(s.cfg.Count)
}

// safeMethod reports whether replaying m cannot have side effects.
func safeMethod(m string) bool {
	switch strings.ToUpper(m) {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// send replays x's request and joins the answer with x's recorded ones;
// ok is false when ctx ended first.
func (r *Replayer) send(ctx context.Context, x *exchange.Exchange) (*exchange.Exchange, bool) {
	out := &exchange.Exchange{Request: x.Request, Route: x.Route, Primary: x.Primary}
	if r.cfg.KeepSecondary {
		out.Secondary = x.Secondary
	}
	out.Candidate = exchange.Response{Side: exchange.Candidate}
	rctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, injected, err := r.request(rctx, &x.Request, liveInjections(x))
	if err != nil {
		out.Candidate.Error = err.Error()
		return out, true
	}
	out.Candidate.Injected = injected
	start := time.Now()
	resp, err := r.client.Do(req)
	if err == nil {
		err = r.read(resp, &out.Candidate)
	}
	out.Candidate.Latency = time.Since(start)
	if ctx.Err() != nil {
		return nil, false
	}
	if err != nil {
		out.Candidate.Error = err.Error()
		out.Candidate.Timeout = errors.Is(err, context.DeadlineExceeded) || isTimeout(err)
	}
	return out, true
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
