package egress

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/compare"
	"github.com/understudy-dev/understudy/demo"
	"github.com/understudy-dev/understudy/exchange"
	"github.com/understudy-dev/understudy/mirror"
)

// demoRun is the demo order service in a parallel run with egress: v1 as
// primary and secondary, v2 as candidate, each charging the demo payment
// service through its own side's egress listener, behind the real mirror
// proxy with Trace in front and POST /orders mirrored.
type demoRun struct {
	payments                      *demo.Server
	egress                        *Egress
	primary, secondary, candidate *demo.Server
	proxy                         *mirror.Proxy
	front                         *httptest.Server
	mu                            sync.Mutex
	exchanges                     []*exchange.Exchange
	observed                      chan struct{}
}

func startDemoRun(t *testing.T, maxWait time.Duration) *demoRun {
	t.Helper()
	r := &demoRun{observed: make(chan struct{}, 1024)}
	var err error
	if r.payments, err = demo.StartPayments(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.payments.Close() })
	cfg := config(r.payments.URL)
	cfg.Limits.MaxWait = maxWait
	r.egress = start(t, cfg)
	for _, s := range []struct {
		srv     **demo.Server
		version int
		side    exchange.Side
	}{{&r.primary, 1, exchange.Primary}, {&r.secondary, 1, exchange.Secondary}, {&r.candidate, 2, exchange.Candidate}} {
		srv, err := demo.Start(demo.Options{Version: s.version, Seed: 7, SlowDelay: -1, ErrorRate: -1, Payments: r.egress.URL("payments", s.side)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		*s.srv = srv
	}
	r.proxy, err = mirror.New(mirror.Config{
		Primary:          r.primary.URL,
		Secondary:        r.secondary.URL,
		Candidate:        r.candidate.URL,
		Routes:           []mirror.Route{{Name: "create", Methods: []string{"POST"}, Path: "/orders", Unsafe: true}},
		CandidateTimeout: 2 * wait,
		Logger:           slog.New(slog.DiscardHandler),
		// What phase 2's observer pipeline does: take the exchange's
		// outbound calls from egress once its copies are complete.
		Observer: mirror.ObserverFunc(func(x *exchange.Exchange) {
			x.Outbound = r.egress.Take(TraceID(x.Request.Header))
			r.mu.Lock()
			r.exchanges = append(r.exchanges, x)
			r.mu.Unlock()
			r.observed <- struct{}{}
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.proxy.Close() })
	r.front = httptest.NewServer(Trace(r.proxy))
	t.Cleanup(r.front.Close)
	return r
}

// TestDemoOneChargePerOrder is the acceptance test of mirroring writes:
// 200 client orders through the real proxy, each run by the primary, the
// secondary and the candidate, and the payment service sees exactly one
// charge per order, the primary's; the copies get the primary's charge
// and what the candidate would have charged differently is reported.
func TestDemoOneChargePerOrder(t *testing.T) {
	t.Parallel()
	r := startDemoRun(t, wait) // a correct run never waits it out
	c := client(t)
	const orders = 200
	skus := demo.SKUs()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	var wantCents int64
	var centsMu sync.Mutex
	for i := range orders {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// Every cart has a dip and sodas (some totals differ on v2)
			// and one more item; half the clients send their own trace.
			body := fmt.Sprintf(`{"customer":"c%d","items":[{"sku":"dip","qty":%d},{"sku":"soda","qty":%d},{"sku":%q,"qty":1}]}`, i, 1+i%2, 1+i%3, skus[i%len(skus)])
			tp := ""
			if i%2 == 0 {
				tp, _ = newTrace()
			}
			a := send(t, c, exchange.Primary, "POST", r.front.URL+"/orders", tp, body)
			if a.Status != http.StatusCreated {
				t.Errorf("order %d: %d %s", i, a.Status, a.Body)
				return
			}
			var o struct {
				Total     json.Number `json:"total"`
				PaymentID string      `json:"payment_id"`
			}
			if err := json.Unmarshal([]byte(a.Body), &o); err != nil || o.PaymentID == "" {
				t.Errorf("order %d: %s: want an order with a payment_id", i, a.Body)
				return
			}
			f, _ := o.Total.Float64()
			centsMu.Lock()
			wantCents += int64(f*100 + 0.5)
			centsMu.Unlock()
		}()
	}
	wg.Wait()
	for range orders {
		select {
		case <-r.observed:
		case <-time.After(wait):
			t.Fatalf("only %d of %d exchanges observed; mirror stats %+v", len(r.exchanges), orders, r.proxy.Stats())
		}
	}
	pay := r.payments.Payments
	if n := pay.Charges(); n != orders {
		t.Errorf("payments made %d charges for %d client orders, want exactly one per order", n, orders)
	}
	if got := pay.ChargedCents(); got != wantCents {
		t.Errorf("payments charged %d cents, want the primary's totals: %d", got, wantCents)
	}
	st := r.egress.Stats()
	if st.Candidate.Answered != orders || st.Secondary.Answered != orders || len(st.Candidate.Refused)+len(st.Secondary.Refused) != 0 {
		t.Errorf("egress stats = %+v, want every copy's charge answered from the primary's", st)
	}

	differ, err := NewDiffer(compare.Config{})
	if err != nil {
		t.Fatal(err)
	}
	amountDiffs, totalDiffs := 0, 0
	for _, x := range r.exchanges {
		var sides []string
		for _, oc := range x.Outbound {
			sides = append(sides, fmt.Sprintf("%s matched=%v", oc.Side, oc.Matched))
		}
		if got := strings.Join(sides, ", "); got != "primary matched=false, secondary matched=true, candidate matched=true" {
			t.Errorf("exchange %s: outbound calls %s, want one per side, the copies' matched", x.Request.ID, got)
			continue
		}
		// The copies got the primary's charge, so their orders carry its id.
		pid := paymentID(t, x.Primary.Body)
		if cid := paymentID(t, x.Candidate.Body); cid != pid {
			t.Errorf("exchange %s: candidate's order has payment_id %q, the primary's %q", x.Request.ID, cid, pid)
		}
		if totalOf(t, x.Primary.Body) != totalOf(t, x.Candidate.Body) {
			totalDiffs++
		}
		for _, side := range []exchange.Side{exchange.Candidate, exchange.Secondary} {
			for _, ed := range differ.Diff(x.Outbound, side) {
				for _, f := range ed.Findings() {
					switch {
					case side == exchange.Secondary:
						t.Errorf("exchange %s: the secondary (v1) differs from the primary: %s", x.Request.ID, f)
					case strings.HasPrefix(f, "candidate called POST payments /charges with $.amount "):
						amountDiffs++
					default:
						t.Errorf("exchange %s: unexpected finding %q", x.Request.ID, f)
					}
				}
			}
		}
	}
	t.Logf("%d of %d charges differ in $.amount", amountDiffs, orders)
	if amountDiffs != totalDiffs || amountDiffs == 0 {
		t.Errorf("%d charges with a different $.amount, %d orders with a different total; want the same, more than 0", amountDiffs, totalDiffs)
	}
}

func paymentID(t *testing.T, body []byte) string {
	t.Helper()
	var o struct {
		PaymentID string `json:"payment_id"`
	}
	_ = json.Unmarshal(body, &o)
	return o.PaymentID
}

func totalOf(t *testing.T, body []byte) string {
	t.Helper()
	var o struct {
		Total json.Number `json:"total"`
	}
	_ = json.Unmarshal(body, &o)
	return string(o.Total)
}

// TestDemoCandidateAloneIsRefused: orders sent straight to the candidate
// (not through the proxy) charge through its egress listener with a trace
// the primary never had, or with none: each charge is refused with a 503,
// counted, and the payment service is never reached.
func TestDemoCandidateAloneIsRefused(t *testing.T) {
	t.Parallel()
	r := startDemoRun(t, 50*time.Millisecond) // nothing can match
	c := client(t)
	tp, _ := newTrace()
	for _, tt := range []struct {
		tp   string
		want Reason
	}{{tp, RefusedNoMatch}, {"", RefusedNoTrace}} {
		a := send(t, c, exchange.Candidate, "POST", r.candidate.URL+"/orders", tt.tp, `{"customer":"x","items":[{"sku":"pizza","qty":1}]}`)
		if a.Status != http.StatusBadGateway || !strings.Contains(a.Body, "503") || !strings.Contains(a.Body, string(tt.want)) {
			t.Errorf("candidate order (trace %q) = %d %s; want 502 carrying egress's 503 %s", tt.tp, a.Status, a.Body, tt.want)
		}
	}
	if n := r.payments.Payments.Charges(); n != 0 {
		t.Errorf("payments made %d charges, want none", n)
	}
	if got := r.egress.Stats().Candidate.Refused; got[RefusedNoMatch] != 1 || got[RefusedNoTrace] != 1 {
		t.Errorf("candidate refusals = %v, want one no_match and one no_trace", got)
	}
}
