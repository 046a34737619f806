package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/understudy-dev/understudy/bench"
)

// config is one slowclient invocation's settings.
type config struct {
	url, mode, target       string
	metrics                 string
	conns, watch, round     int
	body                    int64
	duration, answerTimeout time.Duration
}

// Bounds of a run.
const (
	maxConns    = 5000
	maxBody     = 64 << 20
	maxDuration = 5 * time.Minute
	slices      = 16 // a body is sent in this many writes
	sampleEvery = 100 * time.Millisecond
)

func (c config) validate() error {
	u, err := url.Parse(c.url)
	switch {
	case err != nil || u.Scheme != "http" || u.Host == "":
		return fmt.Errorf("-url %q: want http://HOST:PORT/PATH", c.url)
	case c.conns < 1 || c.conns > maxConns:
		return fmt.Errorf("-conns: want 1 to %d, got %d", maxConns, c.conns)
	case c.body < 2 || c.body > maxBody:
		return fmt.Errorf("-body: want 2 to %d bytes, got %d", maxBody, c.body)
	case c.duration <= 0 || c.duration > maxDuration:
		return fmt.Errorf("-duration: want above 0 and at most %s, got %s", maxDuration, c.duration)
	case c.mode != "body" && c.mode != "hold":
		return fmt.Errorf("-mode: want body or hold, got %q", c.mode)
	case c.answerTimeout <= 0:
		return fmt.Errorf("-answer-timeout: must be positive, got %s", c.answerTimeout)
	case c.watch <= 0:
		return fmt.Errorf("-watch: a process id is required")
	}
	return nil
}

// upload runs the connections while sampling the watched process.
func upload(ctx context.Context, cfg config) (bench.UploadRecord, error) {
	u, _ := url.Parse(cfg.url)
	rec := bench.UploadRecord{
		Target: cfg.target, Mode: cfg.mode, Round: cfg.round, Conns: cfg.conns,
		BodyBytes: cfg.body, DurationS: cfg.duration.Seconds(), Statuses: map[string]int{}, Errors: map[string]int{},
	}
	idle, _, err := bench.ReadRSS(cfg.watch)
	if err != nil {
		return rec, err
	}
	cpu0, err := bench.ReadCPU(cfg.watch)
	if err != nil {
		return rec, err
	}
	rec.IdleKB = idle

	sampleCtx, stopSampling := context.WithCancel(ctx)
	var peak, peakHeap atomic.Int64
	peak.Store(idle)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(sampleEvery)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-sampleCtx.Done():
				return
			case <-tick.C:
				if rss, _, err := bench.ReadRSS(cfg.watch); err == nil && rss > peak.Load() {
					peak.Store(rss)
				}
				if cfg.metrics != "" && i%5 == 0 {
					if kb, err := heapInUse(sampleCtx, cfg.metrics); err == nil && kb > peakHeap.Load() {
						peakHeap.Store(kb)
					}
				}
			}
		}
	}()

	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n",
		u.RequestURI(), u.Host, cfg.body)
	body := bytes.Repeat([]byte("x"), int(cfg.body))
	began := time.Now()
	end := began.Add(cfg.duration)
	ramp := cfg.duration / 10
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < cfg.conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sleepUntil(ctx, began.Add(ramp*time.Duration(i)/time.Duration(cfg.conns)))
			status, opened, err := one(ctx, cfg, u.Host, head, body, end)
			mu.Lock()
			defer mu.Unlock()
			if opened {
				rec.Opened++
			}
			switch {
			case status != "":
				rec.Answered++
				rec.Statuses[status]++
			case err != nil:
				rec.Failed++
				rec.Errors[errorKind(err)]++
			}
		}()
	}
	wg.Wait()
	stopSampling()
	<-sampled
	if err := ctx.Err(); err != nil {
		return rec, err
	}
	rss, hwm, err := bench.ReadRSS(cfg.watch)
	if err != nil {
		return rec, err
	}
	cpu1, err := bench.ReadCPU(cfg.watch)
	if err != nil {
		return rec, err
	}
	rec.PeakKB, rec.EndKB, rec.HWMKB, rec.PeakHeapKB = max(peak.Load(), rss), rss, hwm, peakHeap.Load()
	rec.CPUus = float64(cpu0.Used(cpu1, 1)) / float64(time.Microsecond)
	return rec, nil
}

// one is one slow uploader. It returns the answer's status code ("" when
// none was read), whether it connected, and what broke it.
func one(ctx context.Context, cfg config, host, head string, body []byte, end time.Time) (string, bool, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return "", false, err
	}
	defer conn.Close()
	// Nothing may outlive the run: every read and write ends by then.
	_ = conn.SetDeadline(end.Add(cfg.answerTimeout))
	if _, err := conn.Write([]byte(head)); err != nil {
		return "", true, err
	}
	if cfg.mode == "hold" {
		if _, err := conn.Write(body[:1]); err != nil {
			return "", true, err
		}
		sleepUntil(ctx, end)
		return "", true, nil
	}
	start := time.Now()
	each := (len(body) + slices - 1) / slices
	for i, off := 0, 0; off < len(body); i, off = i+1, off+each {
		sleepUntil(ctx, start.Add(end.Sub(start)*time.Duration(i)/slices))
		if _, err := conn.Write(body[off:min(off+each, len(body))]); err != nil {
			return "", true, err
		}
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", true, err
	}
	res.Body.Close()
	return strconv.Itoa(res.StatusCode), true, nil
}

// metricsClient scrapes the target's metrics, on connections of its own.
var metricsClient = &http.Client{Timeout: 2 * time.Second}

// heapInUse reads go_memstats_heap_inuse_bytes from a Prometheus text
// page, in kB.
func heapInUse(ctx context.Context, url string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	res, err := metricsClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(res.Body, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("go_memstats_heap_inuse_bytes %q: %w", v, err)
			}
			return int64(f / 1024), nil
		}
	}
	return 0, fmt.Errorf("%s: no go_memstats_heap_inuse_bytes", url)
}

// errorKind names what broke a connection without its addresses:
// "write: connection reset by peer", "read: i/o timeout", "EOF".
func errorKind(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Op + ": " + op.Err.Error()
	}
	return err.Error()
}

// sleepUntil sleeps until t or until ctx ends.
func sleepUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}
