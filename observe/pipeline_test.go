package observe

import (
	"bytes"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/understudy-dev/understudy/capture"
	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/exchange"
)

func newPipeline(t *testing.T, cfg Config) *Pipeline {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A stalled writer never holds up the proxy's workers: every Observe
// returns while the writer is blocked, what does not fit the queue is
// dropped and counted, and the rest is written at Close.
func TestPipelineNeverWaitsForTheWriter(t *testing.T) {
	t.Parallel()
	engine := newEngine(t)
	w := &slowWriter{release: make(chan struct{})}
	const queue, sent = 3, 20
	p := newPipeline(t, Config{Judge: engine, Writer: w, Dir: "slow", QueueSize: queue})
	observed := make(chan struct{})
	go func() {
		defer close(observed)
		for i := range sent {
			p.Observe(jsonExchange(fmt.Sprint(i), `{"a": 1}`, `{"a": 2}`))
		}
	}()
	select {
	case <-observed:
	case <-time.After(30 * time.Second):
		close(w.release)
		t.Fatal("Observe waited for a stalled writer")
	}
	// The writer holds at most one record, the queue the next few.
	st := p.Stats()
	if d := st.Dropped; d < sent-queue-1 || d > sent-queue {
		t.Errorf("dropped %d, want %d or %d", d, sent-queue-1, sent-queue)
	}
	if got := engine.Report().Totals.Pairs; got != sent || st.Judged != sent {
		t.Errorf("engine judged %d exchanges (counted %d), want all %d: dropping a record must not drop the judgement", got, st.Judged, sent)
	}
	close(w.release)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	st = p.Stats()
	if got, want := st.Written+st.Dropped, int64(sent); got != want {
		t.Errorf("written %d + dropped %d = %d, want %d", st.Written, st.Dropped, got, want)
	}
	if !strings.Contains(p.Summary(), fmt.Sprintf("%d dropped", st.Dropped)) {
		t.Errorf("summary %q does not show the dropped count", p.Summary())
	}
	// After Close, late exchanges are counted, not sent on a closed queue.
	p.Observe(jsonExchange("late", `{}`, `{}`))
	if err := p.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// A record carries the verdict with body paths as capture documents
// them, noise apart; the engine sees a redacted copy, the writer the
// original (it redacts itself), and the caller's exchange is untouched.
func TestPipelineRecordsVerdictAndRedactsForTheEngine(t *testing.T) {
	t.Parallel()
	engine := newEngine(t)
	w := &slowWriter{release: make(chan struct{})}
	close(w.release)
	p := newPipeline(t, Config{Judge: engine, Writer: w, Dir: "mem", QueueSize: 10})
	var judged []*exchange.Exchange
	p.OnJudged(func(x *exchange.Exchange, _ compare.Result) { judged = append(judged, x) })
	x := jsonExchange("1", `{"price": 1, "eta": 5, "password": "pw-1"}`, `{"price": 2, "eta": 6, "password": "pw-2"}`)
	x.Secondary = &exchange.Response{Side: exchange.Secondary, Status: 200, Header: x.Primary.Header,
		Body: []byte(`{"price": 1, "eta": 7, "password": "pw-3"}`)}
	p.Observe(x)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if len(w.got) != 1 || len(judged) != 1 {
		t.Fatalf("wrote %d records and reported %d judged, want 1 each", len(w.got), len(judged))
	}
	rec := w.got[0]
	if rec.Endpoint != "GET /items/{id}" || !rec.Differs ||
		!slices.Equal(rec.Diffs, []string{"body.$.price"}) || !slices.Equal(rec.Noise, []string{"body.$.eta"}) {
		t.Errorf("record = endpoint %q differs %v diffs %q noise %q; want GET /items/{id}, true, [body.$.price], [body.$.eta]",
			rec.Endpoint, rec.Differs, rec.Diffs, rec.Noise)
	}
	if got := x.Request.Header.Get("Authorization"); got != "Bearer s3cret-token" || !bytes.Contains(x.Primary.Body, []byte("pw-1")) {
		t.Errorf("the caller's exchange was modified: %q, %s", got, x.Primary.Body)
	}
	var shown bytes.Buffer
	if err := engine.Report().WriteJSON(&shown); err != nil {
		t.Fatal(err)
	}
	if got := judged[0].Request.Header.Get("Authorization"); got != capture.Redacted {
		t.Errorf("OnJudged saw Authorization %q, want it redacted", got)
	}
	for _, secret := range []string{"s3cret", "pw-1", "pw-2", "pw-3"} {
		if strings.Contains(shown.String(), secret) {
			t.Errorf("the engine's report shows %q:\n%s", secret, shown.String())
		}
	}
}

// No more than Judges exchanges are judged at once, however many workers
// observe; an exchange that finds them all busy waits JudgeWait, then is
// dropped and counted, so a worker is never held longer.
func TestPipelineBoundsConcurrentJudges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const judgesN, workers = 2, 16
		j := &countingJudge{engine: newEngine(t), hold: make(chan struct{})}
		p := newPipeline(t, Config{Judge: j, Judges: judgesN, JudgeWait: 100 * time.Millisecond})
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() { p.Observe(jsonExchange(strconv.Itoa(i), `{"a":1}`, `{"a":1}`)) })
		}
		synctest.Wait() // two judging, the rest waiting for a judge
		if got := j.active.Load(); got != judgesN {
			t.Errorf("%d judging at once, want %d", got, judgesN)
		}
		time.Sleep(100 * time.Millisecond) // the waiters give up
		synctest.Wait()
		if st := p.Stats(); st.Busy != workers-judgesN || st.Judged != 0 {
			t.Errorf("stats %+v, want %d busy and none judged yet", st, workers-judgesN)
		}
		close(j.hold)
		wg.Wait()
		st := p.Stats()
		if st.Judged != judgesN || st.Busy != workers-judgesN || j.most.Load() != judgesN {
			t.Errorf("stats %+v, most judging at once %d; want %d judged, %d busy, at most %d at once",
				st, j.most.Load(), judgesN, workers-judgesN, judgesN)
		}
		if want := fmt.Sprintf("judge: %d exchanges dropped unjudged (all %d judges busy)", workers-judgesN, judgesN); p.Summary() != want {
			t.Errorf("summary %q, want %q", p.Summary(), want)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// Judges waiting their turn within JudgeWait all get judged: the bound
// delays, it does not drop, when judging keeps up.
func TestPipelineJudgesInTurn(t *testing.T) {
	t.Parallel()
	j := &countingJudge{engine: newEngine(t)}
	p := newPipeline(t, Config{Judge: j, Judges: 1, JudgeWait: time.Minute})
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() { p.Observe(jsonExchange(strconv.Itoa(i), `{"a":1}`, `{"a":2}`)) })
	}
	wg.Wait()
	if st := p.Stats(); st.Judged != 64 || st.Busy != 0 || j.most.Load() != 1 {
		t.Errorf("stats %+v, most at once %d; want 64 judged one at a time", st, j.most.Load())
	}
}

func TestDefaultJudges(t *testing.T) {
	if got, want := DefaultJudges(), max(1, runtime.GOMAXPROCS(0)-1); got != want {
		t.Errorf("DefaultJudges() = %d, want %d", got, want)
	}
	p := newPipeline(t, Config{Judge: newEngine(t)})
	if cap(p.judges.slots) != DefaultJudges() || p.judges.wait != DefaultJudgeWait {
		t.Errorf("zero Config: %d judges, wait %v; want %d, %v", cap(p.judges.slots), p.judges.wait, DefaultJudges(), DefaultJudgeWait)
	}
}

// A record the capture writer refuses as too large is counted apart from
// write failures, which would fail the run.
func TestPipelineCountsTooLargeRecords(t *testing.T) {
	t.Parallel()
	w, err := capture.NewWriter(capture.WriterOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	p := newPipeline(t, Config{Judge: newEngine(t), Writer: w, Dir: "dir"})
	wide := jsonExchange("wide", `{}`, `{}`)
	wide.Request.Header = http.Header{}
	for i := range capture.MaxRecordEntries {
		wide.Request.Header["X-"+strconv.Itoa(i)] = []string{"v"}
	}
	p.Observe(wide)
	p.Observe(jsonExchange("ok", `{}`, `{}`))
	if err := p.Close(); err != nil {
		t.Fatalf("Close = %v, want nil: a refused record is not a failure", err)
	}
	if st := p.Stats(); st.TooLarge != 1 || st.Written != 1 || st.Failed != 0 {
		t.Errorf("stats %+v, want one too large and one written", st)
	}
	if !strings.Contains(p.Summary(), "1 too large") {
		t.Errorf("summary %q does not count the refused record", p.Summary())
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"zero judge", Config{}, "Judge"},
		{"queue", Config{Judge: e, QueueSize: -1}, "QueueSize"},
		{"judges", Config{Judge: e, Judges: -1}, "Judges"},
		{"wait", Config{Judge: e, JudgeWait: -time.Second}, "JudgeWait"},
		{"redactor", Config{Judge: e, Redactor: &capture.Redactor{Key: []byte("short")}}, "key: has 5 bytes"},
		{"ok", Config{Judge: e}, ""},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Validate() = %v, want an error naming %q", tt.name, err, tt.want)
		}
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New accepted a Config without Judge")
	}
}
