package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits on what POST /orders accepts.
const (
	maxBodyBytes    = 64 << 10
	maxCustomerLen  = 200
	maxLines        = 50
	maxQty          = 1000
	maxListedOrders = 50
)

// Service is one instance of the order service, version 1 or 2, with its own
// store. It is an http.Handler, safe for concurrent use.
type Service struct {
	opts  Options // resolved: no zero values left
	mux   *http.ServeMux
	store *store

	mu     sync.Mutex
	noise  *rand.Rand // eta and X-Request-Id
	faults *rand.Rand // version 2's 500s, a separate stream so noise draws do not move them

	// sleep waits d or until ctx ends and reports whether it waited in
	// full; tests replace it to observe the delay without a clock.
	sleep func(ctx context.Context, d time.Duration) bool

	// client charges orders at Options.Payments; nil when that is unset.
	client *http.Client
}

// New returns an instance configured by opts. It panics if opts.Validate
// reports an error, as a wrong version is a programming mistake; Start
// returns that error instead.
func New(opts Options) *Service {
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	o := opts.resolved()
	s := &Service{
		opts:   o,
		mux:    http.NewServeMux(),
		store:  newStore(o.MaxOrders),
		noise:  rand.New(rand.NewPCG(uint64(o.Seed), 1)),
		faults: rand.New(rand.NewPCG(uint64(o.Seed), 2)),
		sleep:  sleepContext,
	}
	if o.Payments != "" {
		s.client = &http.Client{Transport: &http.Transport{
			Proxy:               nil, // the dependency's URL is the whole configuration
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     time.Minute,
		}}
	}
	s.mux.HandleFunc("GET /menu", s.handleMenu)
	s.mux.HandleFunc("POST /orders", s.handleCreate)
	s.mux.HandleFunc("GET /orders", s.handleList)
	s.mux.HandleFunc("GET /orders/{id}", s.handleGet)
	s.mux.HandleFunc("POST /orders/{id}/cancel", s.handleCancel)
	s.mux.HandleFunc("GET /analytics", s.handleAnalytics)
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	return s
}

// CloseIdleConnections closes the idle connections to the payment service,
// if any. Server.Close calls it; a caller serving the Service itself calls
// it when done.
func (s *Service) CloseIdleConnections() {
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
}

// Version reports which version the instance plays: 1 or 2.
func (s *Service) Version() int { return s.opts.Version }

// ServeHTTP answers one request. Every answer carries a fresh X-Request-Id.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	id := s.noise.Uint64()
	s.mu.Unlock()
	w.Header().Set("X-Request-Id", fmt.Sprintf("req-%016x", id))
	s.mux.ServeHTTP(w, r)
}

func (s *Service) handleMenu(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"items": menuEntries()})
}

// createRequest is the body of POST /orders.
type createRequest struct {
	Customer string `json:"customer"`
	Items    []struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	} `json:"items"`
	Synthetic bool `json:"synthetic"`
}

// parseCreate decodes and checks the body of POST /orders; its errors are
// meant for the client.
func parseCreate(body []byte) (createRequest, []cartLine, error) {
	var req createRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return req, nil, fmt.Errorf("invalid JSON body: %v", err)
	}
	switch {
	case strings.TrimSpace(req.Customer) == "":
		return req, nil, errors.New("customer: must not be empty")
	case len(req.Customer) > maxCustomerLen:
		return req, nil, fmt.Errorf("customer: at most %d bytes, got %d", maxCustomerLen, len(req.Customer))
	case len(req.Items) == 0:
		return req, nil, errors.New("items: at least one item is required")
	case len(req.Items) > maxLines:
		return req, nil, fmt.Errorf("items: at most %d lines, got %d", maxLines, len(req.Items))
	}
	cart := make([]cartLine, len(req.Items))
	for i, it := range req.Items {
		item, ok := menuBySKU[it.SKU]
		if !ok {
			return req, nil, fmt.Errorf("items[%d].sku: unknown sku %q", i, it.SKU)
		}
		if it.Qty < 1 || it.Qty > maxQty {
			return req, nil, fmt.Errorf("items[%d].qty: must be between 1 and %d, got %d", i, maxQty, it.Qty)
		}
		cart[i] = cartLine{item: item, qty: it.Qty}
	}
	return req, cart, nil
}

// synthetic reports whether the request is tagged as synthetic traffic.
func synthetic(h http.Header) bool {
	v, err := strconv.ParseBool(strings.TrimSpace(h.Get("X-Synthetic")))
	return err == nil && v
}

func (s *Service) handleCreate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body: larger than %d bytes", maxBodyBytes))
			return
		}
		writeError(w, http.StatusBadRequest, fmt.Sprintf("read body: %v", err))
		return
	}
	req, cart, err := parseCreate(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	lines, total := price(s.opts.Version, cart)
	var payment string
	if s.client != nil {
		// The charge is the order's side effect: with shadow's egress in
		// front of the payment service, only the primary's reaches it.
		if payment, err = s.charge(r.Context(), r.Header, req.Customer, total); err != nil {
			writeError(w, http.StatusBadGateway, "payment failed: "+err.Error())
			return
		}
	}
	s.mu.Lock()
	eta := 15 + s.noise.IntN(31)
	s.mu.Unlock()
	o := s.store.add(order{
		Customer:  req.Customer,
		Lines:     lines,
		Total:     total,
		CreatedAt: s.opts.Now(),
		ETA:       eta,
		Synthetic: req.Synthetic || synthetic(r.Header),
		PaymentID: payment,
	})
	w.Header().Set("Location", "/orders/"+o.ID)
	writeJSON(w, http.StatusCreated, render(s.opts.Version, o))
}

func (s *Service) handleGet(w http.ResponseWriter, r *http.Request) {
	if s.fail() {
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	o, err := s.store.get(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, render(s.opts.Version, o))
}

// fail decides whether this GET /orders/{id} is one of version 2's 500s.
func (s *Service) fail() bool {
	if s.opts.ErrorRate <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.Float64() < s.opts.ErrorRate
}

func (s *Service) handleList(w http.ResponseWriter, r *http.Request) {
	customer := r.URL.Query().Get("customer")
	if customer == "" {
		writeError(w, http.StatusBadRequest, "customer: query parameter is required")
		return
	}
	// Read first, then be slow: a slow answer must not see writes that
	// arrived after the request did, or a parallel run would report the
	// candidate's slowness as a changed order status.
	orders := s.store.byCustomerNewest(customer, maxListedOrders)
	out := make([]orderJSON, len(orders))
	for i, o := range orders {
		out[i] = render(s.opts.Version, o)
	}
	if d := s.opts.SlowDelay; d > 0 && !s.sleep(r.Context(), d) {
		writeError(w, http.StatusServiceUnavailable, "request cancelled")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"customer": customer, "orders": out})
}

func (s *Service) handleCancel(w http.ResponseWriter, r *http.Request) {
	o, err := s.store.cancel(r.PathValue("id"))
	switch {
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, errAlreadyCancelled):
		writeError(w, http.StatusConflict, err.Error())
	default:
		writeJSON(w, http.StatusOK, render(s.opts.Version, o))
	}
}

// analyticsJSON is the answer of GET /analytics. Synthetic orders are only
// counted in SyntheticExcluded.
type analyticsJSON struct {
	Orders            int64 `json:"orders"`
	Cancelled         int64 `json:"cancelled"`
	Revenue           cents `json:"revenue"`
	SyntheticExcluded int64 `json:"synthetic_excluded"`
}

func (s *Service) handleAnalytics(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, analyticsJSON(s.store.analytics()))
}

func (s *Service) handleHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok")
}

// writeJSON answers with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types reach here; failing to encode them is a bug.
		http.Error(w, "encode answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError answers with {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// sleepContext waits d or until ctx ends and reports whether it waited in
// full.
func sleepContext(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
