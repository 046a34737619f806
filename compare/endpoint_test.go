package compare

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/understudy-dev/understudy/exchange"
)

func TestAutomaticTemplates(t *testing.T) {
	t.Parallel()
	tests := []struct{ path, want string }{
		{"/", "/"},
		{"", "/"},
		{"/orders", "/orders"},
		{"/orders?page=2", "/orders"},
		{"/orders/123", "/orders/{id}"},
		{"/orders/ord-000123/items/7", "/orders/{id}/items/{id}"},
		{"/orders/ord-1", "/orders/{id}"},
		{"/users/6f1c2a9e-8d3b-4c5e-9f7a-1b2c3d4e5f60", "/users/{id}"},
		{"/blobs/deadbeefcafef00d1234", "/blobs/{id}"},
		{"/objects/507f1f77bcf86cd799439011", "/objects/{id}"},
		{"/api/v1/orders", "/api/v1/orders"},
		{"/api/v2/oauth2/token", "/api/v2/oauth2/token"},
		{"/days/2024-05-01", "/days/{id}"},
		{"/people/ada@example.com", "/people/{id}"},
		{"/tokens/dGhpcyBpcyBhIHRva2VuIDEy", "/tokens/{id}"},
		{"http://shop.example/orders/42?x=1", "/orders/{id}"},
		{"/orders/", "/orders/"},
	}
	tm := newTemplater(nil, 32, 500)
	for _, tt := range tests {
		if got := tm.template("GET", tt.path, true); got != tt.want {
			t.Errorf("template(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestConfiguredRoutesWin(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{Routes: []string{"/orders/{order}/items/{sku}", "/files/{path...}", "/v1/{name}"}})
	tests := []struct{ url, want string }{
		{"/orders/7/items/ABC", "/orders/{order}/items/{sku}"},
		{"/files/a/b/c.txt", "/files/{path...}"},
		{"/files", "/files"},
		{"/v1/alice", "/v1/{name}"},
		{"/v1/alice/x", "/v1/alice/x"},
	}
	for _, tt := range tests {
		got := e.Compare(pairOf("get", tt.url, answer(200, "{}"), answer(200, "{}"))).Endpoint
		if want := (Endpoint{"GET", tt.want}); got != want {
			t.Errorf("%s: endpoint %v, want %v", tt.url, got, want)
		}
	}
}

func TestRouteValidation(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"orders", "/orders/{}", "/orders/x{id}", "/files/{p...}/x", "/a/{b"} {
		err := Config{Routes: []string{bad}}.Validate()
		if err == nil || !contains(err.Error(), "routes[0]") {
			t.Errorf("route %q: error %v, want one naming routes[0]", bad, err)
		}
	}
}

func TestHighCardinalitySegments(t *testing.T) {
	t.Parallel()
	tm := newTemplater(nil, 3, 500)
	var got []string
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin", "alice"} {
		got = append(got, tm.template("GET", "/users/"+name+"/cart", true))
	}
	want := []string{"/users/alice/cart", "/users/bob/cart", "/users/carol/cart", "/users/{id}/cart", "/users/{id}/cart", "/users/alice/cart"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("templates = %v, want %v", got, want)
	}
	// Without learning, unseen values are left alone while there is room.
	tm2 := newTemplater(nil, 3, 500)
	tm2.template("GET", "/users/alice", false)
	if got := tm2.template("GET", "/users/bob", true); got != "/users/bob" {
		t.Errorf("template = %q, want /users/bob", got)
	}
}

func TestMaxEndpointsFoldsIntoOther(t *testing.T) {
	t.Parallel()
	e := mustEngine(t, Config{MaxEndpoints: 3})
	for _, p := range []string{"/a", "/b", "/c", "/d", "/a"} {
		e.Observe(pairOf("GET", p, answer(200, "{}"), answer(200, "{}")))
	}
	r := e.Report()
	var got []string
	for _, ep := range r.Endpoints {
		got = append(got, fmt.Sprintf("%s %s=%d", ep.Method, ep.Route, ep.Pairs))
	}
	want := []string{"* (other)=2", "GET /a=2", "GET /b=1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("endpoints = %v, want %v", got, want)
	}
}

func TestGRPCEndpointNotTemplated(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	grpc := http.Header{"Content-Type": {"application/grpc+proto"}}
	for _, path := range []string{
		"/shop.v1.OrderService/Place",
		"/shop.v1.OrderService/Get",
		"/grpc.testing.TestService/UnaryCall",
		"/acme.payments.v20240501.Ledger/Post123",
	} {
		x := &exchange.Exchange{Request: exchange.Request{Method: "POST", URL: path, Header: grpc}}
		if got := e.endpoint(x, true); got.Route != path || got.Method != "POST" {
			t.Errorf("endpoint of a gRPC call to %s = %v, want POST %s", path, got, path)
		}
	}
	// The same path without a gRPC Content-Type is templated as ever.
	x := &exchange.Exchange{Request: exchange.Request{Method: "POST", URL: "/acme.payments.v20240501.Ledger/Post123"}}
	if got := e.endpoint(x, true); got.Route == x.Request.URL {
		t.Errorf("a plain POST to %s kept its path: %v", x.Request.URL, got)
	}
}

// TestLearnedTemplatesStay checks that the template remembered for a
// learned path is the one the tree still gives it, however much was
// learned after it: high-cardinality positions folding, the budget
// running out, other methods.
func TestLearnedTemplatesStay(t *testing.T) {
	tm := newTemplater(nil, 3, 4) // budget 12 literals
	var paths []string
	for i := range 40 {
		paths = append(paths, fmt.Sprintf("/shop%d/items/x%c/detail?q=%d", i%7, 'a'+rune(i%5), i), fmt.Sprintf("/u/%d/name%c", i, 'a'+rune(i%9)))
	}
	first := map[string]string{}
	for _, m := range []string{"GET", "POST"} {
		for _, p := range paths {
			got := tm.template(m, p, true)
			if f, ok := first[m+p]; ok && f != got {
				t.Fatalf("%s %s: %q, first %q", m, p, got, f)
			}
			first[m+p] = got
		}
	}
	if len(tm.learned["GET"]) == 0 {
		t.Fatal("nothing remembered")
	}
	for _, m := range []string{"GET", "POST"} {
		for _, p := range paths {
			tm.mu.Lock()
			walked := tm.walk(m, splitPath(requestPath(p)), false)
			tm.mu.Unlock()
			if got := tm.template(m, p, false); got != walked || got != first[m+p] {
				t.Errorf("%s %s: remembered %q, tree %q, first %q", m, p, got, walked, first[m+p])
			}
		}
	}
}
