package compare

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/understudy-dev/understudy/exchange"
)

// answer builds a successful JSON response; hdr holds name, value pairs.
func answer(status int, body string, hdr ...string) exchange.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return exchange.Response{Status: status, Header: h, Body: []byte(body), Size: int64(len(body)), Latency: 10 * time.Millisecond}
}

// textAnswer builds a successful response with a given content type.
func textAnswer(ct, body string) exchange.Response {
	r := answer(200, body)
	r.Header.Set("Content-Type", ct)
	return r
}

func failed(msg string, timeout bool) exchange.Response {
	return exchange.Response{Error: msg, Timeout: timeout, Latency: time.Second}
}

// pairOf builds an exchange without a secondary.
func pairOf(method, url string, p, c exchange.Response) *exchange.Exchange {
	p.Side, c.Side = exchange.Primary, exchange.Candidate
	return &exchange.Exchange{
		Request:   exchange.Request{ID: "x", Method: method, URL: url, Header: http.Header{}},
		Primary:   p,
		Candidate: c,
	}
}

// tripleOf builds an exchange with a secondary.
func tripleOf(method, url string, p, s, c exchange.Response) *exchange.Exchange {
	x := pairOf(method, url, p, c)
	s.Side = exchange.Secondary
	x.Secondary = &s
	return x
}

func mustEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// diffOf compares two JSON bodies with cfg and returns the body
// differences.
func diffOf(t testing.TB, cfg Config, p, c string) []Difference {
	t.Helper()
	res := mustEngine(t, cfg).Compare(pairOf("GET", "/x", answer(200, p), answer(200, c)))
	return res.Body
}

// brief is the comparable part of a Difference.
type brief struct {
	Path      string
	Kind      Kind
	Primary   string
	Candidate string
}

func briefs(ds []Difference) []brief {
	out := make([]brief, 0, len(ds))
	for _, d := range ds {
		out = append(out, brief{d.Path, d.Kind, d.Primary, d.Candidate})
	}
	return out
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func newCollector(b Budget) *collector { return &collector{budget: newBudget(b)} }

// diffDocs diffs two parsed documents of format f within the default
// budget.
func diffDocs(f format, a, b any) bodyDiff {
	c := newCollector(Budget{}.withDefaults())
	f.diff(a, b, c)
	return c.done()
}
