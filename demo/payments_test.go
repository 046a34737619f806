package demo

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/understudy-dev/understudy/internal/traceparent"
)

func TestPaymentsCharge(t *testing.T) {
	t.Parallel()
	srv := serveTest(t, NewPayments())
	client := srv.Client()
	tests := []struct {
		name, body string
		status     int
	}{
		{"charge", `{"customer":"ann","amount":3.33,"currency":"EUR"}`, 201},
		{"whole units", `{"customer":"ann","amount":12,"currency":"EUR"}`, 201},
		{"one decimal", `{"customer":"ann","amount":0.5,"currency":"EUR"}`, 201},
		{"three decimals", `{"customer":"ann","amount":3.333}`, 400},
		{"zero", `{"customer":"ann","amount":0}`, 400},
		{"negative", `{"customer":"ann","amount":-1}`, 400},
		{"exponent", `{"customer":"ann","amount":1e3}`, 400},
		{"string amount", `{"customer":"ann","amount":"3.33"}`, 400},
		{"no customer", `{"amount":3.33}`, 400},
		{"not JSON", `{`, 400},
	}
	for _, tt := range tests {
		got := do(t, client, "POST", srv.URL+"/charges", tt.body, "Content-Type: application/json")
		if got.Status != tt.status {
			t.Errorf("%s: status = %d, want %d (%s)", tt.name, got.Status, tt.status, got.Raw)
		}
	}
	first := do(t, client, "POST", srv.URL+"/charges", `{"customer":"bob","amount":1.25,"currency":"EUR"}`)
	want := decode(t, `{"id":"ch_000004","status":"succeeded","customer":"bob","amount":1.25,"currency":"EUR"}`)
	if diff := cmp.Diff(first.Body, want); diff != "" {
		t.Errorf("charge answer differs (-got +want):\n%s", diff)
	}
}

func TestParseCents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want cents
		ok   bool
	}{
		{"3.33", 333, true}, {"12", 1200, true}, {"0.5", 50, true}, {"0.05", 5, true},
		{"3.", 0, false}, {".5", 0, false}, {"1.234", 0, false}, {"-1", 0, false},
		{"1e2", 0, false}, {"", 0, false}, {"9999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := parseCents(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseCents(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// chargeSeen is one charge as a test's payment service received it.
type chargeSeen struct {
	header http.Header
	body   map[string]any
}

// recordingPayments serves a payment service and keeps every charge request.
func recordingPayments(t *testing.T) (*httptest.Server, *Payments, func() []chargeSeen) {
	t.Helper()
	p := NewPayments()
	var mu sync.Mutex
	var seen []chargeSeen
	srv := serveTest(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		mu.Lock()
		seen = append(seen, chargeSeen{header: r.Header.Clone(), body: body})
		mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(raw)))
		p.ServeHTTP(w, r)
	}))
	return srv, p, func() []chargeSeen {
		mu.Lock()
		defer mu.Unlock()
		return append([]chargeSeen(nil), seen...)
	}
}

// TestCreateCharges proves POST /orders charges the order's total, each
// version its own way: (a) the rounding change reaches the charged amount.
// The charge carries the request's trace id under a new parent id, and the
// order the charge's id.
func TestCreateCharges(t *testing.T) {
	t.Parallel()
	const in = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, tt := range []struct {
		version int
		amount  float64
	}{{1, 3.33}, {2, 3.34}} {
		pay, p, seen := recordingPayments(t)
		opts := quiet(tt.version)
		opts.Payments = pay.URL
		svc := New(opts)
		srv := serveTest(t, svc)
		t.Cleanup(svc.CloseIdleConnections)
		got := do(t, srv.Client(), "POST", srv.URL+"/orders", `{"customer":"ann","items":[{"sku":"dip","qty":1},{"sku":"soda","qty":2}]}`, "Traceparent: "+in)
		if got.Status != http.StatusCreated {
			t.Fatalf("v%d: POST /orders = %d %s, want 201", tt.version, got.Status, got.Raw)
		}
		order := got.Body.(map[string]any)
		if order["payment_id"] != "ch_000001" || order["total"] != tt.amount {
			t.Errorf("v%d: order payment_id = %v, total = %v; want ch_000001, %v", tt.version, order["payment_id"], order["total"], tt.amount)
		}
		charges := seen()
		if len(charges) != 1 || p.Charges() != 1 {
			t.Fatalf("v%d: %d charge requests, %d charges; want 1", tt.version, len(charges), p.Charges())
		}
		if amount := charges[0].body["amount"]; amount != tt.amount {
			t.Errorf("v%d: charged %v, want %v", tt.version, amount, tt.amount)
		}
		out, ok := traceparent.FromHeader(charges[0].header)
		want, _ := traceparent.Parse(in)
		if !ok || out.TraceID != want.TraceID || out.ParentID == want.ParentID {
			t.Errorf("v%d: charge traceparent = %q, want trace %s under a new parent id", tt.version, charges[0].header.Get("Traceparent"), want.TraceIDString())
		}
	}
}

// TestCreateWithoutTraceSendsNone: a request without trace context charges
// without one (a copy side of egress then refuses the charge).
func TestCreateWithoutTraceSendsNone(t *testing.T) {
	t.Parallel()
	pay, _, seen := recordingPayments(t)
	opts := quiet(1)
	opts.Payments = pay.URL
	svc := New(opts)
	srv := serveTest(t, svc)
	t.Cleanup(svc.CloseIdleConnections)
	if got := do(t, srv.Client(), "POST", srv.URL+"/orders", `{"customer":"ann","items":[{"sku":"pizza","qty":1}]}`); got.Status != 201 {
		t.Fatalf("POST /orders = %d %s", got.Status, got.Raw)
	}
	if c := seen(); len(c) != 1 || c[0].header.Get("Traceparent") != "" {
		t.Errorf("charges = %+v, want one without traceparent", c)
	}
}

// TestFailedChargeFailsOrder: a payment service that refuses or is gone
// fails the order with 502, and no order is stored.
func TestFailedChargeFailsOrder(t *testing.T) {
	t.Parallel()
	refusing := serveTest(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "card declined", http.StatusPaymentRequired)
	}))
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	for _, url := range []string{refusing.URL, gone.URL} {
		opts := quiet(1)
		opts.Payments = url
		svc := New(opts)
		srv := serveTest(t, svc)
		client := &http.Client{Timeout: 30 * time.Second}
		got := do(t, client, "POST", srv.URL+"/orders", `{"customer":"ann","items":[{"sku":"pizza","qty":1}]}`)
		if got.Status != http.StatusBadGateway || !strings.Contains(got.Raw, "payment failed") {
			t.Errorf("%s: POST /orders = %d %s, want 502 payment failed", url, got.Status, got.Raw)
		}
		if n := svc.store.len(); n != 0 {
			t.Errorf("%s: %d orders stored after a failed charge, want 0", url, n)
		}
		svc.CloseIdleConnections()
		client.CloseIdleConnections()
	}
}

func TestStartPayments(t *testing.T) {
	t.Parallel()
	srv, err := StartPayments()
	if err != nil {
		t.Fatalf("StartPayments: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	got := do(t, client, "POST", srv.URL+"/charges", `{"customer":"ann","amount":2}`)
	if got.Status != 201 || srv.Payments.Charges() != 1 || srv.Payments.ChargedCents() != 200 {
		t.Errorf("charge = %d %s; Charges = %d, ChargedCents = %d; want 201, 1, 200", got.Status, got.Raw, srv.Payments.Charges(), srv.Payments.ChargedCents())
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func FuzzParseCents(f *testing.F) {
	for _, s := range []string{"3.33", "12", "0.5", "1.234", "-1", "1e2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCents(s)
		if err != nil {
			return
		}
		// What parses writes back as the same amount.
		b, _ := c.MarshalJSON()
		back, err := parseCents(string(b))
		if err != nil || back != c {
			t.Fatalf("parseCents(%q) = %d; written %s parses to %d, %v", s, c, b, back, err)
		}
	})
}
