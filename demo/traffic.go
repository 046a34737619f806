package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brianvoe/gofakeit/v7"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Defaults for the zero values of Traffic.
const (
	// DefaultMaxInFlight bounds Traffic's concurrent requests.
	DefaultMaxInFlight = 64
	// MaxTrafficRate is the highest Rate Traffic accepts, far above what
	// one loopback instance serves.
	MaxTrafficRate = 1_000_000
	// trafficTimeout bounds one request of Traffic's own client.
	trafficTimeout = 10 * time.Second
	// customerPool is how many fake customers Traffic orders for, few
	// enough that lookups by customer find orders.
	customerPool = 16
	// knownIDs is how many created order ids Traffic remembers for lookups
	// and cancels.
	knownIDs = 256
)

// Traffic sends a realistic mix of requests to one instance of the service:
// menu reads, order lookups by id and by customer, order creation and
// occasional cancels. Every request carries X-Synthetic: true and created
// orders also carry the body flag, so the service leaves them out of its
// analytics. It stands in for the synthetic runner in `shadow demo`.
//
// Rate is an open model: requests start on vegeta's constant pacer whether or
// not earlier ones have finished, and a start that finds MaxInFlight requests
// still running is dropped and counted, never queued.
type Traffic struct {
	// BaseURL is the service to load, such as http://127.0.0.1:8080.
	BaseURL string
	// Rate is how many requests start per second, from 1 to
	// MaxTrafficRate.
	Rate int
	// Client sends the requests; nil means a client of Run's own, with a
	// 10s timeout, whose connections are all closed when Run returns.
	Client *http.Client
	// Seed drives the mix, the carts and the fake customer names; 0 means a
	// seed taken from the clock. Which order ids are looked up also depends
	// on which creates have finished, so the sequence is only repeatable
	// up to that.
	Seed int64
	// MaxInFlight bounds the requests running at once; 0 means
	// DefaultMaxInFlight.
	MaxInFlight int
	// MaxRequests stops Run after that many starts (sent or dropped);
	// 0 means no limit.
	MaxRequests int

	sent, dropped, failed atomic.Int64
	ok, clientErr, srvErr atomic.Int64
}

// TrafficStats counts what a Traffic has done so far.
type TrafficStats struct {
	// Sent counts requests started.
	Sent int64
	// Dropped counts starts skipped because MaxInFlight requests were
	// running.
	Dropped int64
	// Failed counts requests that got no answer (refused, reset, timed
	// out); requests cut short because Run's context ended are not counted.
	Failed int64
	// OK, ClientErrors and ServerErrors count answers by status class
	// (2xx-3xx, 4xx, 5xx). Some 404s and 409s are expected: the mix looks
	// up unknown ids and cancels orders twice now and then.
	OK, ClientErrors, ServerErrors int64
}

// Validate reports the first field that holds a value Run cannot use.
func (t *Traffic) Validate() error {
	u, err := url.Parse(t.BaseURL)
	switch {
	case t.BaseURL == "":
		return errors.New("demo traffic: BaseURL is required")
	case err != nil:
		return fmt.Errorf("demo traffic: BaseURL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("demo traffic: BaseURL must be an absolute http(s) URL, got %q", t.BaseURL)
	case t.Rate <= 0 || t.Rate > MaxTrafficRate:
		return fmt.Errorf("demo traffic: Rate must be between 1 and %d, got %d", MaxTrafficRate, t.Rate)
	case t.MaxInFlight < 0:
		return fmt.Errorf("demo traffic: MaxInFlight must not be negative, got %d", t.MaxInFlight)
	case t.MaxRequests < 0:
		return fmt.Errorf("demo traffic: MaxRequests must not be negative, got %d", t.MaxRequests)
	}
	return nil
}

// Stats returns the counters so far; it is safe to call while Run runs.
func (t *Traffic) Stats() TrafficStats {
	return TrafficStats{
		Sent:         t.sent.Load(),
		Dropped:      t.dropped.Load(),
		Failed:       t.failed.Load(),
		OK:           t.ok.Load(),
		ClientErrors: t.clientErr.Load(),
		ServerErrors: t.srvErr.Load(),
	}
}

// Run sends requests until ctx ends or MaxRequests have started, then waits
// for the requests in flight (which ctx also cancels) and returns. It
// returns an error only for an invalid configuration.
func (t *Traffic) Run(ctx context.Context) error {
	if err := t.Validate(); err != nil {
		return err
	}
	inFlight := t.MaxInFlight
	if inFlight == 0 {
		inFlight = DefaultMaxInFlight
	}
	client := t.Client
	if client == nil {
		conns := newConnSet()
		defer conns.closeAll() // runs after wg.Wait below: nothing is in flight
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = conns.dial
		tr.MaxIdleConnsPerHost = inFlight
		client = &http.Client{Transport: tr, Timeout: trafficTimeout}
	}
	seed := t.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	mix := newTrafficMix(seed)
	base := strings.TrimRight(t.BaseURL, "/")
	slots := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	defer wg.Wait()

	pacer := vegeta.ConstantPacer{Freq: t.Rate, Per: time.Second}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	start := time.Now()
	for hits := uint64(0); t.MaxRequests == 0 || hits < uint64(t.MaxRequests); hits++ {
		wait, stop := pacer.Pace(time.Since(start), hits)
		if stop {
			return nil
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return nil
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return nil
		}
		call := mix.next()
		select {
		case slots <- struct{}{}:
		default:
			t.dropped.Add(1)
			continue
		}
		t.sent.Add(1)
		wg.Go(func() {
			defer func() { <-slots }()
			t.do(ctx, client, base, call, mix)
		})
	}
	return nil
}

// do sends one call and counts its outcome.
func (t *Traffic) do(ctx context.Context, client *http.Client, base string, c trafficCall, mix *trafficMix) {
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, base+c.path, body)
	if err != nil {
		t.failed.Add(1)
		return
	}
	req.Header.Set("X-Synthetic", "true")
	req.Header.Set("User-Agent", "understudy-demo-traffic")
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			t.failed.Add(1)
		}
		return
	}
	defer resp.Body.Close()
	if c.create && resp.StatusCode == http.StatusCreated {
		var created struct {
			ID string `json:"id"`
		}
		if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&created) == nil && created.ID != "" {
			mix.remember(created.ID)
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode >= 500:
		t.srvErr.Add(1)
	case resp.StatusCode >= 400:
		t.clientErr.Add(1)
	default:
		t.ok.Add(1)
	}
}

// trafficCall is one request of the mix.
type trafficCall struct {
	method, path string
	body         []byte
	create       bool // a POST /orders whose id is worth remembering
}

// trafficMix chooses the requests. next is called from Run's loop only;
// remember from the request goroutines.
type trafficMix struct {
	rng       *rand.Rand
	customers []string

	mu  sync.Mutex
	ids []string // ring of recently created ids
	pos int
}

func newTrafficMix(seed int64) *trafficMix {
	faker := gofakeit.New(uint64(seed))
	customers := make([]string, customerPool)
	for i := range customers {
		customers[i] = faker.Name()
	}
	return &trafficMix{rng: rand.New(rand.NewPCG(uint64(seed), 3)), customers: customers}
}

// remember records a created order id for later lookups and cancels.
func (m *trafficMix) remember(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.ids) < knownIDs {
		m.ids = append(m.ids, id)
		return
	}
	m.ids[m.pos] = id
	m.pos = (m.pos + 1) % knownIDs
}

// knownID returns a remembered id, or "" when there is none yet.
func (m *trafficMix) knownID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.ids) == 0 {
		return ""
	}
	return m.ids[m.rng.IntN(len(m.ids))]
}

// next chooses the next call: 30% menu, 25% create, 25% lookup by id (one in
// ten of them for an id that does not exist), 15% lookup by customer and 5%
// cancel.
func (m *trafficMix) next() trafficCall {
	roll := m.rng.IntN(100)
	switch {
	case roll < 30:
		return trafficCall{method: http.MethodGet, path: "/menu"}
	case roll < 55:
		return m.create()
	case roll < 80:
		id := m.knownID()
		if id == "" || m.rng.IntN(10) == 0 {
			id = fmt.Sprintf("ord-%06d", 900_000+m.rng.IntN(100_000))
		}
		return trafficCall{method: http.MethodGet, path: "/orders/" + id}
	case roll < 95:
		name := m.customers[m.rng.IntN(len(m.customers))]
		return trafficCall{method: http.MethodGet, path: "/orders?customer=" + url.QueryEscape(name)}
	default:
		id := m.knownID()
		if id == "" {
			return m.create()
		}
		return trafficCall{method: http.MethodPost, path: "/orders/" + id + "/cancel"}
	}
}

// create builds a POST /orders with a cart of one to three lines.
func (m *trafficMix) create() trafficCall {
	type item struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	}
	items := make([]item, 1+m.rng.IntN(3))
	for i := range items {
		items[i] = item{SKU: menu[m.rng.IntN(len(menu))].SKU, Qty: 1 + m.rng.IntN(4)}
	}
	body, _ := json.Marshal(struct {
		Customer  string `json:"customer"`
		Items     []item `json:"items"`
		Synthetic bool   `json:"synthetic"`
	}{m.customers[m.rng.IntN(len(m.customers))], items, true})
	return trafficCall{method: http.MethodPost, path: "/orders", body: body, create: true}
}
