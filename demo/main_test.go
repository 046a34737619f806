package demo

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTime is the fixed clock of deterministic instances.
var testTime = time.Date(2025, 3, 14, 12, 30, 0, 123456789, time.UTC)

func fixedNow() time.Time { return testTime }

// quiet returns deterministic options with version 2's delay and errors
// turned off, so answers depend only on the requests.
func quiet(version int) Options {
	return Options{Version: version, Seed: 42, Now: fixedNow, SlowDelay: -1, ErrorRate: -1}
}

// serveTest serves svc on an httptest server closed at the end of the test.
func serveTest(t testing.TB, svc http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return srv
}

// answer is one decoded HTTP answer.
type answer struct {
	Status int
	Header http.Header
	Raw    string
	Body   any // decoded JSON, or nil when the body is not JSON
}

// do sends one request and decodes the answer; header is "Name: value" pairs.
func do(t testing.TB, client *http.Client, method, url, body string, header ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, url, err)
	}
	for _, h := range header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	a := answer{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.Body); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, url, err, raw)
		}
	}
	return a
}

// decode parses a JSON literal written in a test.
func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON in test: %v\n%s", err, s)
	}
	return v
}
