package demo

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzCreateOrder feeds arbitrary bodies to POST /orders: the answer is
// always 201 with a consistent order or 400 with a JSON error, never a panic
// or a 500.
func FuzzCreateOrder(f *testing.F) {
	for _, seed := range []string{
		`{"customer":"a","items":[{"sku":"pizza","qty":2}]}`,
		`{"customer":"a","items":[{"sku":"dip","qty":1},{"sku":"soda","qty":2}],"synthetic":true}`,
		`{"customer":"a","items":[{"sku":"pizza","qty":0}]}`,
		`{"customer":"a","items":[{"sku":"pizza","qty":99999999999999999999}]}`,
		`{"customer":"","items":null}`,
		`null`, `[]`, `{`, ``, `{"items":[{}]}`, `{"customer":"\u0000","items":[{"sku":"soda","qty":1000}]}`,
	} {
		f.Add(seed)
	}
	svc := New(Options{Version: 2, Seed: 1, Now: fixedNow, SlowDelay: -1, ErrorRate: -1, MaxOrders: 10})
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, httptest.NewRequest("POST", "/orders", strings.NewReader(body)))
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type = %q, want application/json", ct)
		}
		got := decode(t, rec.Body.String()).(map[string]any)
		switch rec.Code {
		case http.StatusCreated:
			sum := 0.0
			for _, it := range got["items"].([]any) {
				l := it.(map[string]any)
				if q := l["qty"].(float64); q < 1 || q > maxQty {
					t.Fatalf("accepted qty %v", q)
				}
				sum += l["lineTotal"].(float64)
			}
			if total := got["total"].(float64); fmt.Sprintf("%.2f", total) != fmt.Sprintf("%.2f", sum) {
				t.Fatalf("v2 total %v is not the sum of its line totals %v", total, sum)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if msg, _ := got["error"].(string); msg == "" {
				t.Fatalf("status %d without an error message: %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d, want 201 or 400: %s", rec.Code, rec.Body)
		}
	})
}
