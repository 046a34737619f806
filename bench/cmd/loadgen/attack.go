package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/understudy-dev/understudy/bench"
	"github.com/understudy-dev/understudy/stats"
)

// config is one loadgen invocation's settings.
type config struct {
	rate              float64
	duration, warmup  time.Duration
	rounds            int
	group, path       string
	maxInFlight       int
	timeout, pollEach time.Duration
	settle            time.Duration
	// roots, when set, are the CAs trusted for https:// targets (-ca)
	// instead of the system's.
	roots *x509.CertPool
}

func (c config) validate() error {
	switch {
	case c.rate < 1:
		return fmt.Errorf("-rate: must be at least 1, got %v", c.rate)
	case c.duration <= 0:
		return fmt.Errorf("-duration: must be positive, got %s", c.duration)
	case c.warmup < 0:
		return fmt.Errorf("-warmup: must not be negative, got %s", c.warmup)
	case c.rounds < 1:
		return fmt.Errorf("-rounds: must be at least 1, got %d", c.rounds)
	case c.maxInFlight < 1:
		return fmt.Errorf("-max-in-flight: must be at least 1, got %d", c.maxInFlight)
	case c.timeout <= 0:
		return fmt.Errorf("-timeout: must be positive, got %s", c.timeout)
	case c.settle < 0 || c.settle > time.Minute:
		return fmt.Errorf("-settle: must be from 0 to 1m, got %s", c.settle)
	}
	return nil
}

// tally is what one window's requests add up to.
type tally struct {
	lat                       stats.Histogram
	sent, ok, errors, skipped atomic.Int64
}

// newClient returns a client with its own connection pool, speaking
// proto (see target.proto) to https:// URLs.
func newClient(cfg config, proto string) (*http.Client, func()) {
	transport := &http.Transport{
		MaxIdleConnsPerHost: cfg.maxInFlight,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		TLSClientConfig:     &tls.Config{RootCAs: cfg.roots},
		ForceAttemptHTTP2:   true,
	}
	switch proto {
	case "h1": // a non-nil empty map: h2 is never offered in ALPN
		transport.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	case "h2":
		transport.Protocols = new(http.Protocols)
		transport.Protocols.SetHTTP2(true)
	}
	return &http.Client{Transport: transport}, transport.CloseIdleConnections
}

// urls returns the URL of request n to t.
func (t target) urls(cfg config) func(n uint64) string {
	path := cfg.path
	if t.path != "" {
		path = t.path
	}
	if t.spread == 0 {
		u := t.url + path
		return func(uint64) string { return u }
	}
	paths := make([]string, t.spread)
	for k := range paths {
		paths[k] = t.url + spreadPath(k) + path
	}
	return func(n uint64) string { return paths[n%uint64(len(paths))] }
}

// measure runs one cell: a warm-up, then the measured window, with a fresh
// connection pool that is closed afterwards. With pids, it reads their CPU
// time at the start of the window and once they are idle after it; with a
// beside load, that load runs from the start of the warm-up to the end of
// the window, on its own connections.
func measure(ctx context.Context, cfg config, t target) (bench.LatencyRecord, error) {
	client, closeIdle := newClient(cfg, t.proto)
	defer closeIdle()
	urlFor := t.urls(cfg)

	var beside tally
	besideDone := make(chan struct{})
	if t.besidePath != "" {
		bcfg := cfg
		bcfg.rate = t.besideRate
		bclient, bclose := newClient(cfg, t.proto)
		defer bclose()
		burl := t.url + t.besidePath
		go func() {
			defer close(besideDone)
			attack(ctx, bcfg, bclient, func(uint64) string { return burl }, cfg.warmup+cfg.duration, &beside, false)
		}()
	} else {
		close(besideDone)
	}

	if cfg.warmup > 0 {
		var warm tally
		attack(ctx, cfg, client, urlFor, cfg.warmup, &warm, true)
	}
	var before bench.ShadowCounters
	if t.admin != "" {
		var err error
		if before, err = t.counters(ctx); err != nil {
			return bench.LatencyRecord{}, err
		}
	}
	var cpu0 bench.ProcessCPU
	if len(t.pids) > 0 {
		var err error
		if cpu0, err = bench.ReadCPUs(t.pids); err != nil {
			return bench.LatencyRecord{}, err
		}
	}
	var deepest int
	pollCtx, stopPoll := context.WithCancel(ctx)
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		if t.admin != "" && cfg.pollEach > 0 {
			deepest = t.pollDepth(pollCtx, cfg.pollEach)
		}
	}()
	var w tally
	attack(ctx, cfg, client, urlFor, cfg.duration, &w, true)
	stopPoll()
	<-polled
	<-besideDone
	if err := ctx.Err(); err != nil {
		return bench.LatencyRecord{}, err
	}
	s := w.lat.Summary()
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	group := cfg.group
	if t.group != "" {
		group = t.group
	}
	rec := bench.LatencyRecord{
		Group: group, Target: t.name, Rate: cfg.rate, DurationS: cfg.duration.Seconds(),
		Sent: w.sent.Load(), OK: w.ok.Load(), Errors: w.errors.Load(), Skipped: w.skipped.Load(),
		P50us: us(s.P50), P90us: us(s.P90), P99us: us(s.P99), MaxUs: us(s.Max), MeanUs: us(s.Mean),
	}
	if t.besidePath != "" {
		rec.Beside = &bench.BesideLoad{
			Path: t.besidePath, Rate: t.besideRate,
			Sent: beside.sent.Load(), OK: beside.ok.Load(), Errors: beside.errors.Load() + beside.skipped.Load(),
			P50us: us(beside.lat.Quantile(0.5)),
		}
	}
	if len(t.pids) > 0 {
		settled, cpu1, err := settle(ctx, t.pids, cfg.settle)
		if err != nil {
			return bench.LatencyRecord{}, err
		}
		used := cpu0.Used(cpu1, len(t.pids))
		rec.CPUus, rec.Procs, rec.SettleS = us(used), len(t.pids), settled.Seconds()
		rec.CPUSource = "stat"
		if used != cpu1.Stat-cpu0.Stat {
			rec.CPUSource = "schedstat"
		}
	}
	if t.admin != "" {
		after, err := t.counters(ctx)
		if err != nil {
			return bench.LatencyRecord{}, err
		}
		d := before.Delta(after)
		d.MaxQueueDepth = deepest
		rec.Mirror = &d
	}
	return rec, nil
}

// settleEvery is how often settle looks at the CPU time; settleIdle is
// the most CPU per interval that counts as idle (5% of a core).
const (
	settleEvery = 50 * time.Millisecond
	settleIdle  = settleEvery / 20
)

// settle waits, at most limit, until pids have been idle for two
// intervals in a row (copies still queued or being judged have finished),
// and returns how long it waited and their CPU time then.
func settle(ctx context.Context, pids []int, limit time.Duration) (time.Duration, bench.ProcessCPU, error) {
	began := time.Now()
	prev, err := bench.ReadCPUs(pids)
	if err != nil || limit <= 0 {
		return 0, prev, err
	}
	idle := 0
	for time.Since(began) < limit && idle < 2 && ctx.Err() == nil {
		time.Sleep(settleEvery)
		cur, err := bench.ReadCPUs(pids)
		if err != nil {
			return 0, prev, err
		}
		if prev.Used(cur, len(pids)) <= settleIdle {
			idle++
		} else {
			idle = 0
		}
		prev = cur
	}
	return time.Since(began), prev, nil
}

// attack sends GETs at cfg.rate for d and waits for their answers (each
// bounded by cfg.timeout); request n goes to urlFor(n). Request n is due
// at (n+1)/rate after the start, the schedule of vegeta's ConstantPacer,
// and its latency runs from that due time to the end of its body. With
// precise, the pacing goroutine sleeps with nanosleep on a locked thread
// (see lockPacer); a beside load paces with the runtime's timers.
func attack(ctx context.Context, cfg config, client *http.Client, urlFor func(uint64) string, d time.Duration, w *tally, precise bool) {
	pacer := vegeta.ConstantPacer{Freq: int(cfg.rate), Per: time.Second}
	interval := time.Duration(float64(time.Second) / float64(pacer.Freq))
	var inFlight atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	sleep := time.Sleep
	if precise {
		defer lockPacer()()
		sleep = sleepFor
	}
	began := time.Now()
	for hits := uint64(0); ; hits++ {
		due := began.Add(time.Duration(hits+1) * interval)
		if due.Sub(began) > d || ctx.Err() != nil {
			return
		}
		wait, stop := pacer.Pace(time.Since(began), hits)
		if stop {
			return
		}
		sleep(wait)
		w.sent.Add(1)
		if inFlight.Load() >= int64(cfg.maxInFlight) {
			w.skipped.Add(1)
			continue
		}
		inFlight.Add(1)
		wg.Add(1)
		url := urlFor(hits)
		go func() {
			defer wg.Done()
			defer inFlight.Add(-1)
			if hit(ctx, client, url, cfg.timeout) {
				w.lat.Record(time.Since(due))
				w.ok.Add(1)
			} else {
				w.errors.Add(1)
			}
		}()
	}
}

// hit sends one GET and reads the whole answer; it reports whether the
// answer was a 200.
func hit(ctx context.Context, client *http.Client, url string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err == nil && resp.StatusCode == http.StatusOK
}
