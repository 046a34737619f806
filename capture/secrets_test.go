package capture

import (
	"net/http"
	"strings"
	"testing"

	"github.com/understudy-dev/understudy/exchange"
)

// testRedactor is the configuration the secret-carrying samples assume.
func testRedactor() *Redactor {
	return &Redactor{
		Headers:     []string{"X-Internal-Key"},
		QueryParams: []string{"sig"},
		FieldNames:  []string{"national_id"},
		FieldPaths:  []string{"$.card.number", "$.items[*].pan"},
	}
}

// canary is plain data next to the secrets; it must survive redaction,
// which proves the files are searched in a form the secrets would show in.
const canary = "visible-canary"

// secretExchange returns an exchange carrying a secret in every place the
// redactor covers, and those secrets.
func secretExchange() (*ExchangeRecord, []string) {
	secrets := []string{
		"sec-auth-1111", "sec-proxy-2222", "sec-cookie-3333", "sec-hdr-4444",
		"sec-apikey-5555", "sec-query-6666", "sec-sig-7777", "sec-pw-8888",
		"sec-card-9999", "sec-setcookie-aaaa", "sec-token-bbbb", "sec-cvv-cccc",
		"sec-loc-dddd", "sec-trunc-eeee", "sec-trailer-ffff", "sec-form-gggg",
		"sec-malformed-hhhh", "sec-nid-iiii", "sec-esc-jjjj", "sec-pan-kkkk",
		"sec-frag-llll", "sec-ndjson-mmmm", "sec-obj-nnnn",
	}
	rec := &ExchangeRecord{
		Endpoint: "POST /login",
		Exchange: exchange.Exchange{
			Request: exchange.Request{
				ID: "r1", Method: http.MethodPost, Host: "shop",
				URL: "/login?access_token=sec-query-6666&page=2&sig=sec-sig-7777#id_token=sec-frag-llll",
				Header: http.Header{
					"Authorization":       {"Bearer sec-auth-1111"},
					"Proxy-Authorization": {"Basic sec-proxy-2222"},
					"Cookie":              {"session=sec-cookie-3333"},
					"X-Internal-Key":      {"sec-hdr-4444"},
					"X-Api-Key":           {"sec-apikey-5555"},
					"Content-Type":        {"application/json"},
				},
				Body: []byte(`{"user":"` + canary + `","password":"sec-pw-8888",` +
					`"card":{"number":"sec-card-9999","holder":"Ann"},"nationalId":"sec-nid-iiii",` +
					`"pass\u0077ord":"sec-esc-jjjj","items":[{"pan":"sec-pan-kkkk"}],` +
					`"secret":{"nested":["sec-obj-nnnn"]}}`),
			},
			Primary: exchange.Response{
				Side: exchange.Primary, Status: 200,
				Header: http.Header{
					"Set-Cookie":   {"sid=sec-setcookie-aaaa; HttpOnly"},
					"Location":     {"https://shop/next?refresh_token=sec-loc-dddd&x=1"},
					"Content-Type": {"application/json; charset=utf-8"},
				},
				Body: []byte(`{"token":"sec-token-bbbb","items":[{"cvv":"sec-cvv-cccc"}]}`),
			},
			Secondary: &exchange.Response{
				Side: exchange.Secondary, Status: 200,
				Header:    http.Header{"Content-Type": {"application/json"}},
				Body:      []byte(`{"data":{"access_token":"sec-trunc-eeee`),
				Truncated: true,
			},
			Candidate: exchange.Response{
				Side: exchange.Candidate, Status: 200,
				Header:  http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
				Trailer: http.Header{"X-Auth-Token": {"sec-trailer-ffff"}},
				Body:    []byte("user=ann&password=sec-form-gggg"),
			},
		},
	}
	return rec, secrets
}

// secretExchange2 carries secrets in bodies that are not well-formed.
func secretExchange2() (*ExchangeRecord, []string) {
	rec := &ExchangeRecord{
		Exchange: exchange.Exchange{
			Request: exchange.Request{ID: "r2", Method: http.MethodGet, URL: "/x"},
			Primary: exchange.Response{
				Header: http.Header{"Content-Type": {"application/json"}},
				Body:   []byte(`{"a": tru e, "secret": "sec-malformed-hhhh"}`),
			},
			Candidate: exchange.Response{
				Body: []byte("{\"ok\":1}\n{\"token\":\"sec-ndjson-mmmm\"}\n"),
			},
		},
	}
	return rec, []string{"sec-malformed-hhhh", "sec-ndjson-mmmm"}
}

// secretSynth returns a synthetic result carrying secrets in its URL and
// tags.
func secretSynth() (*SynthRecord, []string) {
	return &SynthRecord{
		RunID: "run-1", Scenario: canary, Journey: "pay", JourneyID: "j1", Step: "charge",
		Method: http.MethodPost,
		URL:    "https://bot:sec-userinfo-oooo@shop.example/pay?api_key=sec-synthq-pppp&n=1",
		Tags:   map[string]string{"Authorization": "Bearer sec-tag-qqqq", "X-Synthetic": "true"},
	}, []string{"sec-userinfo-oooo", "sec-synthq-pppp", "sec-tag-qqqq"}
}

// What the proxy set on a side's request (a set_headers credential of
// its own) is stored redacted, and scrubbed from that side's echo.
func TestRedactInjected(t *testing.T) {
	t.Parallel()
	x := &exchange.Exchange{
		Request: exchange.Request{Method: "GET", URL: "/echo", Header: http.Header{}},
		Primary: exchange.Response{Status: 200, Injected: map[string]string{"Host": "primary:80"}},
		Candidate: exchange.Response{Status: 200,
			Injected: map[string]string{"Host": "candidate:80", "Authorization": "Bearer proxy-own-token-123", "X-Shadow-Request": "1"},
			Header:   http.Header{"Content-Type": {"application/json"}},
			Body:     []byte(`{"seen":"Bearer proxy-own-token-123"}`)},
	}
	orig := x.Candidate.Injected
	(&Redactor{}).Redact(x)
	if got := x.Candidate.Injected["Authorization"]; got != Redacted {
		t.Errorf("injected Authorization stored as %q, want %q", got, Redacted)
	}
	if x.Candidate.Injected["Host"] != "candidate:80" || x.Candidate.Injected["X-Shadow-Request"] != "1" || x.Primary.Injected["Host"] != "primary:80" {
		t.Errorf("other injections changed: %v / %v", x.Primary.Injected, x.Candidate.Injected)
	}
	if orig["Authorization"] != "Bearer proxy-own-token-123" {
		t.Error("the proxy's own map was written into")
	}
	if strings.Contains(string(x.Candidate.Body), "proxy-own-token-123") {
		t.Errorf("the echoed token survived in the body: %s", x.Candidate.Body)
	}
}
