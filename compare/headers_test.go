package compare

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/understudy-dev/understudy/exchange"
)

func TestHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		p, c http.Header
		want []brief
	}{
		{
			name: "default ignore list",
			p:    http.Header{"Date": {"Mon"}, "X-Request-Id": {"1"}, "Server-Timing": {"db;dur=1"}, "Age": {"1"}, "X-B3-Traceid": {"a"}},
			c:    http.Header{"Date": {"Tue"}, "X-Request-Id": {"2"}, "Server-Timing": {"db;dur=2"}, "Age": {"9"}, "X-B3-Traceid": {"b"}},
		},
		{
			name: "names are case-insensitive",
			p:    http.Header{"etag": {`"1"`}, "cache-control": {"no-store"}},
			c:    http.Header{"ETag": {`"2"`}, "Cache-Control": {"no-store"}},
			want: []brief{{"header.Etag", Changed, `"1"`, `"2"`}},
		},
		{
			name: "only the candidate's names not canonical",
			p:    http.Header{"Etag": {`"1"`}, "Vary": {"Accept"}},
			c:    http.Header{"Etag": {`"2"`}, "vary": {"Accept"}, "x-b3-spanid": {"c"}, "X-NEW": {"1"}},
			want: []brief{{"header.Etag", Changed, `"1"`, `"2"`}, {"header.X-New", Added, "", "1"}},
		},
		{
			name: "ignored prefixes in any case",
			cfg:  Config{IgnoreHeaders: []string{"x-debug-*"}},
			p:    http.Header{"X-Debug-Node": {"a"}, "X-B3-Spanid": {"a"}, "X-Debu": {"1"}},
			c:    http.Header{"X-Debug-Node": {"b"}, "X-B3-Spanid": {"b"}, "X-Debu": {"2"}},
			want: []brief{{"header.X-Debu", Changed, "1", "2"}},
		},
		{
			name: "added and removed",
			p:    http.Header{"X-Old": {"1"}},
			c:    http.Header{"X-New": {"1"}},
			want: []brief{{"header.X-New", Added, "", "1"}, {"header.X-Old", Removed, "1", ""}},
		},
		{
			name: "multiple values joined",
			p:    http.Header{"Vary": {"Accept", "Origin"}},
			c:    http.Header{"Vary": {"Accept"}},
			want: []brief{{"header.Vary", Changed, "Accept, Origin", "Accept"}},
		},
		{
			name: "content type compared as a media type",
			p:    http.Header{"Content-Type": {"application/json; charset=utf-8"}},
			c:    http.Header{"Content-Type": {"application/json;charset=UTF-8"}},
		},
		{
			name: "content type change",
			p:    http.Header{"Content-Type": {"application/json"}},
			c:    http.Header{"Content-Type": {"text/plain"}},
			want: []brief{{"header.Content-Type", Changed, "application/json", "text/plain"}},
		},
		{
			name: "config extends the defaults",
			cfg:  Config{IgnoreHeaders: []string{"etag", "X-Debug-*"}},
			p:    http.Header{"Etag": {"1"}, "Date": {"Mon"}, "X-Debug-Node": {"a"}},
			c:    http.Header{"Etag": {"2"}, "Date": {"Tue"}, "X-Debug-Node": {"b"}},
		},
		{
			name: "config replaces the defaults",
			cfg:  Config{IgnoreHeaders: []string{"Etag"}, ReplaceIgnoreHeaders: true},
			p:    http.Header{"Etag": {"1"}, "Date": {"Mon"}},
			c:    http.Header{"Etag": {"2"}, "Date": {"Tue"}},
			want: []brief{{"header.Date", Changed, "Mon", "Tue"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, c := answer(200, "{}"), answer(200, "{}")
			p.Header, c.Header = tt.p, tt.c
			res := mustEngine(t, tt.cfg).Compare(pairOf("GET", "/x", p, c))
			got := briefs(res.Headers)
			if tt.want == nil {
				tt.want = []brief{}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("header differences (-want +got):\n%s", diff)
			}
			if res.Differs != (len(tt.want) > 0) {
				t.Errorf("Differs = %v, want %v", res.Differs, len(tt.want) > 0)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	res := mustEngine(t, Config{}).Compare(pairOf("GET", "/x", answer(200, "{}"), answer(404, "{}")))
	want := []brief{{"status", Changed, "200", "404"}}
	if diff := cmp.Diff(want, briefs(res.Status)); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if !res.Differs {
		t.Error("Differs = false, want true")
	}
}

// TestRealServers runs the same request against two real HTTP servers
// that differ in one JSON field and in the headers net/http sets on its
// own (Date, Content-Length): only the field may show up.
func TestRealServers(t *testing.T) {
	t.Parallel()
	serve := func(price string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Request-Id", r.URL.Path+price)
			io.WriteString(w, `{"id":"ord-1","price":`+price+`}`)
		}))
	}
	v1, v2 := serve("12.50"), serve("12.5000001")
	defer v1.Close()
	defer v2.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	get := func(base string) exchange.Response {
		start := time.Now()
		resp, err := client.Get(base + "/orders/ord-1")
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return exchange.Response{Status: resp.StatusCode, Header: resp.Header, Body: body, Size: int64(len(body)), Latency: time.Since(start)}
	}
	res := mustEngine(t, Config{}).Compare(pairOf("GET", "/orders/ord-1", get(v1.URL), get(v2.URL)))
	want := []brief{{"$.price", Changed, "12.50", "12.5000001"}}
	if diff := cmp.Diff(want, briefs(res.Differences())); diff != "" {
		t.Errorf("differences (-want +got):\n%s", diff)
	}
	if res.Endpoint != (Endpoint{"GET", "/orders/{id}"}) {
		t.Errorf("endpoint = %v, want GET /orders/{id}", res.Endpoint)
	}
}

func TestIgnoreHeaderValidation(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "*", "X Y", "X:Y"} {
		err := Config{IgnoreHeaders: []string{"Ok", bad}}.Validate()
		if err == nil || !contains(err.Error(), "ignore_headers[1]") {
			t.Errorf("IgnoreHeaders %q: error %v, want one naming ignore_headers[1]", bad, err)
		}
	}
}

// FuzzIsCanonicalKey: the quick check agrees with net/http.
func FuzzIsCanonicalKey(f *testing.F) {
	for _, k := range []string{"", "Content-Type", "content-type", "X-B3-Traceid", "X-1abc", "X-1Abc", "-a", "A--B", "Ab_c", "a b", "ÄB"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		if got, want := isCanonicalKey(k), http.CanonicalHeaderKey(k) == k; got != want {
			t.Fatalf("isCanonicalKey(%q) = %v, want %v", k, got, want)
		}
	})
}
