package capture

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/understudy-dev/understudy/exchange"
)

// The calls a service made to its dependencies are redacted like the
// client's request, and the secrets found in them, or in the client's
// request, are scrubbed from every call and answer whatever their names:
// the primary's own API key to the payment service, echoed back in the
// dependency's answer, and the client's password passed on in a field of
// another name. The exchange the proxy holds is not written into.
func TestRedactOutboundCalls(t *testing.T) {
	const (
		clientPW = "client-pw-0a1b2c"
		apiKey   = "sk_live_0123456789"
		token    = "pay-token-abcdef"
	)
	callBody := []byte(`{"amount": 9.99, "hash_input": "` + clientPW + `", "token": "` + token + `"}`)
	echo := []byte(`{"seen_key": "` + apiKey + `", "seen": "` + token + `", "input": "` + clientPW + `"}`)
	call := exchange.OutboundCall{
		Side: exchange.Primary, Dependency: "payments", Method: "POST", URL: "/charges?api_key=" + apiKey,
		Header: http.Header{"Authorization": {"Bearer " + apiKey}, "Content-Type": {"application/json"}},
		Body:   callBody, BodySize: int64(len(callBody)),
		Response: exchange.Response{Side: exchange.Primary, Status: 201, Header: http.Header{"Content-Type": {"application/json"}, "X-Seen": {apiKey}}, Body: echo},
	}
	cand := call
	cand.Side = exchange.Candidate
	cand.Response.Error = "egress: the primary's call with token " + token + " was evicted"
	x := exchange.Exchange{
		Request: exchange.Request{Method: "POST", URL: "/orders", Header: http.Header{"Content-Type": {"application/json"}},
			Body: []byte(`{"password": "` + clientPW + `"}`)},
		Primary:  exchange.Response{Status: 201},
		Outbound: []exchange.OutboundCall{call, cand},
	}
	orig := x
	shown := x
	(&Redactor{}).Redact(&shown)
	if &shown.Outbound[0] == &orig.Outbound[0] || !bytes.Equal(orig.Outbound[0].Body, callBody) || orig.Outbound[0].Header.Get("Authorization") != "Bearer "+apiKey {
		t.Fatal("Redact wrote into the outbound calls the proxy holds")
	}
	b, err := msgpack.Marshal(shown)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{clientPW, apiKey, token} {
		if i := bytes.Index(b, []byte(s)); i >= 0 {
			t.Errorf("redacted exchange holds %q: ...%q...", s, b[max(0, i-60):min(len(b), i+len(s)+20)])
		}
	}
	if got := string(shown.Outbound[0].Body); !bytes.Contains([]byte(got), []byte(`"amount": 9.99`)) {
		t.Errorf("the call's body lost what is no secret: %s", got)
	}
}
