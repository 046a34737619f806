package observe

import (
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
)

// slowWriter is a capture writer that blocks every write until release
// is closed, like a stalled disk.
type slowWriter struct {
	release chan struct{}
	mu      sync.Mutex
	got     []*capture.ExchangeRecord
}

func (w *slowWriter) WriteExchange(r *capture.ExchangeRecord) error {
	<-w.release
	w.mu.Lock()
	w.got = append(w.got, r)
	w.mu.Unlock()
	return nil
}
func (w *slowWriter) Close() error    { return nil }
func (w *slowWriter) Files() []string { return nil }

// countingJudge wraps the real engine and counts the judges at work, with
// the most seen at once. When hold is set, each judgement waits for it.
type countingJudge struct {
	engine       *compare.Engine
	hold         chan struct{}
	active, most atomic.Int64
}

func (j *countingJudge) Record(x *exchange.Exchange) compare.Result {
	n := j.active.Add(1)
	for {
		m := j.most.Load()
		if n <= m || j.most.CompareAndSwap(m, n) {
			break
		}
	}
	defer j.active.Add(-1)
	if j.hold != nil {
		<-j.hold
	}
	return j.engine.Record(x)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func jsonExchange(id, primary, candidate string) *exchange.Exchange {
	h := http.Header{"Content-Type": {"application/json"}}
	return &exchange.Exchange{
		Request:   exchange.Request{ID: id, Method: "GET", URL: "/items/1", Header: http.Header{"Authorization": {"Bearer s3cret-token"}}},
		Primary:   exchange.Response{Side: exchange.Primary, Status: 200, Header: h, Body: []byte(primary)},
		Candidate: exchange.Response{Side: exchange.Candidate, Status: 200, Header: h, Body: []byte(candidate)},
	}
}

func newEngine(t interface{ Fatal(...any) }) *compare.Engine {
	e, err := compare.New(compare.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
