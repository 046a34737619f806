package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// seen is one request as the fake service received it.
type seen struct {
	Method, Path string
	Header       http.Header
	Seq          int // arrival order, over requests and pre-flights
}

// fakeShop is a small order service on loopback that records every
// request. Its knobs make it misbehave on purpose.
type fakeShop struct {
	URL string

	// status overrides the answer of POST /orders when not 0.
	status int
	// orderStatus is the "status" field of new orders ("placed" if empty).
	orderStatus string
	// delay holds every answer this long; hook and after, when set, see
	// every request before the delay and once it was answered.
	delay       time.Duration
	hook, after func(*http.Request)
	// block makes every request wait until release is closed or the
	// client gives up.
	block   bool
	release chan struct{}

	mu         sync.Mutex
	requests   []seen
	preflights []seen // HEAD / requests, kept apart
	arrivals   int
	orders     map[string]string // id -> status
	journeys   map[string]int    // X-Synthetic-Journey -> requests
	seq        int
	arrived    chan struct{} // one token per request, never blocks
}

func newFakeShop(t testing.TB, opts ...func(*fakeShop)) *fakeShop {
	t.Helper()
	f := makeShop(opts)
	srv := httptest.NewServer(f.handler())
	t.Cleanup(func() {
		f.unblock()
		srv.Close()
	})
	f.URL = srv.URL
	return f
}

// newMemShop starts the shop on an in-memory network, for tests in a
// synctest bubble (call it inside the bubble): requests take no time
// unless the shop's delay says so, and the bubble's clock jumps over every
// wait. The runner must send through the returned client.
func newMemShop(t testing.TB, opts ...func(*fakeShop)) (*fakeShop, *http.Client) {
	t.Helper()
	f := makeShop(opts)
	n := newMemNet()
	srv := &http.Server{Handler: f.handler()}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(n)
	}()
	tr := &http.Transport{DialContext: n.dial, MaxIdleConnsPerHost: 1000}
	t.Cleanup(func() {
		f.unblock()
		tr.CloseIdleConnections()
		srv.Close()
		<-served
	})
	f.URL = "http://shop.test"
	return f, &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func makeShop(opts []func(*fakeShop)) *fakeShop {
	f := &fakeShop{orders: map[string]string{}, journeys: map[string]int{},
		release: make(chan struct{}), arrived: make(chan struct{}, 1<<16)}
	for _, o := range opts {
		o(f)
	}
	return f
}

func (f *fakeShop) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", f.create)
	mux.HandleFunc("GET /orders/{id}", f.get)
	mux.HandleFunc("POST /orders/{id}/cancel", f.cancel)
	mux.HandleFunc("GET /menu", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, []map[string]string{{"sku": "pizza"}, {"sku": "salad"}})
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]string{"blob": strings.Repeat("x", 20<<10)})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]bool{"ok": true}) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && r.URL.Path == "/" {
			f.mu.Lock()
			f.arrivals++
			f.preflights = append(f.preflights, seen{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Seq: f.arrivals})
			f.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
			return
		}
		f.mu.Lock()
		f.arrivals++
		f.requests = append(f.requests, seen{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Seq: f.arrivals})
		f.journeys[r.Header.Get("X-Synthetic-Journey")]++
		f.mu.Unlock()
		select {
		case f.arrived <- struct{}{}:
		default:
		}
		if f.hook != nil {
			f.hook(r)
		}
		if f.delay > 0 {
			time.Sleep(f.delay)
		}
		if f.after != nil {
			defer f.after(r)
		}
		if f.block {
			select {
			case <-f.release:
			case <-r.Context().Done():
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

func (f *fakeShop) unblock() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.release:
	default:
		close(f.release)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeShop) create(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Customer  string `json:"customer"`
		Synthetic bool   `json:"synthetic"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, 400, map[string]string{"error": err.Error()})
		return
	}
	if f.status != 0 {
		writeJSON(w, f.status, map[string]string{"error": "induced"})
		return
	}
	st := f.orderStatus
	if st == "" {
		st = "placed"
	}
	f.mu.Lock()
	f.seq++
	id := fmt.Sprintf("ord-%06d", f.seq)
	f.orders[id] = st
	f.mu.Unlock()
	writeJSON(w, 201, map[string]any{"id": id, "status": st, "customer": req.Customer, "synthetic": req.Synthetic})
}

func (f *fakeShop) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f.mu.Lock()
	st, ok := f.orders[id]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, 404, map[string]string{"error": "no such order"})
		return
	}
	writeJSON(w, 200, map[string]any{"id": id, "status": st})
}

func (f *fakeShop) cancel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f.mu.Lock()
	_, ok := f.orders[id]
	if ok {
		f.orders[id] = "cancelled"
	}
	f.mu.Unlock()
	if !ok {
		writeJSON(w, 404, map[string]string{"error": "no such order"})
		return
	}
	writeJSON(w, 200, map[string]any{"id": id, "status": "cancelled"})
}

// memNet is an in-memory network: a listener whose connections are
// net.Pipe ends, and the dial that makes them. Every wait on it is a
// channel operation, which a synctest bubble sees as durably blocked.
type memNet struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newMemNet() *memNet {
	return &memNet{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (n *memNet) Accept() (net.Conn, error) {
	select {
	case c := <-n.conns:
		return c, nil
	case <-n.done:
		return nil, net.ErrClosed
	}
}

func (n *memNet) Close() error {
	n.once.Do(func() { close(n.done) })
	return nil
}

func (n *memNet) Addr() net.Addr { return memAddr{} }

func (n *memNet) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case n.conns <- server:
		return client, nil
	case <-n.done:
		return nil, syscall.ECONNREFUSED
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "shop.test:80" }

// bubble runs f in a synctest bubble, in parallel with other tests.
func bubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	t.Parallel()
	synctest.Test(t, f)
}

// seenRequests returns a copy of what arrived so far.
func (f *fakeShop) seenRequests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.requests...)
}

// journeyCount returns how many distinct journeys sent requests.
func (f *fakeShop) journeyCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.journeys)
}

// waitRequests waits until n requests have arrived, failing the test
// after a generous timeout.
func (f *fakeShop) waitRequests(t testing.TB, n int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-f.arrived:
		case <-deadline:
			t.Fatalf("only %d of %d requests arrived", i, n)
		}
	}
}

// runAsync runs r in the background; the returned func waits for the
// result, failing the test if Run does not return in time.
func runAsync(t testing.TB, r *Runner) func() *Result {
	t.Helper()
	type out struct {
		res *Result
		err error
	}
	ch := make(chan out, 1)
	go func() {
		res, err := r.Run(t.Context())
		ch <- out{res, err}
	}()
	return func() *Result {
		t.Helper()
		select {
		case o := <-ch:
			if o.err != nil {
				t.Fatalf("Run: %v", o.err)
			}
			return o.res
		case <-time.After(30 * time.Second):
			s := r.Snapshot()
			r.Kill()
			t.Fatalf("Run did not return: state %s, outcome %s, journeys %+v, in flight %d, guardrail %+v",
				s.State, s.Outcome, s.Journeys, s.InFlight, s.Guardrail)
			return nil
		}
	}
}

// mustParse parses an inline scenario, failing the test on error.
func mustParse(t testing.TB, yaml string) *Scenario {
	t.Helper()
	sc, err := Parse("test.yaml", []byte(strings.TrimLeft(yaml, "\n")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return sc
}

// mustRunner builds a runner against target, failing the test on error.
func mustRunner(t testing.TB, sc *Scenario, opts RunnerOptions) *Runner {
	t.Helper()
	r, err := NewRunner(sc, opts)
	if err != nil {
		t.Fatalf("NewRunner: %v", err)
	}
	return r
}

// orderScenario is a place/fetch/cancel journey; the caller appends
// settings by formatting.
const orderScenario = `
name: orders
target: http://127.0.0.1:1
rate: {type: constant, rate: %v}
duration: %s
max_in_flight: %d
ceiling: 1000
journeys:
  - name: place-order
    steps:
      - name: create
        method: POST
        path: /orders
        headers: {Content-Type: application/json, baggage: "tenant=acme, synthetic=false"}
        body: '{"customer": {{ json fake.Name }}, "items": [{"sku": "{{ pick "pizza" "salad" }}", "qty": {{ intRange 1 3 }}}], "synthetic": {{ .Synthetic }}}'
        capture: {order_id: id}
        assert: {status: [201], json: {status: placed, synthetic: true}}
      - name: fetch
        path: /orders/{{ .Vars.order_id }}
        assert: {status: [200], json: {id: "{{ .Vars.order_id }}"}}
    cleanup:
      - name: cancel
        method: POST
        path: /orders/{{ .Vars.order_id }}/cancel
        assert: {status: [200]}
`

func orders(t testing.TB, rate float64, duration string, maxInFlight int) *Scenario {
	t.Helper()
	return mustParse(t, fmt.Sprintf(orderScenario, rate, duration, maxInFlight))
}
