package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/understudy-dev/understudy/internal/traceparent"
)

// Payments is the demo's payment service: the dependency the order service
// charges on POST /orders when Options.Payments points at it. It keeps no
// charges, only counts them, so that a test or the demo's summary can
// check that every client order was charged exactly once however many
// copies of the order service ran it. It is an http.Handler, safe for
// concurrent use.
//
//	POST /charges   {"customer": "...", "amount": 3.33, "currency": "EUR"}
//	                201 {"id": "ch_000001", "status": "succeeded", ...}, or
//	                400 with a JSON error
//	GET  /healthz   200 "ok"
type Payments struct {
	mux *http.ServeMux

	mu      sync.Mutex
	charges int64 // charges made, also the last id number
	amount  cents // their sum
}

// NewPayments returns a payment service that has charged nothing.
func NewPayments() *Payments {
	p := &Payments{mux: http.NewServeMux()}
	p.mux.HandleFunc("POST /charges", p.handleCharge)
	p.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	})
	return p
}

// ServeHTTP answers one request.
func (p *Payments) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

// Charges reports how many charges the service has made.
func (p *Payments) Charges() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.charges
}

// ChargedCents reports the sum of every charge, in cents.
func (p *Payments) ChargedCents() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int64(p.amount)
}

// chargeRequest is the body of POST /charges.
type chargeRequest struct {
	Customer string          `json:"customer"`
	Amount   json.RawMessage `json:"amount"`
	Currency string          `json:"currency"`
}

// chargeJSON is a charge as the service answers it.
type chargeJSON struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Customer string `json:"customer"`
	Amount   cents  `json:"amount"`
	Currency string `json:"currency"`
}

func (p *Payments) handleCharge(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("read body: %v", err))
		return
	}
	var req chargeRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid JSON body: %v", err))
		return
	}
	amount, err := parseCents(string(req.Amount))
	switch {
	case err != nil:
		writeError(w, http.StatusBadRequest, "amount: "+err.Error())
		return
	case amount <= 0:
		writeError(w, http.StatusBadRequest, "amount: must be positive")
		return
	case req.Customer == "":
		writeError(w, http.StatusBadRequest, "customer: must not be empty")
		return
	}
	p.mu.Lock()
	p.charges++
	p.amount += amount
	id := fmt.Sprintf("ch_%06d", p.charges)
	p.mu.Unlock()
	writeJSON(w, http.StatusCreated, chargeJSON{ID: id, Status: "succeeded", Customer: req.Customer, Amount: amount, Currency: req.Currency})
}

// parseCents reads a JSON number of currency units with at most two
// decimals ("3.33", "12", "0.5") as cents.
func parseCents(s string) (cents, error) {
	var units, frac int64
	var digits int
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		units = units*10 + int64(s[i]-'0')
		if units > 1e12 {
			return 0, errors.New("too large")
		}
	}
	if i == 0 {
		return 0, fmt.Errorf("%q is not a positive decimal number", s)
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if digits++; digits > 2 {
				return 0, fmt.Errorf("%q has more than two decimals", s)
			}
			frac = frac*10 + int64(s[i]-'0')
		}
		if digits == 0 {
			return 0, fmt.Errorf("%q is not a positive decimal number", s)
		}
	}
	if i != len(s) {
		return 0, fmt.Errorf("%q is not a positive decimal number", s)
	}
	if digits == 1 {
		frac *= 10
	}
	return cents(units*100 + frac), nil
}

// paymentsTimeout bounds one charge call of the order service.
const paymentsTimeout = 10 * time.Second

// charge asks the payment service to charge amount for the order being
// created, passing on the trace context of the request being served (in)
// as an instrumented service does: the same trace id under a new parent
// id. It returns the charge's id.
func (s *Service) charge(ctx context.Context, in http.Header, customer string, amount cents) (string, error) {
	body, err := json.Marshal(map[string]any{"customer": customer, "amount": amount, "currency": "EUR"})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, paymentsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(s.opts.Payments, "/")+"/charges", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if tp, ok := traceparent.FromHeader(in); ok {
		req.Header.Set(traceparent.Header, tp.Child().String())
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return "", fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("payments answered %s: %s", resp.Status, bytes.TrimSpace(raw))
	}
	var c struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.ID == "" {
		return "", fmt.Errorf("payments answered 201 without a charge id: %s", bytes.TrimSpace(raw))
	}
	return c.ID, nil
}
