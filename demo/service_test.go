package demo

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ignoreETA leaves out the one field a deterministic instance still draws at
// random; checkETAs checks it separately.
var ignoreETA = cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "eta" })

// asVersion turns an answer written the version 1 way into what version 2
// answers for the same request when no cart has third-of-a-cent lines: (b)
// line_total renamed and (c) currency added on every order.
func asVersion(version int, v any) any {
	if version != 2 {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v)+1)
		for k, x := range v {
			if k == "line_total" {
				k = "lineTotal"
			}
			out[k] = asVersion(version, x)
		}
		if _, isOrder := v["status"]; isOrder {
			out["currency"] = "EUR"
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = asVersion(version, x)
		}
		return out
	}
	return v
}

// checkETAs fails the test unless every "eta" in v is whole minutes between
// 15 and 45.
func checkETAs(t *testing.T, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "eta" {
				if m, ok := x.(float64); !ok || m != float64(int(m)) || m < 15 || m > 45 {
					t.Errorf("eta = %v, want whole minutes in [15, 45]", x)
				}
				continue
			}
			checkETAs(t, x)
		}
	case []any:
		for _, x := range v {
			checkETAs(t, x)
		}
	}
}

const (
	orderAda1 = `{"id":"ord-000001","customer":"Ada Lovelace","items":[
		{"sku":"pizza","name":"Margherita pizza","qty":2,"unit_price":12.5,"line_total":25}],
		"total":25,"status":"placed","created_at":"2025-03-14T12:30:00.123456789Z","synthetic":true}`
	orderGrace = `{"id":"ord-000002","customer":"Grace Hopper","items":[
		{"sku":"salad","name":"Caesar salad","qty":1,"unit_price":9.75,"line_total":9.75},
		{"sku":"espresso","name":"Espresso","qty":2,"unit_price":2.2,"line_total":4.4}],
		"total":14.15,"status":"placed","created_at":"2025-03-14T12:30:00.123456789Z","synthetic":false}`
	orderAda3 = `{"id":"ord-000003","customer":"Ada Lovelace","items":[
		{"sku":"tiramisu","name":"Tiramisu","qty":1,"unit_price":6.5,"line_total":6.5}],
		"total":6.5,"status":"placed","created_at":"2025-03-14T12:30:00.123456789Z","synthetic":false}`
)

// seedOrders creates ord-000001 to ord-000003 and checks each answer.
func seedOrders(t *testing.T, version int, srv *httptest.Server) {
	t.Helper()
	creates := []struct {
		body   string
		header []string
		want   string
	}{
		{`{"customer":"Ada Lovelace","items":[{"sku":"pizza","qty":2}]}`, []string{"X-Synthetic: true"}, orderAda1},
		{`{"customer":"Grace Hopper","items":[{"sku":"salad","qty":1},{"sku":"espresso","qty":2}]}`, nil, orderGrace},
		{`{"customer":"Ada Lovelace","items":[{"sku":"tiramisu","qty":1}],"synthetic":false}`, nil, orderAda3},
	}
	for i, c := range creates {
		got := do(t, srv.Client(), "POST", srv.URL+"/orders", c.body, c.header...)
		if got.Status != http.StatusCreated {
			t.Fatalf("create %d: status = %d, want 201; body %s", i+1, got.Status, got.Raw)
		}
		if loc, want := got.Header.Get("Location"), fmt.Sprintf("/orders/ord-%06d", i+1); loc != want {
			t.Errorf("create %d: Location = %q, want %q", i+1, loc, want)
		}
		if diff := cmp.Diff(asVersion(version, decode(t, c.want)), got.Body, ignoreETA); diff != "" {
			t.Errorf("create %d: answer mismatch (-want +got):\n%s", i+1, diff)
		}
		checkETAs(t, got.Body)
	}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	const jsonType = "application/json"
	tests := []struct {
		name          string
		method, path  string
		body          string
		header        []string
		wantStatus    int
		wantType      string
		want          string // JSON written the version 1 way, or plain text
		wantErrPrefix string // instead of want, for errors that quote the JSON decoder
	}{
		{name: "menu", method: "GET", path: "/menu", wantStatus: 200, wantType: jsonType, want: `{"items":[
			{"sku":"pizza","name":"Margherita pizza","price":12.5,"category":"pizza"},
			{"sku":"pepperoni","name":"Pepperoni pizza","price":14,"category":"pizza"},
			{"sku":"pasta","name":"Spaghetti carbonara","price":13.25,"category":"pasta"},
			{"sku":"salad","name":"Caesar salad","price":9.75,"category":"salad"},
			{"sku":"tiramisu","name":"Tiramisu","price":6.5,"category":"dessert"},
			{"sku":"espresso","name":"Espresso","price":2.2,"category":"drink"},
			{"sku":"soda","name":"Soda can (3 for 4.00)","price":1.33,"category":"drink"},
			{"sku":"dip","name":"Garlic dip (3 for 2.00)","price":0.67,"category":"side"}]}`},
		{name: "order by id", method: "GET", path: "/orders/ord-000002", wantStatus: 200, wantType: jsonType, want: orderGrace},
		{name: "unknown order", method: "GET", path: "/orders/ord-999999", wantStatus: 404, wantType: jsonType,
			want: `{"error":"order not found"}`},
		{name: "orders by customer newest first", method: "GET", path: "/orders?customer=Ada+Lovelace", wantStatus: 200,
			wantType: jsonType, want: `{"customer":"Ada Lovelace","orders":[` + orderAda3 + `,` + orderAda1 + `]}`},
		{name: "orders of unknown customer", method: "GET", path: "/orders?customer=Nobody", wantStatus: 200,
			wantType: jsonType, want: `{"customer":"Nobody","orders":[]}`},
		{name: "orders without customer", method: "GET", path: "/orders", wantStatus: 400, wantType: jsonType,
			want: `{"error":"customer: query parameter is required"}`},
		{name: "analytics leave synthetic out", method: "GET", path: "/analytics", wantStatus: 200, wantType: jsonType,
			want: `{"orders":2,"cancelled":0,"revenue":20.65,"synthetic_excluded":1}`},
		{name: "health", method: "GET", path: "/healthz", wantStatus: 200, wantType: "text/plain; charset=utf-8", want: "ok"},
		{name: "create: malformed JSON", method: "POST", path: "/orders", body: `{"customer":`, wantStatus: 400,
			wantType: jsonType, wantErrPrefix: "invalid JSON body: "},
		{name: "create: trailing data", method: "POST", path: "/orders", wantStatus: 400, wantType: jsonType,
			body: `{"customer":"a","items":[{"sku":"pizza","qty":1}]} {}`, wantErrPrefix: "invalid JSON body: "},
		{name: "create: fractional qty", method: "POST", path: "/orders", wantStatus: 400, wantType: jsonType,
			body: `{"customer":"a","items":[{"sku":"pizza","qty":1.5}]}`, wantErrPrefix: "invalid JSON body: "},
		{name: "create: no customer", method: "POST", path: "/orders", wantStatus: 400, wantType: jsonType,
			body: `{"customer":"  ","items":[{"sku":"pizza","qty":1}]}`, want: `{"error":"customer: must not be empty"}`},
		{name: "create: no items", method: "POST", path: "/orders", wantStatus: 400, wantType: jsonType,
			body: `{"customer":"a","items":[]}`, want: `{"error":"items: at least one item is required"}`},
		{name: "create: unknown sku", method: "POST", path: "/orders", wantStatus: 400, wantType: jsonType,
			body: `{"customer":"a","items":[{"sku":"pizza","qty":1},{"sku":"sushi","qty":1}]}`,
			want: `{"error":"items[1].sku: unknown sku \"sushi\""}`},
		{name: "create: qty zero", method: "POST", path: "/orders", wantStatus: 400, wantType: jsonType,
			body: `{"customer":"a","items":[{"sku":"pizza"}]}`,
			want: `{"error":"items[0].qty: must be between 1 and 1000, got 0"}`},
		{name: "create: qty negative", method: "POST", path: "/orders", wantStatus: 400, wantType: jsonType,
			body: `{"customer":"a","items":[{"sku":"pizza","qty":-2}]}`,
			want: `{"error":"items[0].qty: must be between 1 and 1000, got -2"}`},
		{name: "create: body too large", method: "POST", path: "/orders", wantStatus: 413, wantType: jsonType,
			body: `{"customer":"` + strings.Repeat("a", maxBodyBytes) + `"}`, want: `{"error":"body: larger than 65536 bytes"}`},
		{name: "cancel unknown", method: "POST", path: "/orders/ord-999999/cancel", wantStatus: 404, wantType: jsonType,
			want: `{"error":"order not found"}`},
	}
	for _, version := range []int{1, 2} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			t.Parallel()
			srv := serveTest(t, New(quiet(version)))
			seedOrders(t, version, srv)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got := do(t, srv.Client(), tt.method, srv.URL+tt.path, tt.body, tt.header...)
					if got.Status != tt.wantStatus {
						t.Errorf("status = %d, want %d; body %s", got.Status, tt.wantStatus, got.Raw)
					}
					if ct := got.Header.Get("Content-Type"); ct != tt.wantType {
						t.Errorf("Content-Type = %q, want %q", ct, tt.wantType)
					}
					if id := got.Header.Get("X-Request-Id"); !strings.HasPrefix(id, "req-") || len(id) != 20 {
						t.Errorf("X-Request-Id = %q, want req- and 16 hex digits", id)
					}
					switch {
					case tt.wantErrPrefix != "":
						msg, _ := got.Body.(map[string]any)["error"].(string)
						if !strings.HasPrefix(msg, tt.wantErrPrefix) {
							t.Errorf("error = %q, want prefix %q", msg, tt.wantErrPrefix)
						}
					case tt.wantType == jsonType:
						if diff := cmp.Diff(asVersion(version, decode(t, tt.want)), got.Body, ignoreETA); diff != "" {
							t.Errorf("answer mismatch (-want +got):\n%s", diff)
						}
						checkETAs(t, got.Body)
					default:
						if got.Raw != tt.want {
							t.Errorf("body = %q, want %q", got.Raw, tt.want)
						}
					}
				})
			}
		})
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	for _, version := range []int{1, 2} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			t.Parallel()
			srv := serveTest(t, New(quiet(version)))
			seedOrders(t, version, srv)
			cancelled := strings.Replace(orderGrace, `"placed"`, `"cancelled"`, 1)
			steps := []struct {
				method, path string
				wantStatus   int
				want         string
			}{
				{"POST", "/orders/ord-000002/cancel", 200, cancelled},
				{"GET", "/orders/ord-000002", 200, cancelled},
				{"POST", "/orders/ord-000002/cancel", 409, `{"error":"order already cancelled"}`},
				{"GET", "/orders/ord-000002/cancel", 405, ""},
				{"POST", "/orders/ord-000001/cancel", 200, strings.Replace(orderAda1, `"placed"`, `"cancelled"`, 1)},
				// A cancelled real order leaves the revenue; a cancelled
				// synthetic one was never in it.
				{"GET", "/analytics", 200, `{"orders":2,"cancelled":1,"revenue":6.5,"synthetic_excluded":1}`},
			}
			for i, s := range steps {
				got := do(t, srv.Client(), s.method, srv.URL+s.path, "")
				if got.Status != s.wantStatus {
					t.Fatalf("step %d %s %s: status = %d, want %d; body %s", i, s.method, s.path, got.Status, s.wantStatus, got.Raw)
				}
				if s.want == "" {
					continue
				}
				if diff := cmp.Diff(asVersion(version, decode(t, s.want)), got.Body, ignoreETA); diff != "" {
					t.Errorf("step %d %s %s: answer mismatch (-want +got):\n%s", i, s.method, s.path, diff)
				}
			}
		})
	}
}

func TestAnalyticsExcludeSynthetic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header []string
		flag   string
		want   bool // synthetic
	}{
		{name: "untagged", want: false},
		{name: "header", header: []string{"X-Synthetic: true"}, want: true},
		{name: "header, other spelling", header: []string{"X-Synthetic: TRUE"}, want: true},
		{name: "header 1", header: []string{"X-Synthetic: 1"}, want: true},
		{name: "header false", header: []string{"X-Synthetic: false"}, want: false},
		{name: "header garbage", header: []string{"X-Synthetic: maybe"}, want: false},
		{name: "body flag", flag: `,"synthetic":true`, want: true},
		{name: "body flag false", flag: `,"synthetic":false`, want: false},
		{name: "both", header: []string{"X-Synthetic: true"}, flag: `,"synthetic":true`, want: true},
		{name: "header wins over a false flag", header: []string{"X-Synthetic: true"}, flag: `,"synthetic":false`, want: true},
	}
	srv := serveTest(t, New(quiet(1)))
	var wantReal, wantSynthetic int
	for _, tt := range tests {
		body := `{"customer":"c","items":[{"sku":"pasta","qty":2}]` + tt.flag + `}`
		got := do(t, srv.Client(), "POST", srv.URL+"/orders", body, tt.header...)
		if got.Status != http.StatusCreated {
			t.Fatalf("%s: status = %d, want 201", tt.name, got.Status)
		}
		if flag := got.Body.(map[string]any)["synthetic"]; flag != tt.want {
			t.Errorf("%s: synthetic = %v, want %v", tt.name, flag, tt.want)
		}
		if tt.want {
			wantSynthetic++
		} else {
			wantReal++
		}
	}
	got := do(t, srv.Client(), "GET", srv.URL+"/analytics", "")
	want := decode(t, fmt.Sprintf(`{"orders":%d,"cancelled":0,"revenue":%v,"synthetic_excluded":%d}`,
		wantReal, float64(wantReal)*26.5, wantSynthetic))
	if diff := cmp.Diff(want, got.Body); diff != "" {
		t.Errorf("analytics mismatch (-want +got):\n%s", diff)
	}
}

func TestStoreBound(t *testing.T) {
	t.Parallel()
	opts := quiet(1)
	opts.MaxOrders = 3
	srv := serveTest(t, New(opts))
	for i := 0; i < 5; i++ {
		do(t, srv.Client(), "POST", srv.URL+"/orders", `{"customer":"c","items":[{"sku":"pizza","qty":1}]}`)
	}
	for i := 1; i <= 5; i++ {
		want := http.StatusOK
		if i <= 2 {
			want = http.StatusNotFound // evicted, oldest first
		}
		if got := do(t, srv.Client(), "GET", fmt.Sprintf("%s/orders/ord-%06d", srv.URL, i), ""); got.Status != want {
			t.Errorf("GET ord-%06d: status = %d, want %d", i, got.Status, want)
		}
	}
	list := do(t, srv.Client(), "GET", srv.URL+"/orders?customer=c", "")
	var gotIDs []string
	for _, o := range list.Body.(map[string]any)["orders"].([]any) {
		gotIDs = append(gotIDs, o.(map[string]any)["id"].(string))
	}
	if want := []string{"ord-000005", "ord-000004", "ord-000003"}; !cmp.Equal(gotIDs, want) {
		t.Errorf("orders of c = %v, want %v", gotIDs, want)
	}
	// Eviction does not rewrite history: analytics are lifetime counters.
	got := do(t, srv.Client(), "GET", srv.URL+"/analytics", "")
	if diff := cmp.Diff(decode(t, `{"orders":5,"cancelled":0,"revenue":62.5,"synthetic_excluded":0}`), got.Body); diff != "" {
		t.Errorf("analytics mismatch (-want +got):\n%s", diff)
	}
}

func TestCustomerListCappedAt50(t *testing.T) {
	t.Parallel()
	svc := New(quiet(1))
	for i := 0; i < 60; i++ {
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(`{"customer":"c","items":[{"sku":"dip","qty":1}]}`)))
	}
	srv := serveTest(t, svc)
	got := do(t, srv.Client(), "GET", srv.URL+"/orders?customer=c", "")
	orders := got.Body.(map[string]any)["orders"].([]any)
	if len(orders) != 50 {
		t.Fatalf("listed %d orders, want 50", len(orders))
	}
	first, last := orders[0].(map[string]any)["id"], orders[49].(map[string]any)["id"]
	if first != "ord-000060" || last != "ord-000011" {
		t.Errorf("listed %v .. %v, want ord-000060 .. ord-000011", first, last)
	}
}

// TestIDsLineUp proves that instances fed the same creates agree on every
// id, whatever their version or seed, while their noise differs.
func TestIDsLineUp(t *testing.T) {
	t.Parallel()
	instances := []*Service{
		New(Options{Version: 1, Seed: 1}),
		New(Options{Version: 1, Seed: 2}),
		New(Options{Version: 2, Seed: 3, SlowDelay: -1, ErrorRate: -1}),
	}
	bodies := []string{
		`{"customer":"a","items":[{"sku":"pizza","qty":1}]}`,
		`{"customer":"b","items":[{"sku":"nope","qty":1}]}`, // rejected: uses no id
		`{"customer":"b","items":[{"sku":"soda","qty":4}]}`,
		`{"customer":"a","items":[{"sku":"dip","qty":2}],"synthetic":true}`,
	}
	wantIDs := []string{"ord-000001", "", "ord-000002", "ord-000003"}
	for i, body := range bodies {
		var reqIDs []string
		for n, svc := range instances {
			rec := httptest.NewRecorder()
			svc.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(body)))
			got, _ := decode(t, rec.Body.String()).(map[string]any)["id"].(string)
			if got != wantIDs[i] {
				t.Errorf("create %d on instance %d: id = %q, want %q", i, n, got, wantIDs[i])
			}
			reqIDs = append(reqIDs, rec.Header().Get("X-Request-Id"))
		}
		if reqIDs[0] == reqIDs[1] || reqIDs[1] == reqIDs[2] {
			t.Errorf("create %d: X-Request-Id %v repeat across seeds, want noise", i, reqIDs)
		}
	}
}

// TestSameSeedSameAnswers proves the seed and clock make an instance fully
// repeatable, noise included.
func TestSameSeedSameAnswers(t *testing.T) {
	t.Parallel()
	a, b := New(quiet(2)), New(quiet(2))
	for i := 0; i < 20; i++ {
		var bodies, ids [2]string
		for n, svc := range []*Service{a, b} {
			rec := httptest.NewRecorder()
			svc.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(`{"customer":"a","items":[{"sku":"pizza","qty":1}]}`)))
			bodies[n], ids[n] = rec.Body.String(), rec.Header().Get("X-Request-Id")
		}
		if bodies[0] != bodies[1] || ids[0] != ids[1] {
			t.Fatalf("create %d differs with the same seed:\n%s %s\n%s %s", i, ids[0], bodies[0], ids[1], bodies[1])
		}
	}
}

func TestSlowEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		want []time.Duration // delays asked for, in request order
	}{
		{name: "v1 ignores the delay", opts: Options{Version: 1, SlowDelay: 5 * time.Millisecond}, want: nil},
		{name: "v2 default", opts: Options{Version: 2, ErrorRate: -1}, want: []time.Duration{DefaultSlowDelay}},
		{name: "v2 configured", opts: Options{Version: 2, SlowDelay: 7 * time.Millisecond, ErrorRate: -1},
			want: []time.Duration{7 * time.Millisecond}},
		{name: "v2 turned off", opts: Options{Version: 2, SlowDelay: -1, ErrorRate: -1}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := New(tt.opts)
			var mu sync.Mutex
			var got []time.Duration
			svc.sleep = func(_ context.Context, d time.Duration) bool {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, d)
				return true
			}
			for _, path := range []string{"/menu", "/orders/ord-000001", "/analytics", "/orders?customer=a"} {
				rec := httptest.NewRecorder()
				svc.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			}
			mu.Lock()
			defer mu.Unlock()
			if !cmp.Equal(got, tt.want) {
				t.Errorf("delays = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSlowAnswerReadsFirst proves the delay is only latency: an order
// created while a lookup by customer waits does not appear in its answer,
// so a parallel run sees the candidate's slowness as time, not as content.
func TestSlowAnswerReadsFirst(t *testing.T) {
	t.Parallel()
	svc := New(Options{Version: 2, Seed: 1, ErrorRate: -1})
	create := func() {
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(`{"customer":"a","items":[{"sku":"pizza","qty":1}]}`)))
		if rec.Code != http.StatusCreated {
			t.Fatalf("create: status %d", rec.Code)
		}
	}
	create()
	svc.sleep = func(context.Context, time.Duration) bool {
		create() // arrives while the lookup waits
		return true
	}
	rec := httptest.NewRecorder()
	svc.ServeHTTP(rec, httptest.NewRequest("GET", "/orders?customer=a", nil))
	var ids []string
	for _, o := range decode(t, rec.Body.String()).(map[string]any)["orders"].([]any) {
		ids = append(ids, o.(map[string]any)["id"].(string))
	}
	if want := []string{"ord-000001"}; !cmp.Equal(ids, want) {
		t.Errorf("slow lookup answered %v, want %v (the state when it arrived)", ids, want)
	}
}

// TestErrorsDeterministic checks version 2's 500s on GET /orders/{id}: their
// share follows ErrorRate, the same seed gives the same pattern even when
// other requests draw noise in between, and no other endpoint fails.
func TestErrorsDeterministic(t *testing.T) {
	t.Parallel()
	pattern := func(opts Options, interleave bool) (string, int) {
		svc := New(opts)
		var b strings.Builder
		fails := 0
		for i := 0; i < 1000; i++ {
			if interleave {
				for _, path := range []string{"/menu", "/analytics", "/orders?customer=x"} {
					rec := httptest.NewRecorder()
					svc.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
					if rec.Code != http.StatusOK {
						t.Fatalf("GET %s: status %d, want 200", path, rec.Code)
					}
				}
			}
			rec := httptest.NewRecorder()
			svc.ServeHTTP(rec, httptest.NewRequest("GET", "/orders/ord-000001", nil))
			switch rec.Code {
			case http.StatusInternalServerError:
				fails++
				b.WriteByte('x')
			case http.StatusNotFound:
				b.WriteByte('.')
			default:
				t.Fatalf("status %d, want 404 or 500", rec.Code)
			}
		}
		return b.String(), fails
	}
	tests := []struct {
		name               string
		opts               Options
		minFails, maxFails int
	}{
		{"v1 never fails", Options{Version: 1, Seed: 9, ErrorRate: 1}, 0, 0},
		{"v2 default rate", Options{Version: 2, Seed: 9, SlowDelay: -1}, 1, 30},
		{"v2 quarter", Options{Version: 2, Seed: 9, SlowDelay: -1, ErrorRate: 0.25}, 200, 300},
		{"v2 always", Options{Version: 2, Seed: 9, SlowDelay: -1, ErrorRate: 1}, 1000, 1000},
		{"v2 turned off", Options{Version: 2, Seed: 9, SlowDelay: -1, ErrorRate: -1}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p1, fails := pattern(tt.opts, false)
			if fails < tt.minFails || fails > tt.maxFails {
				t.Errorf("%d of 1000 lookups failed, want %d to %d", fails, tt.minFails, tt.maxFails)
			}
			if p2, _ := pattern(tt.opts, true); p2 != p1 {
				t.Errorf("same seed, different failure pattern when other requests come in between")
			}
		})
	}
}

func TestCreatedAtKeepsNanoseconds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), "2025-01-02T03:04:05.000000000Z"},
		{time.Date(2025, 1, 2, 3, 4, 5, 120000000, time.UTC), "2025-01-02T03:04:05.120000000Z"},
		{time.Date(2025, 1, 2, 4, 4, 5, 7, time.FixedZone("CET", 3600)), "2025-01-02T03:04:05.000000007Z"},
	}
	for _, tt := range tests {
		svc := New(Options{Now: func() time.Time { return tt.at }})
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(`{"customer":"a","items":[{"sku":"pizza","qty":1}]}`)))
		got := decode(t, rec.Body.String()).(map[string]any)["created_at"]
		if got != tt.want {
			t.Errorf("created_at for %v = %v, want %s", tt.at, got, tt.want)
		}
		if _, err := time.Parse(time.RFC3339Nano, tt.want); err != nil {
			t.Errorf("%s is not RFC 3339: %v", tt.want, err)
		}
	}
}

func TestNewPanicsOnInvalidOptions(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New(Version: 3) did not panic")
		}
	}()
	New(Options{Version: 3})
}
